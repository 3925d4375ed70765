import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_API_SECRET, MAX_BODY_BYTES, startGateway } from '../src/gateway/index.js';
import { startMerchant } from '../src/merchants/server.js';
import { rawExchange } from './helpers/hostile-client.js';
import { assertV1, assertV2 } from './helpers/gateway-rest-schemas.js';

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

/** An answer read off the wire: its status line, headers and JSON body. */
function parsed(answer: string): { status: number; close: boolean; body: Record<string, unknown> } {
  const split = answer.indexOf('\r\n\r\n');
  const head = answer.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
  return { status, close: /\r\nconnection: close/i.test(head), body: JSON.parse(Buffer.from(answer.slice(split + 4), 'latin1').toString('utf8')) as Record<string, unknown> };
}

test("bad input gets the envelope of the API it was meant for, V1 {code: -1, message, response: null} or V2 {type, message}, and the gateway keeps serving", async (t) => {
  const gateway = await startGateway({ port: 0 });
  t.after(() => gateway.close());
  const port = Number(new URL(gateway.url).port);
  const v2Auth = `Authorization: PortOne ${DEFAULT_API_SECRET}\r\n`;
  const send = async (request: string): Promise<ReturnType<typeof parsed>> => parsed(await rawExchange(port, request));
  const get = (target: string, headers = ''): Promise<ReturnType<typeof parsed>> => send(`GET ${target} HTTP/1.1\r\nHost: h\r\n${headers}Connection: close\r\n\r\n`);
  const post = (target: string, body: string, headers = ''): Promise<ReturnType<typeof parsed>> =>
    send(`POST ${target} HTTP/1.1\r\nHost: h\r\n${headers}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  const huge = 'x'.repeat(MAX_BODY_BYTES + 1);
  const chunked = (target: string, headers = ''): Promise<ReturnType<typeof parsed>> =>
    send(`POST ${target} HTTP/1.1\r\nHost: h\r\n${headers}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${huge.length.toString(16)}\r\n${huge}\r\n0\r\n\r\n`);
  const declared = (target: string, headers = ''): Promise<ReturnType<typeof parsed>> =>
    send(`POST ${target} HTTP/1.1\r\nHost: h\r\n${headers}Content-Type: application/json\r\nContent-Length: ${64 * MAX_BODY_BYTES}\r\n\r\n{`);

  const v1Cases: Array<[string, Promise<ReturnType<typeof parsed>>, number, RegExp]> = [
    ['a malformed target', get('http://[/x'), 400, /not a valid URL path/],
    ['an unknown route', get('/nowhere'), 404, /no route for GET \/nowhere/],
    ['a known path, another method', send('DELETE /users/getToken HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'), 404, /no route for DELETE/],
    ['no token', get('/payments/imp_000000000001'), 401, /no access token/],
    ['a wrong token', get('/payments/imp_000000000001', 'Authorization: Bearer 0123456789abcdef\r\n'), 401, /not valid/],
    ['wrong credentials', post('/users/getToken', '{"imp_key":"k","imp_secret":"s"}'), 401, /imp_key/],
    ['not JSON', post('/users/getToken', '{nope'), 400, /neither JSON nor a form/],
    ['a body over the limit, announced', declared('/users/getToken'), 413, /the body is over/],
    ['a body over the limit, chunked', chunked('/users/getToken'), 413, /the body is over/],
  ];
  for (const [what, answer, status, message] of v1Cases) {
    const { status: got, body, close } = await answer;
    assert.equal(got, status, `V1 ${what}: ${JSON.stringify(body)}`);
    assertV1('ResponseAnnotation', body);
    assert.deepEqual([body.code, body.response], [-1, null], `V1 ${what}`);
    assert.match(String(body.message), message, `V1 ${what}`);
    if (status === 413) assert.ok(close, 'the unread rest of the body is not taken for the next request');
  }

  // V2: errors of documented operations are validated against the operation's own error schema.
  const v2Cases: Array<[string, Promise<ReturnType<typeof parsed>>, number, string, string | null]> = [
    ['a malformed target', get('//[/payments/x', v2Auth), 400, 'INVALID_REQUEST', null],
    ['an unknown route', get('/nowhere', v2Auth), 404, 'NOT_FOUND', null],
    ['a wrong secret', get('/payments/p-1', 'Authorization: PortOne wrong\r\n'), 401, 'UNAUTHORIZED', 'getPayment'],
    ['no secret on a V2-only route', post('/payments/p-1/pre-register', '{"totalAmount":1000}'), 401, 'UNAUTHORIZED', 'preRegisterPayment'],
    ['not JSON', post('/payments/p-1/cancel', '{nope', v2Auth), 400, 'INVALID_REQUEST', 'cancelPayment'],
    ['a body over the limit, announced', declared('/payments/p-1/pre-register', v2Auth), 413, 'INVALID_REQUEST', null],
    ['a body over the limit, chunked', chunked('/payments/p-1/cancel', v2Auth), 413, 'INVALID_REQUEST', null],
  ];
  for (const [what, answer, status, type, operation] of v2Cases) {
    const { status: got, body } = await answer;
    assert.equal(got, status, `V2 ${what}: ${JSON.stringify(body)}`);
    assert.deepEqual(Object.keys(body).sort(), ['message', 'type'], `V2 ${what}: ${JSON.stringify(body)}`);
    assert.equal(body.type, type, `V2 ${what}`);
    assert.equal(typeof body.message, 'string');
    if (operation !== null) assertV2(operation, status, body);
  }

  const token = await post('/users/getToken', '{"imp_key":"confirm_sim_key","imp_secret":"confirm_sim_secret"}');
  assert.equal(token.status, 200, 'still serving');
  assertV1('AuthResponse', token.body);
});
