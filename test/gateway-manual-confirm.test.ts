import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Payment, PaymentClient } from '@portone/server-sdk';
import { request } from 'undici';
import {
  connectGateway,
  startGateway,
  type GatewayLink,
  type GatewayOptions,
  type PaymentToken,
  type RunningGateway,
  type SaleRegistration,
} from '../src/gateway/index.js';
import { parseWebhookSecret } from '../src/protocol/index.js';
import { observeV2Answers, type V2Observer } from './helpers/gateway-rest-observe.js';
import { assertV2 } from './helpers/gateway-rest-schemas.js';

// V2 manual confirm against the simulated gateway, through PortOne's own server SDK (PaymentClient.confirmPayment)
// over real sockets: every answer is checked strictly against the V2 file's schema for its status.

const API_SECRET = 'test-api-secret-manual-confirm';
const secret = parseWebhookSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');

interface Rig {
  gateway: RunningGateway;
  link: GatewayLink;
  client: ReturnType<typeof PaymentClient>;
  observer: V2Observer;
  /** Webhook types the merchant's notice URL received, in order, with their paymentId. */
  webhooks: Array<{ type: string; paymentId: string }>;
  noticeUrl: string;
  clock: { now: number };
}

async function rigFor(t: TestContext, options: GatewayOptions = {}): Promise<Rig> {
  const webhooks: Rig['webhooks'] = [];
  const notices = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string; data: { paymentId: string } };
      webhooks.push({ type: body.type, paymentId: body.data.paymentId });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => notices.listen(0, '127.0.0.1', resolve));
  const clock = { now: Date.now() };
  const gateway = await startGateway({ port: 0, apiSecret: API_SECRET, secret, now: () => clock.now, ...options });
  const link = connectGateway(gateway);
  const observer = observeV2Answers(gateway.url);
  t.after(async () => {
    observer.stop();
    await link.close();
    await gateway.close();
    notices.closeAllConnections();
    await new Promise<void>((resolve) => notices.close(() => resolve()));
  });
  const noticeUrl = `http://127.0.0.1:${(notices.address() as AddressInfo).port}/webhook`;
  return { gateway, link, client: PaymentClient({ secret: API_SECRET, baseUrl: gateway.url }), observer, webhooks, noticeUrl, clock };
}

async function sale(rig: Rig, run: string, count: number, extra: Partial<SaleRegistration> = {}): Promise<PaymentToken[]> {
  const payments = Array.from({ length: count }, (_, index) => ({ orderId: `${run}-${index}`, amount: 15_000 }));
  const result = await rig.link.register({ run, api: 'v2', flow: 'manual-confirm', noticeUrl: rig.noticeUrl, payments, ...extra });
  assert.ok(result.tokens, 'a manual-confirm sale answers with tokens');
  return result.tokens;
}

/** The SDK's error for a refused confirm, with the V2 type it carries. */
async function refusal(promise: Promise<unknown>): Promise<{ type: string; message: string; data: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Payment.ConfirmPaymentError, `expected the SDK's ConfirmPaymentError, got ${String(error)}`);
    assert.ok(error instanceof Payment.PaymentError);
    const data = error.data as { type: string; message?: string };
    return { type: data.type, message: data.message ?? '', data: data as Record<string, unknown> };
  }
  assert.fail('the confirm succeeded');
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function assertAnswersValid(rig: Rig): void {
  assert.deepEqual(rig.observer.problems, [], 'every answer satisfies the schema its status documents');
}

test('registration mints one token per payment, in order, bound to its paymentId and transaction', async (t) => {
  const rig = await rigFor(t);
  const tokens = await sale(rig, 'mint', 3);
  assert.deepEqual(tokens.map((token) => token.paymentId), ['mint-0', 'mint-1', 'mint-2']);
  assert.equal(new Set(tokens.map((token) => token.paymentToken)).size, 3, 'every token is its own');
  for (const token of tokens) {
    assert.match(token.paymentToken, /^ptk_[A-Za-z0-9_-]{32}$/);
    const payment = await rig.client.getPayment({ paymentId: token.paymentId });
    assert.equal(payment.status, 'READY', 'nothing is charged before the merchant confirms');
    assert.equal((payment as { transactionId: string }).transactionId, token.txId);
  }
  assert.equal((await rig.link.statuses('mint')).statuses, 'RRR');
  const summary = await rig.link.summary('mint');
  assert.equal(summary.flow, 'manual-confirm');
  assert.equal(summary.tokenLifetimeMs, 10 * 60_000, 'the default lifetime');
  // A listing of the store never hands the tokens out.
  const listed = JSON.stringify(rig.gateway.list({ run: 'mint' }));
  for (const token of tokens) assert.ok(!listed.includes(token.paymentToken));

  const plain = await rig.link.register({ run: 'plain', api: 'v2', payments: [{ orderId: 'plain-0', amount: 1000 }] });
  assert.equal(plain.tokens, undefined, 'a confirm-process sale has no tokens');
  assert.equal((await rig.link.summary('plain')).flow, 'confirm-process');
  assertAnswersValid(rig);
});

