import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import {
  buildConfirmBody,
  parseWebhookSecret,
  v1FailReason,
  V1_UNKNOWN_DETAIL,
  DIALECTS,
  type ConfirmOrder,
} from '../src/protocol/index.js';
import { fireConfirm, type FireEvents, type FireRequest, type FireResult } from '../src/fire/index.js';
import { startMerchant } from '../src/merchants/index.js';
import { UsageError } from '../src/util/errors.js';
import { TypedEmitter } from '../src/util/events.js';
import { runCli, spawnCli } from './helpers/cli.js';

const SECRET_TEXT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET_KEY_BASE64 = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const ORDER: ConfirmOrder = {
  merchantUid: 'order-1',
  impUid: 'imp_123456789012',
  amount: 1000,
  status: 'ready',
  transactionId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  timestamp: new Date('2026-11-24T10:00:00.000Z'),
};

interface RawRequest {
  requestLine: string;
  /** Header lines in the order and case they arrived. */
  headerLines: string[];
  headers: Record<string, string>;
  body: string;
}

/** Splits one HTTP/1.1 request off the front of `data`, or returns null while it is still incomplete. */
function parseRawRequest(data: Buffer): RawRequest | null {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return null;
  const [requestLine = '', ...headerLines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const bodyStart = end + 4;
  if (data.length < bodyStart + length) return null;
  return { requestLine, headerLines, headers, body: data.subarray(bodyStart, bodyStart + length).toString('utf8') };
}

/**
 * A TCP server that reads one whole HTTP request per connection and hands it and the socket to `onRequest`,
 * which may answer anything: valid HTTP, garbage, nothing, a reset. It is how the gateway's bytes are seen
 * unaltered and how a misbehaving merchant is played.
 */
async function rawServer(
  t: TestContext,
  onRequest: (socket: net.Socket, request: RawRequest) => void,
): Promise<{ url: string; requests: RawRequest[] }> {
  const sockets = new Set<net.Socket>();
  const requests: RawRequest[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const request = parseRawRequest(buffered);
      if (!request) return;
      socket.off('data', onData);
      requests.push(request);
      onRequest(socket, request);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}/confirm`, requests };
}

function answer(status: number, body = '', headers: Record<string, string> = {}): string {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Status'}`, `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** A merchant that answers every confirm with `status` and `body`. */
function answering(t: TestContext, status: number, body = '', headers: Record<string, string> = {}) {
  return rawServer(t, (socket) => socket.end(answer(status, body, headers)));
}

function assertNoAnswer(result: FireResult, kind: string): string {
  assert.equal(result.answer.kind, 'no-answer', JSON.stringify(result.answer));
  assert.ok(result.answer.kind === 'no-answer');
  assert.equal(result.answer.error, kind, result.answer.message);
  assert.equal(result.decision.proceed, false);
  assert.equal(result.decision.failReason, v1FailReason(null));
  return result.answer.message;
}

test('each dialect arrives as exactly the documented bytes and headers', async (t) => {
  const server = await answering(t, 200, 'OK');
  for (const dialect of DIALECTS) {
    const result = await fireConfirm({ url: server.url, dialect, order: ORDER });
    const received = server.requests.at(-1)!;
    assert.equal(received.requestLine, 'POST /confirm HTTP/1.1', dialect);
    assert.equal(received.body, buildConfirmBody(dialect, ORDER), dialect);
    assert.equal(result.request.body, received.body, dialect);
    assert.equal(received.headers['content-type'], 'application/json', dialect);
    assert.equal(received.headers['content-length'], String(Buffer.byteLength(received.body)), dialect);
    assert.ok(!('webhook-signature' in received.headers), `${dialect} must not be signed without a secret`);
    assert.equal(result.request.signed, false);
    assert.equal(result.decision.proceed, true, dialect);
    assert.equal(result.schemaVersion, 2);
  }
  const [v1, , , v2Old, v2New] = server.requests;
  assert.equal(v1?.body, '{"imp_uid":"imp_123456789012","merchant_uid":"order-1","status":"ready","amount":1000}');
  assert.equal(v2Old?.body, '{"payment_id":"order-1","tx_id":"0f8fad5b-d9cb-469f-a165-70867728950e","total_amount":1000}');
  assert.equal(
    v2New?.body,
    '{"type":"Transaction.Confirm","timestamp":"2026-11-24T10:00:00.000Z","data":{"paymentId":"order-1","transactionId":"0f8fad5b-d9cb-469f-a165-70867728950e","totalAmount":1000}}',
  );
});

test('a missing order is generated with fresh ids, amount 1000 and status ready', async (t) => {
  const server = await answering(t, 200);
  const first = await fireConfirm({ url: server.url });
  const second = await fireConfirm({ url: server.url, dialect: 'v2-2024-04-25' });
  assert.match(first.request.order.impUid, /^imp_\d{12}$/);
  assert.equal(first.request.order.amount, 1000);
  assert.equal(first.request.order.status, 'ready');
  assert.notEqual(first.request.order.merchantUid, second.request.order.merchantUid);
  const sent = JSON.parse(server.requests[1]!.body) as { timestamp: string; data: { paymentId: string; transactionId: string } };
  assert.equal(sent.timestamp, second.request.order.timestamp?.toISOString());
  assert.equal(sent.data.paymentId, second.request.order.merchantUid);
  assert.equal(sent.data.transactionId, second.request.order.transactionId);
});

test('V2 confirm calls are signed so the reference Standard Webhooks library accepts them', async (t) => {
  const verifier = new Webhook(SECRET_TEXT);
  const server = await answering(t, 200);
  const secret = parseWebhookSecret(SECRET_TEXT);
  for (const dialect of ['v2-2024-01-01', 'v2-2024-04-25'] as const) {
    const result = await fireConfirm({ url: server.url, dialect, order: ORDER, secret });
    const received = server.requests.at(-1)!;
    assert.deepEqual(verifier.verify(received.body, received.headers), JSON.parse(received.body), dialect);
    assert.equal(result.request.signed, true);
    assert.equal(result.request.headers['webhook-signature'], 'v1,****');
    assert.equal(result.request.headers['webhook-id'], received.headers['webhook-id']);
    assert.ok(!JSON.stringify(result).includes(SECRET_KEY_BASE64));
    assert.ok(!JSON.stringify(result).includes(received.headers['webhook-signature']!.slice(3)));
  }
  // Exact bytes given by the user are what gets signed.
  const tampered = '{"payment_id":"order-1","total_amount":1}';
  await fireConfirm({ url: server.url, dialect: 'v2-2024-01-01', secret, body: tampered });
  assert.equal(server.requests.at(-1)!.body, tampered);
  assert.deepEqual(verifier.verify(tampered, server.requests.at(-1)!.headers), JSON.parse(tampered));
  // A replayed id and a stale timestamp are sent as asked; the stale one fails verification.
  const staleSeconds = Math.floor(Date.now() / 1000) - 600;
  await fireConfirm({ url: server.url, dialect: 'v2-2024-01-01', secret, signOptions: { id: 'msg_replay', timestampSeconds: staleSeconds } });
  const stale = server.requests.at(-1)!;
  assert.equal(stale.headers['webhook-id'], 'msg_replay');
  assert.equal(stale.headers['webhook-timestamp'], String(staleSeconds));
  assert.throws(() => verifier.verify(stale.body, stale.headers), /timestamp/i);
});

test('a secret is not used for V1, and an unsigned V2 call is flagged', async (t) => {
  const server = await answering(t, 200);
  const v1 = await fireConfirm({ url: server.url, secret: parseWebhookSecret(SECRET_TEXT) });
  assert.ok(!('webhook-signature' in server.requests[0]!.headers));
  assert.equal(v1.request.signed, false);
  assert.match(v1.warnings.join('\n'), /not signed/);
  const v2 = await fireConfirm({ url: server.url, dialect: 'v2-2024-01-01' });
  assert.match(v2.warnings.join('\n'), /unsigned/);
  const long = await fireConfirm({ url: server.url, order: { merchantUid: 'x'.repeat(41) } });
  assert.match(long.warnings.join('\n'), /at most 40/);
});

test('content type and extra headers are sent as asked', async (t) => {
  const server = await answering(t, 200);
  await fireConfirm({ url: server.url, contentType: null, headers: { 'X-Trace': 'abc', 'Content-Type': 'text/plain' } });
  const received = server.requests[0]!;
  assert.equal(received.headers['content-type'], 'text/plain');
  assert.equal(received.headers['x-trace'], 'abc');
  await fireConfirm({ url: server.url, contentType: null });
  assert.ok(!('content-type' in server.requests[1]!.headers));
  const withAuth = await fireConfirm({ url: server.url, headers: { Authorization: 'Bearer token-123' } });
  assert.equal(server.requests[2]!.headers.authorization, 'Bearer token-123');
  assert.equal(withAuth.request.headers.authorization, '****');
});

test('the gateway records the merchant\'s reason in each dialect\'s field', async (t) => {
  const refusal = JSON.stringify({ reason: '재고 없음', errorMessage: 'sold out' });
  const refusing = await answering(t, 409, refusal, { 'Content-Type': 'application/json' });
  const v1 = await fireConfirm({ url: refusing.url });
  assert.equal(v1.decision.proceed, false);
  assert.equal(v1.decision.failReason, v1FailReason('재고 없음'));
  assert.ok(v1.answer.kind === 'http');
  assert.equal(v1.answer.status, 409);
  assert.equal(v1.answer.body, refusal);
  assert.equal(v1.answer.headers['content-type'], 'application/json');
  const v2 = await fireConfirm({ url: refusing.url, dialect: 'v2-2024-04-25' });
  assert.equal(v2.decision.failReason, 'sold out');
  assert.match(v2.decision.explanation, /errorMessage: sold out/);

  const silent = await answering(t, 500, 'Internal Server Error');
  const v1Silent = await fireConfirm({ url: silent.url });
  assert.equal(v1Silent.decision.failReason, v1FailReason(null));
  assert.ok(v1Silent.decision.failReason?.includes(V1_UNKNOWN_DETAIL));
  const v2Silent = await fireConfirm({ url: silent.url, dialect: 'v2-2024-01-01' });
  assert.equal(v2Silent.decision.failReason, null);
});

test('201 and 204 fail the payment and say that only 200 counts', async (t) => {
  for (const status of [201, 204]) {
    const server = await rawServer(t, (socket) =>
      socket.end(status === 204 ? 'HTTP/1.1 204 No Content\r\n\r\n' : answer(201, '{"ok":true}')),
    );
    const result = await fireConfirm({ url: server.url });
    assert.ok(result.answer.kind === 'http');
    assert.equal(result.answer.status, status);
    assert.equal(result.decision.proceed, false);
    assert.match(result.decision.explanation, /not 200/);
  }
});

test('a redirect is not followed and fails the payment', async (t) => {
  const target = await answering(t, 200);
  const redirecting = await answering(t, 302, '', { Location: target.url });
  const result = await fireConfirm({ url: redirecting.url });
  assert.ok(result.answer.kind === 'http');
  assert.equal(result.answer.status, 302);
  assert.equal(result.answer.headers.location, target.url);
  assert.equal(target.requests.length, 0);
  assert.equal(result.decision.proceed, false);
  assert.match(result.decision.explanation, /redirect/);
});

test('a merchant that never answers times out at the deadline', async (t) => {
  const server = await rawServer(t, () => {});
  const result = await fireConfirm({ url: server.url, timeoutMs: 300 });
  assertNoAnswer(result, 'timeout');
  assert.ok(result.answer.totalMs >= 290 && result.answer.totalMs < 3000, String(result.answer.totalMs));
  assert.match(result.decision.explanation, /timeout/);
});

test('headers in time but a body that never ends is still a timeout', async (t) => {
  const server = await rawServer(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nOK'));
  const message = assertNoAnswer(await fireConfirm({ url: server.url, timeoutMs: 300 }), 'timeout');
  assert.match(message, /HTTP 200 headers arrived/);
});

test('a closed port is refused', async () => {
  // A port that was just free: listen on it, then close it.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const result = await fireConfirm({ url: `http://127.0.0.1:${port}/confirm` });
  assert.match(assertNoAnswer(result, 'refused'), /ECONNREFUSED/);
  assert.match(result.decision.explanation, /refused/);
});

