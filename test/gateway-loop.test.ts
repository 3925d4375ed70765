import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import {
  DEFAULT_IMP_KEY,
  DEFAULT_IMP_SECRET,
  MAX_SALE_CHUNK,
  type GatewayLink,
  type RunningGateway,
} from '../src/gateway/index.js';
import { gatewayWithLink } from './helpers/gateway-loop-start.js';
import { impUidFor, parseWebhookSecret, v1FailReason } from '../src/protocol/index.js';

const SECRET_TEXT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A notice URL that records every webhook and answers what `status` says at that moment. */
async function noticeServer(t: TestContext): Promise<{ url: string; received: Received[]; status: { value: number } }> {
  const received: Received[] = [];
  const status = { value: 200 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(status.value).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`, received, status };
}

async function v1Lookup(gateway: RunningGateway, path: string): Promise<{ status: number; body: { code: number; response: Record<string, unknown> | null } }> {
  const tokenAnswer = await fetch(`${gateway.url}/users/getToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ imp_key: DEFAULT_IMP_KEY, imp_secret: DEFAULT_IMP_SECRET }),
  });
  const token = ((await tokenAnswer.json()) as { response: { access_token: string } }).response.access_token;
  const answer = await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: answer.status, body: (await answer.json()) as { code: number; response: Record<string, unknown> | null } };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(10);
  }
}

test('a registered V1 payment is what the REST API shows: ready, with its amount, by imp_uid and merchant_uid', async (t) => {
  const { gateway, link } = await gatewayWithLink(t);
  const payments = Array.from({ length: 3 }, (_, buyer) => ({ orderId: `run1-${buyer}`, impUid: impUidFor(7, buyer), amount: 1000 + buyer }));
  const result = await link.register({ run: 'run1', payments });
  assert.deepEqual(result, { run: 'run1', registered: 3, total: 3 });

  const byImpUid = await v1Lookup(gateway, `/payments/${impUidFor(7, 2)}`);
  assert.equal(byImpUid.status, 200);
  assert.equal(byImpUid.body.response?.status, 'ready');
  assert.equal(byImpUid.body.response?.amount, 1002);
  assert.equal(byImpUid.body.response?.merchant_uid, 'run1-2');
  const byOrder = await v1Lookup(gateway, '/payments/find/run1-1');
  assert.equal(byOrder.body.response?.imp_uid, impUidFor(7, 1));

  const timeline = await link.payment('run1-0');
  assert.equal(timeline.api, 'v1');
  assert.equal(timeline.impUid, impUidFor(7, 0));
  assert.equal(timeline.run, 'run1');
  assert.deepEqual(timeline.timeline.map((entry) => entry.event), ['registered']);
});

test('duplicates are refused, a whole chunk at a time, and a run keeps its settings', async (t) => {
  const { link } = await gatewayWithLink(t);
  await link.register({ run: 'dup', payments: [{ orderId: 'dup-1', impUid: 'imp_000000000001', amount: 1000 }] });
  const refused = async (sale: Parameters<GatewayLink['register']>[0], pattern: RegExp): Promise<void> => {
    await assert.rejects(link.register(sale), (error: Error) => {
      assert.match(error.message, pattern);
      return true;
    });
  };
  await refused({ run: 'dup', payments: [{ orderId: 'dup-2', impUid: 'imp_000000000001', amount: 1000 }] }, /imp_uid imp_000000000001 is already registered/);
  await refused(
    { run: 'dup', payments: [{ orderId: 'dup-3', amount: 1000 }, { orderId: 'dup-3', amount: 1000 }] },
    /payments\[1\]: order dup-3 appears twice; nothing of this chunk was registered/,
  );
  await refused({ run: 'dup', dialect: 'v1-amount', payments: [{ orderId: 'dup-4', amount: 1 }] }, /registered with dialect "v1"/);
  await refused({ run: 'dup', payments: [{ orderId: 'dup-5', amount: 0 }] }, /amount must be a number above 0/);
  await refused({ run: 'bad run!', payments: [{ orderId: 'x', amount: 1 }] }, /run must be/);
  const summary = await link.summary('dup');
  assert.equal(summary.payments.registered, 1, 'no refused chunk left a payment behind');
  assert.equal((await link.list({ run: 'dup' })).total, 1);

  await link.register({ run: 'v2dup', api: 'v2', payments: [{ orderId: 'pay-1', amount: 1000 }] });
  await refused({ run: 'v2dup-b', api: 'v2', payments: [{ orderId: 'pay-1', amount: 1000 }] }, /paymentId pay-1 is already registered/);
});