test('confirmPayment through the SDK charges the payment, sends Transaction.Paid and counts the call', async (t) => {
  const rig = await rigFor(t);
  const [token] = await sale(rig, 'ok', 2);
  const confirmed = await rig.client.confirmPayment({
    paymentId: token!.paymentId,
    paymentToken: token!.paymentToken,
    txId: token!.txId,
    totalAmount: 15_000,
    currency: 'KRW',
    isTest: true,
  });
  assert.match(confirmed.pgTxId, /^sim/);
  assert.ok(!Number.isNaN(Date.parse(confirmed.paidAt)));
  const payment = await rig.client.getPayment({ paymentId: token!.paymentId });
  assert.equal(payment.status, 'PAID');
  assert.equal((payment as { pgTxId: string }).pgTxId, confirmed.pgTxId);
  await until(() => rig.webhooks.length === 1, 'the Transaction.Paid webhook');
  assert.deepEqual(rig.webhooks, [{ type: 'Transaction.Paid', paymentId: 'ok-0' }]);

  const timeline = rig.gateway.payment('ok-0');
  assert.equal(timeline.manualConfirm?.calls, 1);
  assert.equal(timeline.manualConfirm?.confirmed, 1);
  assert.equal(timeline.manualConfirm?.paymentToken, 'ptk_****');
  const summary = await rig.link.summary('ok');
  assert.equal(summary.confirmCalls, 1);
  assert.equal(summary.confirmsSucceeded, 1);
  assert.equal(summary.payments.paid, 1);
  assert.equal((await rig.link.statuses('ok')).statuses, 'PR');
  assert.ok(rig.observer.answers.some((answer) => answer.operationId === 'confirmPayment' && answer.status === 200));
  assertAnswersValid(rig);
});

test('a replayed confirm is ALREADY_PAID and charges nothing twice; the summary counts both calls', async (t) => {
  const rig = await rigFor(t);
  const [token] = await sale(rig, 'replay', 1);
  const confirm = (): Promise<Payment.ConfirmedPaymentSummary> =>
    rig.client.confirmPayment({ paymentId: token!.paymentId, paymentToken: token!.paymentToken, totalAmount: 15_000 });
  const first = await confirm();
  const again = await refusal(confirm());
  assert.equal(again.type, 'ALREADY_PAID');
  const payment = await rig.client.getPayment({ paymentId: 'replay-0' });
  assert.equal((payment as { pgTxId: string }).pgTxId, first.pgTxId, 'the one charge stands');
  const summary = await rig.link.summary('replay');
  assert.equal(summary.confirmCalls, 2);
  assert.equal(summary.confirmsSucceeded, 1);
  assert.equal(summary.confirmsRefused.ALREADY_PAID, 1);
  assert.equal(summary.payments.paid, 1);
  assert.equal(rig.gateway.payment('replay-0').manualConfirm?.calls, 2);
  assert.equal((await rig.link.statuses('replay')).statuses, 'P');
  await until(() => rig.webhooks.length === 1, 'one Transaction.Paid');
  assertAnswersValid(rig);
});

test('a token that is another payment\'s, unknown, or expired is INVALID_PAYMENT_TOKEN and leaves the payment READY', async (t) => {
  const rig = await rigFor(t);
  const tokens = await sale(rig, 'tok', 3, { tokenLifetimeMs: 60_000 });

  const other = await refusal(rig.client.confirmPayment({ paymentId: 'tok-0', paymentToken: tokens[1]!.paymentToken }));
  assert.equal(other.type, 'INVALID_PAYMENT_TOKEN');
  assert.match(other.message, /issued for payment tok-1/);
  assert.ok(!other.message.includes(tokens[1]!.paymentToken), 'the refusal never repeats a token');

  const unknown = await refusal(rig.client.confirmPayment({ paymentId: 'tok-0', paymentToken: 'ptk_made-up' }));
  assert.equal(unknown.type, 'INVALID_PAYMENT_TOKEN');

  rig.clock.now += 60_000;
  const expired = await refusal(rig.client.confirmPayment({ paymentId: 'tok-2', paymentToken: tokens[2]!.paymentToken }));
  assert.equal(expired.type, 'INVALID_PAYMENT_TOKEN');
  assert.match(expired.message, /expired/);

  assert.equal((await rig.link.statuses('tok')).statuses, 'RRR');
  // The wrong paymentId with a real token counts on the token's payment: here, tok-1's run.
  const missing = await refusal(rig.client.confirmPayment({ paymentId: 'no-such-payment', paymentToken: tokens[1]!.paymentToken }));
  assert.equal(missing.type, 'PAYMENT_NOT_FOUND');
  const summary = await rig.link.summary('tok');
  assert.deepEqual(summary.confirmsRefused, { ALREADY_PAID: 0, INFORMATION_MISMATCH: 0, INVALID_PAYMENT_TOKEN: 3, PAYMENT_NOT_FOUND: 1, PG_PROVIDER: 0 });
  assert.equal(summary.confirmCalls, 4);
  assert.equal(summary.confirmsSucceeded, 0);
  assertAnswersValid(rig);
});

