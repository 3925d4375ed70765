import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../src/gateway/index.js';
import { startMerchant } from '../src/merchants/server.js';
import { rawExchange } from './helpers/hostile-client.js';

/** Request targets no URL parser accepts as written (curl --request-target sends them as given). */
const MALFORMED_TARGETS = ['http://[/x', '//x:y@[', 'http://[::1', 'http://a b/', 'http://%zz/', 'https://[fe80::1%]/x', '//[/sim/payments'];

/** Requests llhttp refuses before any handler sees them: Node itself must answer 400 and keep listening. */
const MALFORMED_REQUESTS = [
  'GET /\u0000 HTTP/1.1\r\nHost: h\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
  'GET / HTTP/9.9\r\nHost: h\r\n\r\n',
  'GET / HTTP/1.1\nHost: h\n\n',
];

async function assertSurvives(t: TestContext, name: string, port: number, healthy: string): Promise<void> {
  for (const target of MALFORMED_TARGETS) {
    const answer = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400 /, `${name}: ${target} got ${JSON.stringify(answer.slice(0, 80))}`);
    const post = await rawExchange(port, `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
    assert.match(post, /^HTTP\/1\.1 400 /, `${name}: POST ${target}`);
  }
  for (const request of MALFORMED_REQUESTS) {
    const answer = await rawExchange(port, request);
    assert.match(answer, /^HTTP\/1\.1 400 /, `${name}: ${JSON.stringify(request)} got ${JSON.stringify(answer.slice(0, 80))}`);
  }
  // Still up, and still answering properly on a fresh connection.
  const after = await rawExchange(port, `GET ${healthy} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  assert.match(after, /^HTTP\/1\.1 200 /, `${name} after the malformed requests`);
  void t;
}

test('malformed request targets get 400 from the gateway and leave it up', async (t) => {
  const gateway = await startGateway({ port: 0 });
  t.after(() => gateway.close());
  await assertSurvives(t, 'gateway', Number(new URL(gateway.url).port), '/sim/payments');
});

test('malformed request targets get 400 from the sample merchant and leave it up', async (t) => {
  const merchant = await startMerchant({ port: 0 });
  t.after(() => merchant.close());
  await assertSurvives(t, 'merchant', Number(new URL(merchant.url).port), '/stock');
});
