import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { PaymentClient, Webhook as PortOneWebhook } from '@portone/server-sdk';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import {
  DEFAULT_API_SECRET,
  MAX_WEBHOOK_ANSWER_BYTES,
  V2_RETRY_DELAYS_MS,
  type GatewayLink,
  type GatewayOptions,
  type WebhookDelivery,
} from '../src/gateway/index.js';
import { gatewayWithLink } from './helpers/gateway-loop-start.js';
import { impUidFor, parseWebhookSecret } from '../src/protocol/index.js';

const SECRET_TEXT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const secret = parseWebhookSecret(SECRET_TEXT);

function gatewayFor(t: TestContext, options: GatewayOptions = {}): ReturnType<typeof gatewayWithLink> {
  return gatewayWithLink(t, { secret, storeId: 'store-test', ...options });
}

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

type Handler = (request: IncomingMessage, response: ServerResponse, received: Received) => void;

/** A notice URL whose every answer `handle` writes; it records what came in. */
async function server(t: TestContext, handle: Handler): Promise<{ url: string; received: Received[]; sockets: Set<Socket> }> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const http = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { at: Date.now(), headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(entry);
      handle(request, response, entry);
    });
  });
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    http.closeAllConnections();
    http.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/webhook`, received, sockets };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(10);
  }
}

async function sellOne(
  link: GatewayLink,
  run: string,
  sale: { dialect?: 'v1' | 'v2-2024-01-01' | 'v2-2024-04-25'; noticeUrl: string; outcome?: 'approve' | 'decline' },
): Promise<void> {
  const v1 = (sale.dialect ?? 'v1') === 'v1';
  await link.register({
    run,
    dialect: sale.dialect ?? 'v1',
    noticeUrl: sale.noticeUrl,
    payments: [{ orderId: `${run}-order`, ...(v1 ? { impUid: impUidFor(run.length, 1) } : {}), amount: 1000, outcome: sale.outcome }],
  });
  link.answer({ orderId: `${run}-order`, status: 200 });
  await link.flush();
}

test("PortOne's SDK verifies our V2 webhooks in both versions, paid and failed, with storeId", async (t) => {
  const verified: unknown[] = [];
  const notice = await server(t, (_request, response, received) => {
    PortOneWebhook.verify(SECRET_TEXT, received.body, received.headers).then(
      (webhook) => {
        verified.push(webhook);
        response.writeHead(200).end();
      },
      (error: Error) => {
        verified.push(error);
        response.writeHead(400).end();
      },
    );
  });
  const { link } = await gatewayFor(t);
  await sellOne(link, 'new-paid', { dialect: 'v2-2024-04-25', noticeUrl: notice.url });
  await sellOne(link, 'new-failed', { dialect: 'v2-2024-04-25', noticeUrl: notice.url, outcome: 'decline' });
  await sellOne(link, 'old-paid', { dialect: 'v2-2024-01-01', noticeUrl: notice.url });
  await sellOne(link, 'old-failed', { dialect: 'v2-2024-01-01', noticeUrl: notice.url, outcome: 'decline' });
  await until(() => verified.length === 4, 'four webhooks');
  for (const entry of verified) assert.ok(!(entry instanceof Error), String(entry));

  const byPayment = new Map<string, Record<string, unknown>>();
  for (const entry of verified as Array<Record<string, unknown>>) {
    const data = entry.data as Record<string, unknown> | undefined;
    byPayment.set(String(data?.paymentId ?? entry.payment_id), entry);
  }
  const paid = byPayment.get('new-paid-order')!;
  assert.equal(paid.type, 'Transaction.Paid');
  assert.ok(!Number.isNaN(Date.parse(String(paid.timestamp))));
  const timeline = await link.payment('new-paid-order');
  assert.deepEqual(paid.data, { storeId: 'store-test', paymentId: 'new-paid-order', transactionId: timeline.transactionId });
  assert.equal(byPayment.get('new-failed-order')!.type, 'Transaction.Failed');
  const old = byPayment.get('old-paid-order')!;
  assert.deepEqual(old, { payment_id: 'old-paid-order', tx_id: (await link.payment('old-paid-order')).transactionId, status: 'Paid' });
  assert.equal(byPayment.get('old-failed-order')!.status, 'Failed');
});

test('V2 cancel webhooks in both versions: PartialCancelled then Cancelled with cancellationId, verified by the SDK and standardwebhooks', async (t) => {
  const received: Array<{ body: string; headers: IncomingHttpHeaders; sdk: unknown; standard: unknown }> = [];
  const notice = await server(t, (_request, response, entry) => {
    const standard = (() => {
      try {
        return new StandardWebhook(SECRET_TEXT).verify(entry.body, entry.headers as Record<string, string>);
      } catch (error) {
        return error;
      }
    })();
    PortOneWebhook.verify(SECRET_TEXT, entry.body, entry.headers).then(
      (sdk) => received.push({ body: entry.body, headers: entry.headers, sdk, standard }),
      (error: unknown) => received.push({ body: entry.body, headers: entry.headers, sdk: error, standard }),
    ).finally(() => response.writeHead(200).end());
  });
  const { gateway, link } = await gatewayFor(t);
  // The merchant's own cancel call, through PortOne's SDK pointed at the gateway.
  const client = PaymentClient({ secret: DEFAULT_API_SECRET, baseUrl: gateway.url });
  for (const [run, dialect] of [['new', 'v2-2024-04-25'], ['old', 'v2-2024-01-01']] as const) {
    const before = received.length;
    await sellOne(link, run, { dialect, noticeUrl: notice.url });
    // Each webhook in before the next change, so the bodies come in the order of the changes.
    await until(() => received.length === before + 1, `${run}: the paid webhook`);
    await client.cancelPayment({ paymentId: `${run}-order`, reason: 'one seat returned', amount: 300 });
    await client.cancelPayment({ paymentId: `${run}-order`, reason: 'event cancelled' });
  }
  await until(() => received.length === 6, 'paid, partly cancelled and cancelled, twice');
  for (const entry of received) {
    assert.ok(!(entry.sdk instanceof Error), `Webhook.verify: ${String(entry.sdk)}`);
    assert.ok(!(entry.standard instanceof Error), `standardwebhooks: ${String(entry.standard)}`);
    assert.deepEqual(entry.sdk, JSON.parse(entry.body));
    assert.deepEqual(entry.standard, JSON.parse(entry.body));
  }
  const bodies = received.map((entry) => entry.sdk as Record<string, unknown>);
  const fresh = bodies.filter((body) => (body.data as { paymentId?: string } | undefined)?.paymentId === 'new-order');
  const cancellations = (await gateway.payment('new-order')).cancellations.map((cancellation) => cancellation.id);
  const transactionId = (await link.payment('new-order')).transactionId;
  assert.deepEqual(
    fresh.map((body) => [body.type, body.data]),
    [
      ['Transaction.Paid', { storeId: 'store-test', paymentId: 'new-order', transactionId }],
      ['Transaction.PartialCancelled', { storeId: 'store-test', paymentId: 'new-order', transactionId, cancellationId: cancellations[0] }],
      ['Transaction.Cancelled', { storeId: 'store-test', paymentId: 'new-order', transactionId, cancellationId: cancellations[1] }],
    ],
  );
  for (const body of fresh) assert.ok(!Number.isNaN(Date.parse(String(body.timestamp))), 'an RFC 3339 timestamp');
  const oldTransaction = (await link.payment('old-order')).transactionId;
  assert.deepEqual(
    bodies.filter((body) => body.payment_id === 'old-order'),
    ['Paid', 'PartialCancelled', 'Cancelled'].map((status) => ({ payment_id: 'old-order', tx_id: oldTransaction, status })),
    '2024-01-01 keeps its flat body for cancels too',
  );
});

test('a V2 webhook not answered 2xx is retried on the documented schedule, compressed; one webhook-id, every attempt signed', async (t) => {
  let answers = 0;
  const notice = await server(t, (_request, response) => {
    answers += 1;
    response.writeHead(answers <= 2 ? 500 : 200).end(answers <= 2 ? 'try later' : 'ok');
  });
  const scale = 1 / 1000;
  const { link } = await gatewayFor(t, { webhookRetryScale: scale });
  await sellOne(link, 'retry', { dialect: 'v2-2024-04-25', noticeUrl: notice.url });
  await until(async () => (await link.summary('retry')).webhooks.pending === 0, 'the retries');

  const summary = await link.summary('retry');
  assert.deepEqual(summary.webhooks, { sent: 1, delivered: 1, retried: 2, unanswered: 0, pending: 0 });
  const [webhook] = (await link.payment('retry-order')).webhooks;
  assert.equal(webhook?.state, 'delivered');
  assert.deepEqual(webhook?.attempts.map((attempt) => attempt.httpStatus), [500, 500, 200]);
  assert.equal(webhook?.attempts[0]?.message, 'HTTP 500: try later');
  // Each wait is the documented one (1 then 4 minutes) times the scale, give or take the 20% jitter.
  for (const [index, minutes] of [1, 4].entries()) {
    const before = webhook!.attempts[index]!;
    const gap = webhook!.attempts[index + 1]!.at - (before.at + before.durationMs);
    assert.ok(gap >= minutes * 60_000 * scale * 0.8 - 2, `wait ${index + 1} was ${gap} ms`);
  }
  assert.equal(new Set(notice.received.map((received) => received.headers['webhook-id'])).size, 1, 'one webhook-id across retries');
  for (const received of notice.received) await PortOneWebhook.verify(SECRET_TEXT, received.body, received.headers);
});

test('a webhook never answered 2xx is given up after 5 retries, V2; V1 sends once unless retries are opted in', async (t) => {
  const notice = await server(t, (_request, response) => response.writeHead(503).end());
  const scale = 1 / 100_000;
  const { link } = await gatewayFor(t, { webhookRetryScale: scale });
  const attempts: WebhookDelivery[] = [];
  await sellOne(link, 'v2-down', { dialect: 'v2-2024-04-25', noticeUrl: notice.url });
  await sellOne(link, 'v1-down', { noticeUrl: notice.url });
  await until(async () => (await link.summary('v2-down')).webhooks.pending === 0, 'the last V2 retry');
  const v2 = await link.summary('v2-down');
  assert.deepEqual(v2.webhooks, { sent: 1, delivered: 0, retried: V2_RETRY_DELAYS_MS.length, unanswered: 1, pending: 0 });
  assert.deepEqual(v2.examples.unansweredWebhooks, ['v2-down-order']);
  const [webhook] = (await link.payment('v2-down-order')).webhooks;
  assert.equal(webhook?.attempts.length, 6);
  assert.equal(webhook?.state, 'unanswered');
  assert.equal(webhook?.nextAttemptAt, null);
  const v1 = await link.summary('v1-down');
  assert.deepEqual(v1.webhooks, { sent: 1, delivered: 0, retried: 0, unanswered: 1, pending: 0 });

  const optedIn = await gatewayFor(t, { webhookRetryScale: scale, v1WebhookRetries: true });
  optedIn.gateway.events.on('webhook', (delivery) => attempts.push(delivery));
  await sellOne(optedIn.link, 'v1-opted', { noticeUrl: notice.url });
  await until(async () => (await optedIn.link.summary('v1-opted')).webhooks.pending === 0, 'the V1 retries');
  assert.deepEqual(attempts.map((attempt) => attempt.retry), [0, 1, 2, 3, 4, 5]);
  assert.ok(attempts.slice(0, 5).every((attempt) => attempt.nextAttemptAt !== null) && attempts[5]!.nextAttemptAt === null);
});

test('hostile notice URLs: an endless answer is cut off at the limit, a hung one times out, and neither holds up other merchants', async (t) => {
  let endlessBytes = 0;
  const endless = await server(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = (): void => {
      while (!response.destroyed && response.write(chunk)) endlessBytes += chunk.length;
      if (!response.destroyed) response.once('drain', pump);
    };
    pump();
  });
  const hung = await server(t, () => undefined);
  const good = await server(t, (_request, response) => response.writeHead(200).end());
  const { link } = await gatewayFor(t, { webhookTimeoutMs: 1_500, webhookRetryScale: 1 / 100_000 });

  await sellOne(link, 'endless', { noticeUrl: endless.url });
  await link.register({
    run: 'hung',
    noticeUrl: hung.url,
    payments: Array.from({ length: 40 }, (_, buyer) => ({ orderId: `hung-${buyer}`, impUid: impUidFor(99, buyer), amount: 1000 })),
  });
  for (let buyer = 0; buyer < 40; buyer += 1) link.answer({ orderId: `hung-${buyer}`, status: 200 });
  await link.flush();
  await sellOne(link, 'good', { noticeUrl: good.url });
  await until(async () => (await link.summary('good')).webhooks.delivered === 1, 'the good merchant');
  assert.ok((await link.summary('hung')).webhooks.pending > 0, 'the hung merchant was still holding its own deliveries');

  await until(async () => (await link.summary('endless')).webhooks.pending === 0, 'the endless answer');
  const [cut] = (await link.payment('endless-order')).webhooks;
  assert.equal(cut?.attempts[0]?.error, 'body-too-large');
  assert.match(cut?.attempts[0]?.message ?? '', new RegExp(`HTTP 200, answer cut off after ${MAX_WEBHOOK_ANSWER_BYTES} bytes`));
  assert.equal(cut?.state, 'delivered', 'a 2xx counts; the rest of the answer is not needed');
  await until(() => endless.sockets.size === 0, 'the endless connection to be closed');
  assert.ok(endlessBytes < 64 * 1024 * 1024, `the endless server got to write ${endlessBytes} bytes only`);

  await until(async () => (await link.summary('hung')).webhooks.pending === 0, 'the hung deliveries to time out');
  const hungSummary = await link.summary('hung');
  assert.equal(hungSummary.webhooks.unanswered, 40);
  const [timedOut] = (await link.payment('hung-0')).webhooks;
  assert.equal(timedOut?.attempts[0]?.error, 'timeout');
  assert.ok(hung.received.length <= 40, 'V1 sends once: no retries to a merchant that did not opt in');
});

test('cancel webhooks: V1 {imp_uid, merchant_uid, status, cancellation_id}', async (t) => {
  const notice = await server(t, (_request, response) => response.writeHead(200).end());
  const { gateway, link } = await gatewayFor(t);
  await sellOne(link, 'cancel', { noticeUrl: notice.url });
  const result = await gateway.cancelPayment({ merchant_uid: 'cancel-order', reason: 'buyer asked', enable_webhook: true });
  assert.equal(result.webhook?.delivered, true);
  await until(() => notice.received.length === 2, 'paid and cancelled webhooks');
  assert.deepEqual(JSON.parse(notice.received[1]!.body), {
    imp_uid: impUidFor('cancel'.length, 1),
    merchant_uid: 'cancel-order',
    status: 'cancelled',
    cancellation_id: result.cancellation.id,
  });
  const summary = await link.summary('cancel');
  assert.deepEqual([summary.payments.paid, summary.payments.cancelled], [0, 1]);
  assert.equal(summary.webhooks.sent, 2);
});