test('answers: 200 pays, 409 fails with its reason, null fails as no answer, decline after 200; the summary counts it all', async (t) => {
  const notice = await noticeServer(t);
  const { gateway, link } = await gatewayWithLink(t);
  const payments = [
    { orderId: 'a-ok', impUid: impUidFor(1, 0), amount: 1000 },
    { orderId: 'a-sold-out', impUid: impUidFor(1, 1), amount: 1000 },
    { orderId: 'a-silent', impUid: impUidFor(1, 2), amount: 1000 },
    { orderId: 'a-declined', impUid: impUidFor(1, 3), amount: 1000, outcome: 'decline' as const },
    { orderId: 'a-never', impUid: impUidFor(1, 4), amount: 1000 },
  ];
  await link.register({ run: 'answers', noticeUrl: notice.url, payments });
  link.answer({ orderId: 'a-ok', status: 200 });
  link.answer({ orderId: 'a-sold-out', status: 409, body: JSON.stringify({ reason: 'sold out' }) });
  link.answer({ orderId: 'a-silent', status: null });
  link.answer({ orderId: 'a-declined', status: 200 });
  link.answer({ orderId: 'a-ok', status: 200 });
  link.answer({ orderId: 'nobody', status: 200 });
  assert.deepEqual(await link.flush(), { accepted: 4, late: 1, unknown: 1 });

  const ok = (await v1Lookup(gateway, `/payments/${impUidFor(1, 0)}`)).body.response!;
  assert.equal(ok.status, 'paid');
  assert.ok((ok.paid_at as number) > 0);
  const soldOut = (await v1Lookup(gateway, '/payments/find/a-sold-out')).body.response!;
  assert.equal(soldOut.status, 'failed');
  assert.equal(soldOut.fail_reason, '고객사 요청에 의해 결제를 중단합니다. (상세사유 : sold out)');
  const silent = await link.payment('a-silent');
  assert.equal(silent.status, 'failed');
  assert.deepEqual(silent.failure, { kind: 'no-answer', reason: v1FailReason(null), pgCode: null, pgMessage: null });
  const declined = await link.payment('a-declined');
  assert.equal(declined.status, 'failed');
  assert.equal(declined.failure?.kind, 'declined');
  assert.deepEqual(declined.timeline.map((entry) => entry.event), ['registered', 'confirm-answered', 'declined']);

  await until(async () => (await link.summary('answers')).webhooks.pending === 0, 'the webhooks');
  const summary = await link.summary('answers');
  assert.deepEqual(summary.payments, { registered: 5, ready: 1, paid: 1, declined: 1, failed: 2, cancelled: 0, partiallyCancelled: 0 });
  assert.deepEqual(summary.answers, { received: 4, ok: 2, refused: 1, unanswered: 1, late: 1 });
  assert.deepEqual(summary.webhooks, { sent: 1, delivered: 1, retried: 0, unanswered: 0, pending: 0 }, 'V1: a webhook only for the paid one');
  assert.deepEqual(summary.examples.declined, ['a-declined']);
  assert.deepEqual(summary.examples.failed, ['a-sold-out', 'a-silent']);
  assert.deepEqual(JSON.parse(notice.received[0]!.body), { imp_uid: impUidFor(1, 0), merchant_uid: 'a-ok', status: 'paid' });
  const paid = await link.payment(impUidFor(1, 0));
  assert.equal(paid.webhooks.length, 1);
  assert.equal(paid.webhooks[0]?.state, 'delivered');
  assert.equal(paid.webhooks[0]?.attempts[0]?.httpStatus, 200);
  assert.equal(gateway.summary('answers').payments.paid, 1, 'the library reads the same summary');
});