test('totalAmount, currency, txId or isTest that differ are INFORMATION_MISMATCH; the corrected call then confirms', async (t) => {
  const rig = await rigFor(t);
  const [token] = await sale(rig, 'mm', 1);
  const base = { paymentId: token!.paymentId, paymentToken: token!.paymentToken };
  for (const wrong of [{ totalAmount: 1 }, { currency: 'USD' as const }, { txId: 'another-transaction' }, { isTest: false }, { taxFreeAmount: 100 }]) {
    const refused = await refusal(rig.client.confirmPayment({ ...base, ...wrong }));
    assert.equal(refused.type, 'INFORMATION_MISMATCH', JSON.stringify(wrong));
  }
  assert.equal((await rig.client.getPayment({ paymentId: 'mm-0' })).status, 'READY', 'a mismatch charges nothing and keeps the token');
  await rig.client.confirmPayment({ ...base, totalAmount: 15_000, currency: 'KRW' });
  const summary = await rig.link.summary('mm');
  assert.equal(summary.confirmsRefused.INFORMATION_MISMATCH, 5);
  assert.equal(summary.confirmsSucceeded, 1);
  assertAnswersValid(rig);
});

test('a PG decline is PG_PROVIDER (502) with pgCode and pgMessage: FAILED, Transaction.Failed, the token spent', async (t) => {
  const rig = await rigFor(t);
  const tokens = await sale(rig, 'dec', 2, { declineRate: 1 });
  const declined = await refusal(rig.client.confirmPayment({ paymentId: 'dec-0', paymentToken: tokens[0]!.paymentToken, totalAmount: 15_000 }));
  assert.equal(declined.type, 'PG_PROVIDER');
  assert.equal(typeof declined.data.pgCode, 'string');
  assert.equal(typeof declined.data.pgMessage, 'string');
  const payment = await rig.client.getPayment({ paymentId: 'dec-0' });
  assert.equal(payment.status, 'FAILED');
  await until(() => rig.webhooks.length === 1, 'Transaction.Failed');
  assert.deepEqual(rig.webhooks, [{ type: 'Transaction.Failed', paymentId: 'dec-0' }]);
  const retried = await refusal(rig.client.confirmPayment({ paymentId: 'dec-0', paymentToken: tokens[0]!.paymentToken }));
  assert.equal(retried.type, 'INVALID_PAYMENT_TOKEN', 'a declined token pays nothing later');
  assert.match(retried.message, /already used/);
  assert.equal((await rig.link.statuses('dec')).statuses, 'FR');
  const summary = await rig.link.summary('dec');
  assert.equal(summary.payments.declined, 1);
  assert.equal(summary.confirmsRefused.PG_PROVIDER, 1);
  assert.equal(summary.confirmsRefused.INVALID_PAYMENT_TOKEN, 1);
  assert.equal(rig.observer.answers.find((answer) => answer.status === 502)?.operationId, 'confirmPayment');
  assertAnswersValid(rig);
});

test('a per-payment outcome decides the PG as for the Confirm Process', async (t) => {
  const rig = await rigFor(t);
  const result = await rig.link.register({
    run: 'outcome',
    api: 'v2',
    flow: 'manual-confirm',
    declineRate: 1,
    payments: [{ orderId: 'outcome-0', amount: 500, outcome: 'approve' }, { orderId: 'outcome-1', amount: 500, outcome: 'decline' }],
  });
  const [approve, decline] = result.tokens!;
  await rig.client.confirmPayment({ paymentId: approve!.paymentId, paymentToken: approve!.paymentToken });
  assert.equal((await refusal(rig.client.confirmPayment({ paymentId: decline!.paymentId, paymentToken: decline!.paymentToken }))).type, 'PG_PROVIDER');
  assert.equal((await rig.link.statuses('outcome')).statuses, 'PF');
});