test('a reset or a close before the answer is a reset', async (t) => {
  const resetting = await rawServer(t, (socket) => socket.resetAndDestroy());
  assertNoAnswer(await fireConfirm({ url: resetting.url }), 'reset');
  const closing = await rawServer(t, (socket) => socket.destroy());
  assertNoAnswer(await fireConfirm({ url: closing.url }), 'reset');
});

test('a connection closed mid-body is a reset, even after a 200 status line', async (t) => {
  const server = await rawServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
    setTimeout(() => socket.destroy(), 20);
  });
  const message = assertNoAnswer(await fireConfirm({ url: server.url }), 'reset');
  assert.match(message, /HTTP 200 headers arrived/);
  const chunked = await rawServer(t, (socket) =>
    socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n'),
  );
  assertNoAnswer(await fireConfirm({ url: chunked.url }), 'reset');
});

test('garbage instead of HTTP is invalid-http', async (t) => {
  const garbage = await rawServer(t, (socket) => socket.end('garbage, not a status line\r\n\r\n'));
  assert.match(assertNoAnswer(await fireConfirm({ url: garbage.url }), 'invalid-http'), /garbage/);
  const badStatus = await rawServer(t, (socket) => socket.end('HTTP/1.1 2x0 OK\r\n\r\n'));
  assertNoAnswer(await fireConfirm({ url: badStatus.url }), 'invalid-http');
});

