import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Payment, PaymentClient } from '@portone/server-sdk';
import {
  DEFAULT_API_SECRET,
  DEFAULT_STORE_ID,
  startGateway,
  type GatewayOptions,
  type PaymentRequest,
  type RunningGateway,
} from '../src/gateway/index.js';
import { observeV2Answers, type V2Observer } from './helpers/gateway-rest-observe.js';

// PortOne's own server SDK, pointed at the simulated gateway exactly as a merchant points it at
// https://api.portone.io: every call below is the SDK's code, every answer is checked against the V2 file.

const API_SECRET = 'test-api-secret-0123456789';

interface Rig {
  gateway: RunningGateway;
  client: ReturnType<typeof PaymentClient>;
  observer: V2Observer;
}

async function rigFor(t: TestContext, options: GatewayOptions = {}): Promise<Rig> {
  const gateway = await startGateway({ port: 0, apiSecret: API_SECRET, ...options });
  const observer = observeV2Answers(gateway.url);
  t.after(async () => {
    observer.stop();
    await gateway.close();
  });
  return { gateway, client: PaymentClient({ secret: options.apiSecret ?? API_SECRET, baseUrl: gateway.url }), observer };
}

function assertAnswersValid(rig: Rig, minimum: number): void {
  assert.deepEqual(rig.observer.problems, [], 'every V2 answer satisfies its documented schema');
  assert.ok(rig.observer.answers.length >= minimum, `${rig.observer.answers.length} answers observed`);
}

/** A V2 payment the way a buyer's requestPayment makes one; no confirm URL, so it is charged or declined at once. */
async function pay(gateway: RunningGateway, request: Partial<PaymentRequest> & { merchant_uid: string }): Promise<void> {
  await gateway.requestPayment({
    amount: 15_000,
    name: '마라톤 참가권',
    buyer_name: '홍길동',
    buyer_email: 'buyer@example.com',
    buyer_tel: '010-1234-5678',
    dialect: 'v2-2024-04-25',
    ...request,
  });
}