test('body, credential and store refusals: INVALID_REQUEST, UNAUTHORIZED, FORBIDDEN, PAYMENT_NOT_FOUND', async (t) => {
  const rig = await rigFor(t);
  const [token] = await sale(rig, 'bad', 1);
  assert.equal((await refusal(rig.client.confirmPayment({ paymentId: 'bad-0', paymentToken: '' }))).type, 'INVALID_REQUEST');
  assert.equal(
    (await refusal(rig.client.confirmPayment({ paymentId: 'bad-0', paymentToken: token!.paymentToken, totalAmount: 1.5 }))).type,
    'INVALID_REQUEST',
  );
  assert.equal(
    (await refusal(rig.client.confirmPayment({ paymentId: 'bad-0', paymentToken: token!.paymentToken, storeId: 'store-someone-else' }))).type,
    'FORBIDDEN',
  );
  const stranger = PaymentClient({ secret: 'not-the-secret', baseUrl: rig.gateway.url });
  assert.equal((await refusal(stranger.confirmPayment({ paymentId: 'bad-0', paymentToken: token!.paymentToken }))).type, 'UNAUTHORIZED');
  assert.equal((await refusal(rig.client.confirmPayment({ paymentId: 'nobody', paymentToken: 'ptk_x' }))).type, 'PAYMENT_NOT_FOUND');
  assert.equal((await rig.client.getPayment({ paymentId: 'bad-0' })).status, 'READY');
  // A confirm-process payment has no token to confirm with.
  await rig.link.register({ run: 'cp', api: 'v2', payments: [{ orderId: 'cp-0', amount: 1000 }] });
  const notManual = await refusal(rig.client.confirmPayment({ paymentId: 'cp-0', paymentToken: token!.paymentToken }));
  assert.equal(notManual.type, 'INVALID_PAYMENT_TOKEN');
  assert.ok(rig.observer.answers.length >= 6);
  assertAnswersValid(rig);
});