test('TLS failures are tls: plain HTTP behind https://, and a self-signed certificate', async (t) => {
  // A real HTTP server, which answers the TLS hello with a plain-text 400 as a misconfigured proxy would.
  const plain = http.createServer((_request, response) => response.end('OK'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  t.after(() => plain.close());
  const plainPort = (plain.address() as net.AddressInfo).port;
  assertNoAnswer(await fireConfirm({ url: `https://127.0.0.1:${plainPort}/confirm` }), 'tls');

  const dir = mkdtempSync(join(tmpdir(), 'confirm-sim-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const generated = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ]);
  if (generated.error || generated.status !== 0) {
    t.skip('openssl is not available to make a self-signed certificate');
    return;
  }
  const server = https.createServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (_request, response) => response.end('OK'),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  assert.match(assertNoAnswer(await fireConfirm({ url: `https://127.0.0.1:${port}/confirm` }), 'tls'), /SELF_SIGNED/);
});

test('a host name that does not resolve is dns', async () => {
  // .invalid is reserved (RFC 2606) and never resolves.
  assertNoAnswer(await fireConfirm({ url: 'http://confirm-sim-test.invalid/confirm' }), 'dns');
});

test('timings: first byte when the headers arrive, total when the body is done', async (t) => {
  const server = await rawServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n');
    setTimeout(() => socket.end('OK'), 400);
  });
  const result = await fireConfirm({ url: server.url });
  assert.ok(result.answer.kind === 'http');
  assert.equal(result.answer.body, 'OK');
  assert.ok(result.answer.ttfbMs > 0 && result.answer.ttfbMs < 300, String(result.answer.ttfbMs));
  assert.ok(result.answer.totalMs >= 390, JSON.stringify(result.answer));
});

test('only maxBodyBytes of the answer are kept, cut on a character boundary', async (t) => {
  const big = 'x'.repeat(100_000);
  const bigServer = await answering(t, 409, big);
  const kept = await fireConfirm({ url: bigServer.url });
  assert.ok(kept.answer.kind === 'http');
  assert.equal(kept.answer.body.length, 64 * 1024);
  assert.equal(kept.answer.bodyTruncated, true);
  assert.equal(kept.answer.bodyBytes, 100_000);

  const korean = await answering(t, 409, '가나');
  const cut = await fireConfirm({ url: korean.url, maxBodyBytes: 4 });
  assert.ok(cut.answer.kind === 'http');
  assert.equal(cut.answer.body, '가');
  assert.equal(cut.answer.bodyTruncated, true);
});

test('the request event comes before the answer; the caller\'s abort rejects', async (t) => {
  const seen: string[] = [];
  const server = await rawServer(t, (socket) => {
    seen.push('merchant got it');
    socket.end(answer(200));
  });
  const events = new TypedEmitter<FireEvents>();
  let announced: FireRequest | undefined;
  events.on('request', (request) => {
    seen.push('request event');
    announced = request;
  });
  const result = await fireConfirm({ url: server.url, events });
  assert.deepEqual(seen, ['request event', 'merchant got it']);
  assert.equal(announced, result.request);

  const hanging = await rawServer(t, () => {});
  const controller = new AbortController();
  const reason = new Error('user stopped');
  setTimeout(() => controller.abort(reason), 50);
  await assert.rejects(fireConfirm({ url: hanging.url, signal: controller.signal }), (error) => error === reason);
});

test('bad options are usage errors, not answers', async () => {
  await assert.rejects(fireConfirm({ url: 'not a url' }), UsageError);
  await assert.rejects(fireConfirm({ url: 'ftp://127.0.0.1/' }), UsageError);
  await assert.rejects(fireConfirm({ url: 'http://127.0.0.1:1/', timeoutMs: 0 }), UsageError);
  await assert.rejects(fireConfirm({ url: 'http://127.0.0.1:1/', headers: { 'x-bad': 'line\r\nbreak' } }), UsageError);
  await assert.rejects(
    fireConfirm({ url: 'http://127.0.0.1:1/', dialect: 'v3' as unknown as 'v1' }),
    /unknown dialect "v3"/,
  );
});

// --- against the sample merchants ---------------------------------------------------------------------------

async function startSampleMerchant(t: TestContext, options: Parameters<typeof startMerchant>[0]) {
  const merchant = await startMerchant(options);
  t.after(() => merchant.close());
  return merchant;
}

function refusalField(result: FireResult, field: 'reason' | 'errorMessage'): string {
  assert.ok(result.answer.kind === 'http');
  const value = (JSON.parse(result.answer.body) as Record<string, unknown>)[field];
  assert.equal(typeof value, 'string', result.answer.body);
  return value as string;
}

test('sample merchant: the last unit proceeds, the next buyer is refused with the merchant\'s reason', async (t) => {
  const merchant = await startSampleMerchant(t, { stock: 1, openOrders: true });
  const first = await fireConfirm({ url: merchant.confirmUrl, order: { merchantUid: 'buyer-1' } });
  assert.equal(first.decision.proceed, true, first.decision.explanation);
  const v1 = await fireConfirm({ url: merchant.confirmUrl, order: { merchantUid: 'buyer-2' } });
  assert.ok(v1.answer.kind === 'http');
  assert.equal(v1.answer.status, 409);
  const reason = refusalField(v1, 'reason');
  assert.equal(v1.decision.failReason, v1FailReason(reason));
  assert.ok(!v1.decision.failReason?.includes(V1_UNKNOWN_DETAIL));

  const v2 = await fireConfirm({ url: merchant.confirmUrl, dialect: 'v2-2024-04-25', order: { merchantUid: 'buyer-3' } });
  assert.equal(v2.decision.proceed, false);
  assert.equal(v2.decision.failReason, refusalField(v2, 'errorMessage'));
  assert.equal(merchant.stock(), 0);
});

test('sample merchant: a registered order proceeds only at its amount', async (t) => {
  const merchant = await startSampleMerchant(t, { stock: 5 });
  const created = await request(merchant.orderUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ merchant_uid: 'order-500', amount: 25_000, quantity: 1 }),
  });
  await created.body.dump();
  assert.equal(created.statusCode, 201);
  const wrongAmount = await fireConfirm({ url: merchant.confirmUrl, order: { merchantUid: 'order-500', amount: 1 } });
  assert.equal(wrongAmount.decision.proceed, false);
  const unknown = await fireConfirm({ url: merchant.confirmUrl, order: { merchantUid: 'order-404', amount: 25_000 } });
  assert.equal(unknown.decision.proceed, false);
  const right = await fireConfirm({ url: merchant.confirmUrl, order: { merchantUid: 'order-500', amount: 25_000 } });
  assert.equal(right.decision.proceed, true, right.decision.explanation);
  assert.equal(merchant.stock(), 4);
});