test('the decline rate declines that share of 200s, per run or from the gateway', async (t) => {
  let draw = 0;
  // Alternating draws: 0.1, 0.9, 0.1, ... so a rate of 0.5 declines every other payment, reproducibly.
  const { link } = await gatewayWithLink(t, { declineRate: 1, random: () => (draw++ % 2 === 0 ? 0.1 : 0.9) });
  const payments = (run: string): Array<{ orderId: string; amount: number }> =>
    Array.from({ length: 10 }, (_, buyer) => ({ orderId: `${run}-${buyer}`, amount: 1000 }));
  await link.register({ run: 'half', declineRate: 0.5, payments: payments('half') });
  await link.register({ run: 'all', payments: payments('all') });
  for (const run of ['half', 'all']) for (let buyer = 0; buyer < 10; buyer += 1) link.answer({ run, orderId: `${run}-${buyer}`, status: 200 });
  await link.flush();
  const half = await link.summary('half');
  assert.equal(half.declineRate, 0.5);
  assert.deepEqual([half.payments.paid, half.payments.declined], [5, 5]);
  const all = await link.summary('all');
  assert.equal(all.declineRate, 1, "the gateway's --decline-rate");
  assert.deepEqual([all.payments.paid, all.payments.declined], [0, 10]);
  assert.equal(all.examples.declined.length, 10);
});

test('V2: a sale registers paymentIds and transactionIds, and answers settle them', async (t) => {
  const notice = await noticeServer(t);
  const { link } = await gatewayWithLink(t, { secret: parseWebhookSecret(SECRET_TEXT), storeId: 'store-1' });
  const result = await link.register({
    run: 'v2run',
    dialect: 'v2-2024-04-25',
    noticeUrl: notice.url,
    payments: [
      { orderId: 'pay-ok', transactionId: '00000000-0000-4000-8000-000000000001', amount: 5000 },
      { orderId: 'pay-no', amount: 5000 },
    ],
  });
  assert.equal(result.transactionIds?.[0], '00000000-0000-4000-8000-000000000001');
  assert.match(result.transactionIds?.[1] ?? '', /^[0-9a-f-]{36}$/);
  link.answer({ orderId: 'pay-ok', status: 200 });
  link.answer({ orderId: 'pay-no', status: 400, body: JSON.stringify({ errorMessage: 'out of stock' }) });
  await link.flush();
  const refused = await link.payment('pay-no');
  assert.equal(refused.api, 'v2');
  assert.equal(refused.failure?.reason, 'out of stock', 'V2 records the errorMessage');
  await until(() => notice.received.length === 2, 'two webhooks');
  const types = notice.received.map((received) => (JSON.parse(received.body) as { type: string }).type).sort();
  assert.deepEqual(types, ['Transaction.Failed', 'Transaction.Paid']);
});

test('a sale bigger than one chunk is registered in chunks; the listing pages', async (t) => {
  const { link, gateway } = await gatewayWithLink(t);
  const count = MAX_SALE_CHUNK * 2 + 500;
  const payments = Array.from({ length: count }, (_, buyer) => ({ orderId: `big-${buyer}`, impUid: impUidFor(3, buyer), amount: 1000 }));
  const result = await link.register({ run: 'big', payments });
  assert.equal(result.registered, count);
  assert.equal(result.total, count);
  assert.equal(gateway.summary('big').payments.ready, count);
  const page = await link.list({ run: 'big', page: 3, limit: 7 });
  assert.equal(page.total, count);
  assert.deepEqual(page.payments.map((payment) => payment.orderId), Array.from({ length: 7 }, (_, index) => `big-${14 + index}`));
  const bad = await fetch(`${gateway.url}/sim/payments?limit=100000`);
  assert.equal(bad.status, 400);
  await bad.arrayBuffer();
});