async function rejection<T extends Error>(promise: Promise<unknown>, errorClass: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${errorClass.name}, the call succeeded`);
}

// The SDK's unions end in an `Unrecognized` branch; these read fields the schema check already proved present.
function amountOf(cancellation: Payment.PaymentCancellation | undefined): number {
  return (cancellation as { totalAmount: number }).totalAmount;
}

function idOf(payment: Payment.Payment): string {
  return (payment as { id: string }).id;
}

function typeOf(error: Payment.PaymentError): string {
  return (error.data as { type: string }).type;
}

test('getPayment: a paid payment in full, with the storeId query and with the empty query the SDK sends', async (t) => {
  const rig = await rigFor(t);
  await pay(rig.gateway, { merchant_uid: 'order-paid', custom_data: { seat: 'A-1' } });

  const payment = await rig.client.getPayment({ paymentId: 'order-paid' });
  assert.equal(payment.status, 'PAID');
  if (payment.status !== 'PAID') return;
  assert.equal(payment.id, 'order-paid');
  assert.equal(payment.storeId, DEFAULT_STORE_ID);
  assert.equal(payment.version, 'V2');
  assert.equal(payment.orderName, '마라톤 참가권');
  assert.equal(payment.currency, 'KRW');
  assert.deepEqual(payment.amount, { total: 15_000, taxFree: 0, vat: 1364, supply: 13_636, discount: 0, paid: 15_000, cancelled: 0, cancelledTaxFree: 0 });
  assert.deepEqual(payment.customer, { name: '홍길동', email: 'buyer@example.com', phoneNumber: '010-1234-5678' });
  assert.equal(payment.customData, '{"seat":"A-1"}');
  assert.match(payment.pgTxId ?? '', /^sim[0-9a-f]{24}$/);
  assert.ok(Date.parse(payment.paidAt) >= Date.parse(payment.requestedAt));
  assert.equal(payment.statusChangedAt, payment.paidAt);
  assert.equal(payment.method?.type, 'PaymentMethodCard');
  if (payment.method?.type === 'PaymentMethodCard') {
    assert.match(payment.method.card?.number ?? '', /^\d{6}\*{6}\d{4}$/);
    assert.match(payment.method.approvalNumber ?? '', /^\d{8}$/);
  }
  assert.equal(payment.channel.type, 'TEST');
  assert.deepEqual(payment.disputes, []);

  const withStore = await rig.client.getPayment({ paymentId: 'order-paid', storeId: DEFAULT_STORE_ID });
  assert.deepEqual(withStore, payment);
  // A raw call without the trailing "?" the SDK leaves, as curl users write it.
  const raw = await fetch(`${rig.gateway.url}/payments/order-paid`, { headers: { authorization: `PortOne ${API_SECRET}` } });
  assert.equal(raw.status, 200);
  assert.deepEqual(await raw.json(), payment);
  assertAnswersValid(rig, 3);
});

test('getPayment: every status has the shape its schema asks for', async (t) => {
  const rig = await rigFor(t);
  // A run registers its buyers' payments before the timed part: READY until the merchant's confirm answer.
  rig.gateway.register({ run: 'run-1', api: 'v2', payments: [{ orderId: 'order-ready', amount: 30_000 }] });
  await pay(rig.gateway, { merchant_uid: 'order-failed', outcome: 'decline', decline_reason: '한도초과' });
  await pay(rig.gateway, { merchant_uid: 'order-cancelled' });
  await pay(rig.gateway, { merchant_uid: 'order-partial' });
  await rig.client.cancelPayment({ paymentId: 'order-cancelled', reason: '고객 요청' });
  await rig.client.cancelPayment({ paymentId: 'order-partial', reason: '부분 환불', amount: 5000 });

  const ready = await rig.client.getPayment({ paymentId: 'order-ready' });
  assert.equal(ready.status, 'READY');
  if (ready.status === 'READY') {
    assert.equal(ready.amount.paid, 0);
    assert.equal(ready.method, undefined, 'no card was approved yet');
    assert.equal(ready.statusChangedAt, ready.requestedAt);
  }
  const failed = await rig.client.getPayment({ paymentId: 'order-failed' });
  assert.equal(failed.status, 'FAILED');
  if (failed.status === 'FAILED') {
    assert.equal(failed.failure.reason, '한도초과');
    assert.equal(failed.statusChangedAt, failed.failedAt);
  }
  const cancelled = await rig.client.getPayment({ paymentId: 'order-cancelled' });
  assert.equal(cancelled.status, 'CANCELLED');
  if (cancelled.status === 'CANCELLED') {
    assert.equal(cancelled.amount.cancelled, 15_000);
    assert.equal(cancelled.cancellations.length, 1);
    assert.equal(cancelled.cancellations[0]?.status, 'SUCCEEDED');
    assert.equal(cancelled.cancellations[0]?.reason, '고객 요청');
  }
  const partial = await rig.client.getPayment({ paymentId: 'order-partial' });
  assert.equal(partial.status, 'PARTIAL_CANCELLED');
  if (partial.status === 'PARTIAL_CANCELLED') {
    assert.equal(partial.amount.cancelled, 5000);
    assert.equal(amountOf(partial.cancellations[0]), 5000);
  }
  assertAnswersValid(rig, 6);
});

test('getPayment refusals are the SDK\'s own errors: 404, 401 (wrong and missing secret), 403 for another store', async (t) => {
  const rig = await rigFor(t);
  const missing = await rejection(rig.client.getPayment({ paymentId: 'nobody' }), Payment.GetPaymentError);
  assert.equal(typeOf(missing), 'PAYMENT_NOT_FOUND');

  const intruder = PaymentClient({ secret: 'guessed-secret', baseUrl: rig.gateway.url });
  const unauthorized = await rejection(intruder.getPayment({ paymentId: 'nobody' }), Payment.GetPaymentError);
  assert.equal(typeOf(unauthorized), 'UNAUTHORIZED');

  const otherStore = await rejection(rig.client.getPayment({ paymentId: 'nobody', storeId: 'store-of-someone-else' }), Payment.GetPaymentError);
  assert.equal(typeOf(otherStore), 'FORBIDDEN');

  // The default secret is refused once another is configured.
  const byDefault = PaymentClient({ secret: DEFAULT_API_SECRET, baseUrl: rig.gateway.url });
  assert.equal(typeOf(await rejection(byDefault.getPayment({ paymentId: 'x' }), Payment.GetPaymentError)), 'UNAUTHORIZED');
  assertAnswersValid(rig, 4);

  const anonymous = await fetch(`${rig.gateway.url}/payments/x/pre-register`, { method: 'POST', body: '{}' });
  assert.equal(anonymous.status, 401, 'a V2-only path without a credential is a V2 401');
  assert.deepEqual(Object.keys((await anonymous.json()) as object), ['type', 'message']);
});

test('preRegisterPayment fixes the amount: a different amount is refused, the same one pays, a paid one is ALREADY_PAID', async (t) => {
  const rig = await rigFor(t);
  assert.deepEqual(await rig.client.preRegisterPayment({ paymentId: 'order-pre', totalAmount: 20_000, currency: 'KRW' }), {});
  // Registering again replaces the amount, as a merchant changes an order before the buyer pays.
  assert.deepEqual(await rig.client.preRegisterPayment({ paymentId: 'order-pre', totalAmount: 15_000, currency: 'KRW' }), {});

  await assert.rejects(pay(rig.gateway, { merchant_uid: 'order-pre', amount: 20_000 }), /prepared for amount 15000/);
  await pay(rig.gateway, { merchant_uid: 'order-pre', amount: 15_000 });
  assert.equal((await rig.client.getPayment({ paymentId: 'order-pre' })).status, 'PAID');

  const again = await rejection(rig.client.preRegisterPayment({ paymentId: 'order-pre', totalAmount: 1000 }), Payment.PreRegisterPaymentError);
  assert.equal(typeOf(again), 'ALREADY_PAID');
  const bad = await rejection(
    rig.client.preRegisterPayment({ paymentId: 'order-x', totalAmount: 1000, currency: 'WON' as 'KRW' }),
    Payment.PreRegisterPaymentError,
  );
  assert.equal(typeOf(bad), 'INVALID_REQUEST');
  assertAnswersValid(rig, 5);
});

test('cancelPayment: partial then full, every refusal typed as the file has it', async (t) => {
  const rig = await rigFor(t);
  await pay(rig.gateway, { merchant_uid: 'order-c' });
  await pay(rig.gateway, { merchant_uid: 'order-declined', outcome: 'decline' });

  const typeOfCancel = async (options: Parameters<Rig['client']['cancelPayment']>[0]): Promise<string> =>
    typeOf(await rejection(rig.client.cancelPayment(options), Payment.CancelPaymentError));
  assert.equal(await typeOfCancel({ paymentId: 'nobody', reason: 'x' }), 'PAYMENT_NOT_FOUND');
  assert.equal(await typeOfCancel({ paymentId: 'order-declined', reason: 'x' }), 'PAYMENT_NOT_PAID');
  assert.equal(await typeOfCancel({ paymentId: 'order-c', reason: 'x', amount: 20_000 }), 'CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT');
  assert.equal(await typeOfCancel({ paymentId: 'order-c', reason: 'x', amount: 1000, currentCancellableAmount: 1 }), 'CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN');
  assert.equal(await typeOfCancel({ paymentId: 'order-c', reason: undefined as unknown as string }), 'INVALID_REQUEST');

  const first = await rig.client.cancelPayment({ paymentId: 'order-c', reason: '부분 취소', amount: 4000, currentCancellableAmount: 15_000 });
  assert.equal(first.cancellation.status, 'SUCCEEDED');
  assert.equal(amountOf(first.cancellation), 4000);
  const rest = await rig.client.cancelPayment({ paymentId: 'order-c', reason: '전액 취소' });
  assert.equal(amountOf(rest.cancellation), 11_000);
  assert.equal(await typeOfCancel({ paymentId: 'order-c', reason: 'x' }), 'PAYMENT_ALREADY_CANCELLED');
  const payment = await rig.client.getPayment({ paymentId: 'order-c' });
  assert.equal(payment.status, 'CANCELLED');
  assertAnswersValid(rig, 9);
});

test('getPayments: the SDK\'s requestBody query, filters, sort order and pages', async (t) => {
  const rig = await rigFor(t);
  for (let index = 0; index < 5; index += 1) await pay(rig.gateway, { merchant_uid: `order-${index}`, outcome: index % 2 === 0 ? 'approve' : 'decline' });
  await rig.gateway.requestPayment({ merchant_uid: 'v1-order', amount: 1000 });

  const all = await rig.client.getPayments({});
  assert.equal(all.page.totalCount, 5, 'V2 payments only');
  const paid = await rig.client.getPayments({ filter: { status: ['PAID'], sortOrder: 'ASC' }, page: { number: 0, size: 2 } });
  assert.deepEqual(paid.page, { number: 0, size: 2, totalCount: 3 });
  assert.deepEqual(paid.items.map(idOf), ['order-0', 'order-2']);
  const second = await rig.client.getPayments({ filter: { status: ['PAID'], sortOrder: 'ASC' }, page: { number: 1, size: 2 } });
  assert.deepEqual(second.items.map(idOf), ['order-4']);
  const failed = await rig.client.getPayments({ filter: { status: ['FAILED'], storeId: DEFAULT_STORE_ID } });
  assert.deepEqual(failed.items.map(idOf).sort(), ['order-1', 'order-3']);
  const future = await rig.client.getPayments({ filter: { from: new Date(Date.now() + 3_600_000).toISOString() } });
  assert.equal(future.page.totalCount, 0);

  const unsupported = await rejection(rig.client.getPayments({ filter: { textSearch: [{ field: 'ALL', value: 'x' }] } }), Payment.GetPaymentsError);
  assert.equal(typeOf(unsupported), 'INVALID_REQUEST');
  assert.match(unsupported.message, /textSearch is not simulated/);
  assertAnswersValid(rig, 6);
});