test('sample merchant with a secret: signed V2 proceeds; unsigned, wrongly signed and replayed are 401', async (t) => {
  const secret = parseWebhookSecret(SECRET_TEXT);
  const merchant = await startSampleMerchant(t, { stock: 10, openOrders: true, secret });
  const dialect = 'v2-2024-01-01';
  const signed = await fireConfirm({ url: merchant.confirmUrl, dialect, secret, signOptions: { id: 'msg_once' } });
  assert.equal(signed.decision.proceed, true, signed.decision.explanation);

  const otherSecret = parseWebhookSecret(`whsec_${Buffer.alloc(24, 7).toString('base64')}`);
  const refusals = [
    await fireConfirm({ url: merchant.confirmUrl, dialect }),
    await fireConfirm({ url: merchant.confirmUrl, dialect, secret: otherSecret }),
    await fireConfirm({ url: merchant.confirmUrl, dialect, secret, signOptions: { id: 'msg_once' } }),
  ];
  for (const refused of refusals) {
    assert.ok(refused.answer.kind === 'http');
    assert.equal(refused.answer.status, 401, refused.answer.body);
    assert.equal(refused.decision.failReason, refusalField(refused, 'errorMessage'));
  }
  assert.equal(merchant.stock(), 9);
});

test('cli: fire at a signing sample merchant with --secret-env and --expect proceed', async (t) => {
  const merchant = await startSampleMerchant(t, { stock: 1, openOrders: true, secret: parseWebhookSecret(SECRET_TEXT) });
  const env = { ...process.env, NO_COLOR: '1', CONFIRM_SIM_TEST_SECRET: SECRET_TEXT };
  const args = ['fire', merchant.confirmUrl, '--dialect', 'v2-2024-04-25', '--secret-env', 'CONFIRM_SIM_TEST_SECRET'];
  const sold = await runCli([...args, '--expect', 'proceed'], { env });
  assert.equal(sold.code, 0, sold.stdout + sold.stderr);
  assert.match(sold.stdout, /PROCEED/);
  const soldOut = await runCli([...args, '--expect', 'proceed'], { env });
  assert.equal(soldOut.code, 1);
  assert.match(soldOut.stdout, /HTTP 409/);
  assert.ok(!(sold.stdout + soldOut.stdout).includes(SECRET_KEY_BASE64));
});