test('skipWebhook spares Transaction.Paid only (raw HTTP: the SDK does not send the field)', async (t) => {
  const rig = await rigFor(t);
  const tokens = await sale(rig, 'skip', 2);
  const confirm = async (token: PaymentToken, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${rig.gateway.url}/payments/${token.paymentId}/confirm`, {
      method: 'POST',
      headers: { authorization: `PortOne ${API_SECRET}`, 'content-type': 'application/json' },
      body: JSON.stringify({ paymentToken: token.paymentToken, ...body }),
    });
    return { status: response.status, body: await response.json() };
  };
  const paid = await confirm(tokens[0]!, { skipWebhook: true });
  assert.equal(paid.status, 200);
  assertV2('confirmPayment', 200, paid.body);
  const garbage = await confirm(tokens[1]!, { skipWebhook: 'yes' });
  assert.equal(garbage.status, 400);
  assertV2('confirmPayment', 400, garbage.body);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(rig.webhooks, [], 'no Transaction.Paid was sent');
});

test('sale settings: manual-confirm needs V2; tokenLifetimeMs needs manual-confirm; a run keeps its flow', async (t) => {
  const rig = await rigFor(t);
  await assert.rejects(rig.link.register({ run: 'v1', flow: 'manual-confirm', payments: [{ orderId: 'v1-0', amount: 1 }] }), /V2 flow/);
  await assert.rejects(
    rig.link.register({ run: 'life', api: 'v2', tokenLifetimeMs: 1000, payments: [{ orderId: 'life-0', amount: 1 }] }),
    /tokenLifetimeMs is a manual-confirm setting/,
  );
  await assert.rejects(
    rig.link.register({ run: 'neg', api: 'v2', flow: 'manual-confirm', tokenLifetimeMs: -5, payments: [{ orderId: 'neg-0', amount: 1 }] }),
    /whole number of milliseconds/,
  );
  await sale(rig, 'chunks', 2);
  await assert.rejects(
    rig.link.register({ run: 'chunks', api: 'v2', noticeUrl: rig.noticeUrl, payments: [{ orderId: 'chunks-9', amount: 1 }] }),
    /registered with flow "manual-confirm"/,
  );
  // Later chunks of a run continue its status line and its tokens.
  const more = await rig.link.register({ run: 'chunks', api: 'v2', flow: 'manual-confirm', noticeUrl: rig.noticeUrl, payments: [{ orderId: 'chunks-2', amount: 15_000 }] });
  await rig.client.confirmPayment({ paymentId: 'chunks-2', paymentToken: more.tokens![0]!.paymentToken });
  assert.deepEqual(await rig.link.statuses('chunks'), { run: 'chunks', count: 3, statuses: 'RRP' });
  await assert.rejects(rig.link.statuses('nobody'), /no run nobody/);
  // Confirm answers reported for a manual-confirm payment change nothing: the merchant confirms it.
  rig.link.answer({ run: 'chunks', orderId: 'chunks-0', status: 200 });
  assert.deepEqual(await rig.link.flush(), { accepted: 0, late: 0, unknown: 1 });
  assert.equal((await rig.link.statuses('chunks')).statuses, 'RRP');
});

test('a sale of 25,000 registers in chunks with its tokens in order; cancels show as C and X', async (t) => {
  const rig = await rigFor(t);
  const tokens = await sale(rig, 'big', 25_000, { noticeUrl: undefined });
  assert.equal(tokens.length, 25_000);
  assert.equal(tokens[24_999]!.paymentId, 'big-24999');
  for (const index of [0, 10_000, 24_999]) {
    await rig.client.confirmPayment({ paymentId: tokens[index]!.paymentId, paymentToken: tokens[index]!.paymentToken });
  }
  await rig.client.cancelPayment({ paymentId: 'big-10000', reason: 'sold out after all' });
  await rig.client.cancelPayment({ paymentId: 'big-24999', reason: 'one of two', amount: 5_000 });
  const { count, statuses } = await rig.link.statuses('big');
  assert.equal(count, 25_000);
  assert.equal(statuses.length, 25_000);
  assert.equal(statuses[0], 'P');
  assert.equal(statuses[10_000], 'C');
  assert.equal(statuses[24_999], 'X');
  assert.equal(statuses.replace(/R/g, ''), 'PCX');
});

test('POST /sim/payments with flow manual-confirm: one payment to confirm outside a sale', async (t) => {
  const rig = await rigFor(t);
  // undici's request, not fetch: the observer checks only what the V2 API answers.
  const simPayment = (body: Record<string, unknown>): ReturnType<typeof request> =>
    request(`${rig.gateway.url}/sim/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const response = await simPayment({ flow: 'manual-confirm', merchant_uid: 'fire-1', amount: 15_000, notice_url: rig.noticeUrl });
  assert.equal(response.statusCode, 200);
  const envelope = (await response.body.json()) as { code: number; response: PaymentToken };
  assert.equal(envelope.code, 0);
  const token = envelope.response;
  assert.deepEqual(Object.keys(token).sort(), ['paymentId', 'paymentToken', 'txId']);
  assert.equal(token.paymentId, 'fire-1');
  assert.equal((await rig.client.getPayment({ paymentId: 'fire-1' })).status, 'READY');
  await rig.client.confirmPayment({ paymentId: token.paymentId, paymentToken: token.paymentToken, txId: token.txId, totalAmount: 15_000 });
  assert.equal((await rig.client.getPayment({ paymentId: 'fire-1' })).status, 'PAID');
  await until(() => rig.webhooks.length === 1, 'Transaction.Paid');

  const library = rig.gateway.requestManualPayment({ merchant_uid: 'lib-1', amount: 1000, outcome: 'decline' });
  assert.equal((await refusal(rig.client.confirmPayment({ paymentId: library.paymentId, paymentToken: library.paymentToken }))).type, 'PG_PROVIDER');

  const refuse = async (body: Record<string, unknown>, pattern: RegExp): Promise<void> => {
    const answer = await simPayment(body);
    assert.equal(answer.statusCode, 400);
    assert.match(((await answer.body.json()) as { message: string }).message, pattern);
  };
  await refuse({ flow: 'manual-confirm', merchant_uid: 'x', amount: 1, dialect: 'v1' }, /V2 flow/);
  await refuse({ flow: 'manual-confirm', merchant_uid: 'x', amount: 1, confirm_url: 'http://127.0.0.1:1/confirm' }, /calls no confirm_url/);
  await refuse({ flow: 'manual', merchant_uid: 'x', amount: 1 }, /flow must be one of/);
  assertAnswersValid(rig);
});

test('startGateway refuses a token lifetime that is not one', async () => {
  await assert.rejects(startGateway({ port: 0, tokenLifetimeMs: 0 }), /`tokenLifetimeMs`: 0 ms is not a lifetime/);
  await assert.rejects(startGateway({ port: 0, tokenLifetimeMs: 1.5 }), /`tokenLifetimeMs`: 1.5 ms is not a lifetime/);
});