// --- CLI -------------------------------------------------------------------------------------------------------

function assertOneLineUsage(run: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(run.code, 2, run.stderr);
  assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, pattern);
}

test('cli: usage mistakes are one line and exit 2', async () => {
  assertOneLineUsage(await runCli(['fire', 'localhost:3000/confirm']), /not a URL|http:\/\//);
  assertOneLineUsage(await runCli(['fire', 'http://127.0.0.1:1/', '--dialect', 'v3']), /--dialect: unknown dialect "v3"/);
  assertOneLineUsage(
    await runCli(['fire', 'http://127.0.0.1:1/', '--dialect', 'v2-2024-04-25', '--secret', 'whsec_not base64!']),
    /--secret: the secret is not valid base64/,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.CONFIRM_SIM_TEST_MISSING;
  assertOneLineUsage(
    await runCli(['fire', 'http://127.0.0.1:1/', '--secret-env', 'CONFIRM_SIM_TEST_MISSING'], { env }),
    /CONFIRM_SIM_TEST_MISSING is not set/,
  );
  assertOneLineUsage(await runCli(['fire', 'http://127.0.0.1:1/', '-H', 'X-Test=1']), /--header: "X-Test=\*\*\*\*"/);
  assertOneLineUsage(await runCli(['fire', 'http://127.0.0.1:1/', '--timeout', 'soon']), /--timeout/);
  assertOneLineUsage(await runCli(['fire', 'http://127.0.0.1:1/', '--amount', 'many']), /--amount/);
  assertOneLineUsage(await runCli(['fire', 'http://127.0.0.1:1/', '--expect', 'yes']), /--expect/);
});

test('cli: prints request, answer and decision; --expect decides the exit code', async (t) => {
  const server = await answering(t, 409, '{"reason":"sold out"}', { 'Content-Type': 'application/json' });
  const run = await runCli(['fire', server.url, '--merchant-uid', 'order-77', '--amount', '5000', '-H', 'X-Trace: t1']);
  assert.equal(run.code, 0, run.stderr);
  const received = server.requests[0]!;
  const sent = JSON.parse(received.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(sent), ['imp_uid', 'merchant_uid', 'status', 'amount']);
  assert.equal(sent.merchant_uid, 'order-77');
  assert.equal(sent.amount, 5000);
  assert.equal(received.headers['x-trace'], 't1');
  assert.match(run.stdout, /POST http:\/\/127\.0\.0\.1:\d+\/confirm/);
  assert.match(run.stdout, /"merchant_uid":"order-77"/);
  assert.match(run.stdout, /HTTP 409 · TTFB [\d.]+ ms · total [\d.]+ ms/);
  assert.match(run.stdout, /FAIL {2}HTTP 409: the merchant refused the payment \(reason: sold out\)/);
  assert.ok(run.stdout.includes(v1FailReason('sold out')));
  assert.ok(!run.stdout.includes('\u001b['), 'no colour without a TTY');

  const mismatch = await runCli(['fire', server.url, '--expect', 'proceed']);
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /expected the gateway to proceed, but it would fail/);
  assert.equal((await runCli(['fire', server.url, '--expect', 'fail'])).code, 0);
});

test('cli: colour only on a TTY without NO_COLOR; merchant control characters are escaped', async (t) => {
  const server = await answering(t, 200, 'OK\u001b[31mred');
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  const tty = await runCli(['fire', server.url], { tty: true, env });
  assert.ok(tty.stdout.includes('\u001b[32m'), 'green PROCEED on a TTY');
  assert.ok(tty.stdout.includes('OK\\x1b[31mred'));
  const noColor = await runCli(['fire', server.url], { tty: true, env: { ...env, NO_COLOR: '1' } });
  assert.ok(!noColor.stdout.includes('\u001b['));
});

test('cli: long bodies are cut for display with the count of what is hidden', async (t) => {
  const server = await answering(t, 409, 'y'.repeat(5000));
  const run = await runCli(['fire', server.url]);
  assert.match(run.stdout, /y{2048}…\(2952 more bytes\)/);
});

test('cli: --json is one JSON object without the secret; V1 warns that the secret is unused', async (t) => {
  const server = await answering(t, 200);
  const env = { ...process.env, NO_COLOR: '1', CONFIRM_SIM_TEST_SECRET: SECRET_TEXT };
  const run = await runCli(['fire', server.url, '--dialect', 'v2-2024-01-01', '--secret-env', 'CONFIRM_SIM_TEST_SECRET', '--json', '-'], { env });
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as FireResult;
  assert.equal(result.schemaVersion, 2);
  assert.equal(result.request.signed, true);
  assert.equal(result.decision.proceed, true);
  assert.ok(!run.stdout.includes(SECRET_KEY_BASE64));
  assert.ok(!run.stdout.includes(server.requests[0]!.headers['webhook-signature']!.slice(3)));
  new Webhook(SECRET_TEXT).verify(server.requests[0]!.body, server.requests[0]!.headers);

  const v1 = await runCli(['fire', server.url, '--secret', SECRET_TEXT, '--json', '-']);
  assert.equal(v1.code, 0);
  assert.match(v1.stderr, /warning: the secret was not used: V1/);
  assert.ok(!v1.stdout.includes(SECRET_KEY_BASE64) && !v1.stderr.includes(SECRET_KEY_BASE64));
  assert.doesNotThrow(() => JSON.parse(v1.stdout));
});

test('cli: Ctrl-C while waiting stops with 130 and one line', async (t) => {
  const server = await rawServer(t, () => {});
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const run = await runCli(['fire', server.url], { signal: controller.signal });
  assert.equal(run.code, 130);
  assert.equal(run.stderr, 'confirm-sim: interrupted before the merchant answered\n');
});

test('cli: the real binary reports a timeout and exits by --expect', async (t) => {
  const server = await rawServer(t, () => {});
  const run = await spawnCli(['fire', server.url, '--timeout', '300ms', '--expect', 'fail']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /no answer: timeout/);
  assert.match(run.stdout, /no complete answer within 300 ms/);
});
