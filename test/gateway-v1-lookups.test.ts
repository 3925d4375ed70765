import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_IMP_KEY, DEFAULT_IMP_SECRET, startGateway, type GatewayOptions, type RunningGateway } from '../src/gateway/index.js';
import { assertV1, assertV1Answer, assertV2 } from './helpers/gateway-rest-schemas.js';

/**
 * The V1 lookups iamport's client libraries call beside GET /payments/{imp_uid}: by status, by order (find and
 * findAll), several at once; and the input checks of the calls that take amounts. Every answer is validated
 * against the strict schema the gateway's OpenAPI file documents for its operation and HTTP status, and every
 * payment shown is compared with what the gateway holds.
 */

interface Envelope {
  code: number;
  message: string | null;
  response: unknown;
}

interface Answer {
  status: number;
  body: Envelope;
}

interface V1Payment {
  imp_uid: string;
  merchant_uid: string;
  status: string;
  amount: number;
  currency: string;
  started_at: number;
  paid_at: number;
  [field: string]: unknown;
}

interface V1Page {
  total: number;
  previous: number;
  next: number;
  list: V1Payment[];
}

const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
const T0_SECONDS = T0 / 1000;

async function gatewayFor(t: TestContext, options: GatewayOptions = {}): Promise<RunningGateway> {
  const gateway = await startGateway({ port: 0, ...options });
  t.after(() => gateway.close());
  return gateway;
}

async function call(
  gateway: RunningGateway,
  method: string,
  path: string,
  options: { json?: unknown; form?: Record<string, string>; token?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const response = await fetch(`${gateway.url}${path}`, { method, headers, body });
  const answer: Answer = { status: response.status, body: (await response.json()) as Envelope };
  const { pathname } = new URL(path, gateway.url);
  // The simulation's own routes are no V1 operation: their envelope is checked, their payload by the tests.
  if (pathname.startsWith('/sim/')) assertV1('ResponseAnnotation', answer.body);
  else assertV1Answer(method, pathname, answer.status, answer.body);
  if (answer.body.code === 0) assert.equal(answer.body.message, null);
  return answer;
}

/** A refusal for bad input: HTTP 400, code -1 as iamport answers, a message naming the field. */
async function assertInvalid(answer: Promise<Answer>, field: RegExp): Promise<void> {
  const { status, body } = await answer;
  assert.equal(status, 400, JSON.stringify(body));
  assert.equal(body.code, -1);
  assert.match(body.message ?? '', field);
}

async function tokenOf(gateway: RunningGateway): Promise<string> {
  const answer = await call(gateway, 'POST', '/users/getToken', { json: { imp_key: DEFAULT_IMP_KEY, imp_secret: DEFAULT_IMP_SECRET } });
  return (answer.body.response as { access_token: string }).access_token;
}

/** Each payment shown must be the gateway's own record, field for field of what both carry. */
function assertHeld(gateway: RunningGateway, shown: V1Payment): void {
  const held = gateway.payment(shown.imp_uid);
  assert.equal(held.impUid, shown.imp_uid);
  assert.equal(held.orderId, shown.merchant_uid);
  assert.equal(held.status, shown.status);
  assert.equal(held.amount, shown.amount);
  assert.equal(held.currency, shown.currency);
  assert.equal(Math.floor(held.requestedAt / 1000), shown.started_at);
  assert.equal(held.paidAt === null ? 0 : Math.floor(held.paidAt / 1000), shown.paid_at);
}

function pageOf(answer: Answer, gateway: RunningGateway): V1Page {
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const page = answer.body.response as V1Page;
  for (const payment of page.list) assertHeld(gateway, payment);
  return page;
}

/**
 * A gateway with a history, ten seconds apart on its own clock:
 * order-a paid; order-b declined; order-c paid then cancelled; order-d declined then paid again;
 * a V1 run with two ready payments; a V2 run with one (which no V1 lookup may show).
 */
async function withHistory(t: TestContext): Promise<{ gateway: RunningGateway; token: string; tick: () => void; ids: Record<string, string> }> {
  let now = T0;
  const tick = (): void => {
    now += 10_000;
  };
  const gateway = await gatewayFor(t, { now: () => now });
  const ids: Record<string, string> = {};
  const pay = async (name: string, merchantUid: string, outcome: 'approve' | 'decline'): Promise<void> => {
    const attempt = await gateway.requestPayment({ merchant_uid: merchantUid, amount: 1000, name: 'ticket', outcome });
    ids[name] = attempt.payment.imp_uid;
    tick();
  };
  await pay('a', 'order-a', 'approve');
  await pay('b', 'order-b', 'decline');
  await pay('c', 'order-c', 'approve');
  await pay('d1', 'order-d', 'decline');
  await pay('d2', 'order-d', 'approve');
  await gateway.cancelPayment({ imp_uid: ids.c!, reason: 'buyer asked' });
  tick();
  gateway.register({ run: 'sale-1', payments: [{ orderId: 'order-r1', impUid: 'imp_100000000001', amount: 500 }, { orderId: 'order-r2', impUid: 'imp_100000000002', amount: 500 }] });
  ids.r1 = 'imp_100000000001';
  ids.r2 = 'imp_100000000002';
  gateway.register({ run: 'sale-v2', api: 'v2', payments: [{ orderId: 'v2-order', amount: 700 }] });
  tick();
  return { gateway, token: await tokenOf(gateway), tick, ids };
}

// ---- GET /payments/status/{payment_status} -----------------------------------------------------------

test('payments by status: a page of V1 payments in that status, newest first, with total, previous and next', async (t) => {
  const { gateway, token, ids } = await withHistory(t);
  const paid = pageOf(await call(gateway, 'GET', '/payments/status/paid', { token }), gateway);
  assert.deepEqual(paid.list.map((payment) => payment.imp_uid), [ids.d2, ids.a]);
  assert.deepEqual({ total: paid.total, previous: paid.previous, next: paid.next }, { total: 2, previous: 0, next: 0 });

  const failed = pageOf(await call(gateway, 'GET', '/payments/status/failed', { token }), gateway);
  assert.deepEqual(failed.list.map((payment) => payment.imp_uid), [ids.d1, ids.b]);
  const cancelled = pageOf(await call(gateway, 'GET', '/payments/status/cancelled', { token }), gateway);
  assert.deepEqual(cancelled.list.map((payment) => payment.imp_uid), [ids.c]);
  const ready = pageOf(await call(gateway, 'GET', '/payments/status/ready', { token }), gateway);
  assert.deepEqual(ready.list.map((payment) => payment.imp_uid), [ids.r2, ids.r1], 'the V2 payment is not a V1 one');

  const all = pageOf(await call(gateway, 'GET', '/payments/status/all?sorting=started', { token }), gateway);
  assert.deepEqual(all.list.map((payment) => payment.imp_uid), [ids.a, ids.b, ids.c, ids.d1, ids.d2, ids.r1, ids.r2]);
});

test('payments by status: limit and page walk the list; a page past the end is a 400', async (t) => {
  const { gateway, token, ids } = await withHistory(t);
  const walk: string[] = [];
  let page = 1;
  for (;;) {
    const answer = await call(gateway, 'GET', `/payments/status/all?limit=3&page=${page}&sorting=started`, { token });
    const shown = pageOf(answer, gateway);
    assert.equal(shown.total, 7);
    assert.equal(shown.previous, page - 1);
    walk.push(...shown.list.map((payment) => payment.imp_uid));
    if (shown.next === 0) break;
    assert.equal(shown.next, page + 1);
    page = shown.next;
  }
  assert.equal(page, 3);
  assert.deepEqual(walk, [ids.a, ids.b, ids.c, ids.d1, ids.d2, ids.r1, ids.r2]);
  await assertInvalid(call(gateway, 'GET', '/payments/status/all?limit=3&page=4', { token }), /page 4 is past the last page/);
  const empty = pageOf(await call(gateway, 'GET', '/payments/status/paid?to=1', { token }), gateway);
  assert.deepEqual(empty, { total: 0, previous: 0, next: 0, list: [] }, 'the first page of nothing is an empty page');
});

test('payments by status: from and to bound the time of each payment\'s status, in unix seconds', async (t) => {
  const { gateway, token, ids } = await withHistory(t);
  // order-a was paid at T0, order-d's second payment at T0 + 40 s.
  const late = pageOf(await call(gateway, 'GET', `/payments/status/paid?from=${T0_SECONDS + 1}`, { token }), gateway);
  assert.deepEqual(late.list.map((payment) => payment.imp_uid), [ids.d2]);
  const early = pageOf(await call(gateway, 'GET', `/payments/status/paid?from=${T0_SECONDS}&to=${T0_SECONDS + 39}`, { token }), gateway);
  assert.deepEqual(early.list.map((payment) => payment.imp_uid), [ids.a]);
  // order-c was started at T0 + 20 s but cancelled at T0 + 50 s: the cancel's time counts.
  const cancelled = pageOf(await call(gateway, 'GET', `/payments/status/cancelled?from=${T0_SECONDS + 50}&to=${T0_SECONDS + 50}`, { token }), gateway);
  assert.deepEqual(cancelled.list.map((payment) => payment.imp_uid), [ids.c]);
  await assertInvalid(call(gateway, 'GET', `/payments/status/paid?from=${T0_SECONDS + 9}&to=${T0_SECONDS}`, { token }), /from \d+ is after to/);
});

test('payments by status: a bad status, page, limit, from or sorting is a 400 naming it', async (t) => {
  const { gateway, token } = await withHistory(t);
  await assertInvalid(call(gateway, 'GET', '/payments/status/banana', { token }), /payment_status "banana" is not a payment status/);
  await assertInvalid(call(gateway, 'GET', '/payments/status/paid?limit=1001', { token }), /limit must be a whole number from 1 to 1000/);
  await assertInvalid(call(gateway, 'GET', '/payments/status/paid?limit=0', { token }), /limit/);
  await assertInvalid(call(gateway, 'GET', '/payments/status/paid?page=0', { token }), /page must be a whole number of 1 or more/);
  await assertInvalid(call(gateway, 'GET', '/payments/status/paid?page=1.5', { token }), /page/);
  await assertInvalid(call(gateway, 'GET', '/payments/status/paid?from=yesterday', { token }), /from must be a whole number/);
  await assertInvalid(call(gateway, 'GET', '/payments/status/paid?sorting=newest', { token }), /sorting "newest" is not one of -started, started/);
  assert.equal((await call(gateway, 'GET', '/payments/status/paid')).status, 401, 'a lookup needs a token');
});

// ---- by order: find and findAll ----------------------------------------------------------------------

test('find by merchant_uid: the latest payment, or the latest in a status; all means any; sorting picks another', async (t) => {
  const { gateway, token, ids } = await withHistory(t);
  const latest = await call(gateway, 'GET', '/payments/find/order-d', { token });
  assert.equal((latest.body.response as V1Payment).imp_uid, ids.d2);
  const any = await call(gateway, 'GET', '/payments/find/order-d/all', { token });
  assert.equal((any.body.response as V1Payment).imp_uid, ids.d2);
  const failed = await call(gateway, 'GET', '/payments/find/order-d/failed', { token });
  assert.equal((failed.body.response as V1Payment).imp_uid, ids.d1);
  const first = await call(gateway, 'GET', '/payments/find/order-d/all?sorting=started', { token });
  assert.equal((first.body.response as V1Payment).imp_uid, ids.d1);
  assertHeld(gateway, first.body.response as V1Payment);

  const none = await call(gateway, 'GET', '/payments/find/order-d/cancelled', { token });
  assert.equal(none.status, 404);
  assert.equal(none.body.code, -1);
  await assertInvalid(call(gateway, 'GET', '/payments/find/order-d/banana', { token }), /payment_status/);
  assert.equal((await call(gateway, 'GET', '/payments/find/v2-order', { token })).status, 404, 'a V2 paymentId is no merchant_uid');
});

test('findAll by merchant_uid: every payment of the order, paged, in a status or all', async (t) => {
  const { gateway, token, ids } = await withHistory(t);
  const every = pageOf(await call(gateway, 'GET', '/payments/findAll/order-d', { token }), gateway);
  assert.deepEqual(every.list.map((payment) => payment.imp_uid), [ids.d2, ids.d1]);
  const all = pageOf(await call(gateway, 'GET', '/payments/findAll/order-d/all?sorting=started', { token }), gateway);
  assert.deepEqual(all.list.map((payment) => payment.imp_uid), [ids.d1, ids.d2]);
  const paid = pageOf(await call(gateway, 'GET', '/payments/findAll/order-d/paid', { token }), gateway);
  assert.deepEqual(paid.list.map((payment) => payment.imp_uid), [ids.d2]);
  const second = pageOf(await call(gateway, 'GET', '/payments/findAll/order-d?limit=1&page=2', { token }), gateway);
  assert.deepEqual({ total: second.total, previous: second.previous, next: second.next }, { total: 2, previous: 1, next: 0 });
  assert.deepEqual(second.list.map((payment) => payment.imp_uid), [ids.d1]);

  const unknown = await call(gateway, 'GET', '/payments/findAll/order-none', { token });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, -1);
  await assertInvalid(call(gateway, 'GET', '/payments/findAll/order-d/refunded', { token }), /payment_status "refunded"/);
});

// ---- several at once: GET /payments?imp_uid[]= ---------------------------------------------------------

test('several payments by imp_uid[] and merchant_uid[]: 200 when all exist, 207 with those that do, 404 for none', async (t) => {
  const { gateway, token, ids } = await withHistory(t);
  const query = (pairs: Array<[string, string]>): string => new URLSearchParams(pairs).toString();
  const both = await call(gateway, 'GET', `/payments?${query([['imp_uid[]', ids.c!], ['imp_uid[]', ids.a!]])}`, { token });
  assert.equal(both.status, 200);
  const shown = both.body.response as V1Payment[];
  assert.deepEqual(shown.map((payment) => payment.imp_uid), [ids.c, ids.a], 'in the order asked');
  for (const payment of shown) assertHeld(gateway, payment);

  // Brackets as qs and most HTTP clients send them: unencoded.
  const raw = await call(gateway, 'GET', `/payments?imp_uid[]=${ids.b}&merchant_uid[]=order-d`, { token });
  assert.deepEqual((raw.body.response as V1Payment[]).map((payment) => payment.imp_uid), [ids.b, ids.d2], "an order's latest payment");

  const some = await call(gateway, 'GET', `/payments?${query([['imp_uid[]', ids.a!], ['imp_uid[]', 'imp_999999999999']])}`, { token });
  assert.equal(some.status, 207);
  assert.equal(some.body.code, 0);
  assert.deepEqual((some.body.response as V1Payment[]).map((payment) => payment.imp_uid), [ids.a]);

  const none = await call(gateway, 'GET', '/payments?imp_uid[]=imp_999999999999', { token });
  assert.equal(none.status, 404);
  assert.equal(none.body.code, -1);
  await assertInvalid(call(gateway, 'GET', '/payments', { token }), /imp_uid\[\]/);
  assert.equal((await call(gateway, 'GET', `/payments?imp_uid[]=${ids.a}`)).status, 401);
});

// ---- what a paid card payment shows --------------------------------------------------------------------

test('a paid card payment shows the card it was charged to; a failed one shows none', async (t) => {
  const { gateway, token, ids } = await withHistory(t);
  const paid = (await call(gateway, 'GET', `/payments/${ids.a}`, { token })).body.response as V1Payment;
  assert.equal(paid.pay_method, 'card');
  for (const field of ['card_code', 'card_name', 'card_issuer_code', 'card_issuer_name', 'card_publisher_code', 'card_publisher_name', 'apply_num', 'pg_tid', 'receipt_url']) {
    assert.equal(typeof paid[field], 'string', field);
    assert.notEqual(paid[field], '', field);
  }
  assert.match(String(paid.card_number), /^\d{6}\*{6}\d{4}$/);
  assert.match(String(paid.card_code), /^\d{3}$/);
  assert.match(String(paid.apply_num), /^\d{8}$/);
  assert.ok(paid.card_type === 0 || paid.card_type === 1);
  assert.equal(paid.card_quota, 0, '일시불');
  const again = (await call(gateway, 'GET', `/payments/${ids.a}`, { token })).body.response as V1Payment;
  assert.equal(again.card_number, paid.card_number, 'the same payment shows the same card');
  const cancelled = (await call(gateway, 'GET', `/payments/${ids.c}`, { token })).body.response as V1Payment;
  assert.equal(typeof cancelled.card_number, 'string', 'a cancelled payment was charged to a card too');

  const failed = (await call(gateway, 'GET', `/payments/${ids.b}`, { token })).body.response as V1Payment;
  for (const field of ['card_code', 'card_name', 'card_number', 'apply_num', 'pg_tid']) assert.equal(field in failed, false, field);
  assert.equal(failed.card_type, null);
});

test('other pay methods show what they were paid with: vbank its account, trans its bank, phone neither; V1 and V2 strict', async (t) => {
  let now = T0;
  const gateway = await gatewayFor(t, { now: () => now });
  const token = await tokenOf(gateway);
  const paidWith = async (payMethod: string, dialect: 'v1' | 'v2-2024-04-25' = 'v1'): Promise<string> =>
    (await gateway.requestPayment({ merchant_uid: `order-${payMethod}-${dialect}`, amount: 3000, pay_method: payMethod, buyer_tel: '010-1234-5678', dialect })).payment.imp_uid;
  const v1 = async (impUid: string): Promise<V1Payment> => (await call(gateway, 'GET', `/payments/${impUid}`, { token })).body.response as V1Payment;
  const cardFields = ['card_code', 'card_name', 'card_number', 'card_issuer_code', 'card_publisher_code', 'apply_num'];

  const vbank = await v1(await paidWith('vbank'));
  assert.equal(vbank.status, 'paid');
  assert.match(String(vbank.vbank_code), /^\d{3}$/);
  assert.match(String(vbank.vbank_name), /은행$/);
  assert.match(String(vbank.vbank_num), /^\d{13}$/);
  assert.equal(typeof vbank.vbank_holder, 'string');
  assert.notEqual(vbank.vbank_holder, '');
  assert.equal(vbank.vbank_issued_at, T0_SECONDS, 'the simulated buyer deposits as soon as the account is issued');
  assert.equal(vbank.vbank_date, T0_SECONDS + 3 * 24 * 3600, 'the deposit deadline');
  for (const field of [...cardFields, 'bank_code', 'bank_name']) assert.equal(field in vbank, false, `vbank: ${field}`);
  assert.equal(vbank.card_type, null);

  const trans = await v1(await paidWith('trans'));
  assert.match(String(trans.bank_code), /^\d{3}$/);
  assert.match(String(trans.bank_name), /은행$/);
  for (const field of [...cardFields, 'vbank_code', 'vbank_num']) assert.equal(field in trans, false, `trans: ${field}`);
  assert.deepEqual([trans.vbank_date, trans.vbank_issued_at], [0, 0]);

  const phone = await v1(await paidWith('phone'));
  for (const field of [...cardFields, 'bank_code', 'vbank_code', 'vbank_num']) assert.equal(field in phone, false, `phone: ${field}`);
  assert.deepEqual([phone.pay_method, phone.vbank_date, phone.vbank_issued_at], ['phone', 0, 0]);

  now += 10_000;
  const declined = await gateway.requestPayment({ merchant_uid: 'order-vbank-declined', amount: 3000, pay_method: 'vbank', outcome: 'decline' });
  const unissued = await v1(declined.payment.imp_uid);
  assert.equal('vbank_num' in unissued, false, 'a declined payment got no account');
  assert.deepEqual([unissued.vbank_date, unissued.vbank_issued_at], [0, 0]);

  // V2 names each method by its own branch of PaymentMethod, with the same bank and account.
  const v2 = async (payMethod: string): Promise<Record<string, unknown>> => {
    await paidWith(payMethod, 'v2-2024-04-25');
    const answer = await fetch(`${gateway.url}/payments/order-${payMethod}-v2-2024-04-25`, { headers: { authorization: 'PortOne confirm_sim_api_secret' } });
    const body = (await answer.json()) as { method?: Record<string, unknown> };
    assertV2('getPayment', answer.status, body);
    return body.method ?? {};
  };
  const account = await v2('vbank');
  assert.equal(account.type, 'PaymentMethodVirtualAccount');
  assert.match(String(account.accountNumber), /^\d{13}$/);
  assert.equal(Date.parse(String(account.expiredAt)) - Date.parse(String(account.issuedAt)), 3 * 24 * 3600 * 1000);
  const transfer = await v2('trans');
  assert.equal(transfer.type, 'PaymentMethodTransfer');
  assert.equal(typeof transfer.bank, 'string', 'a Bank value, which the schema checks');
  assert.deepEqual(await v2('phone'), { type: 'PaymentMethodMobile', phoneNumber: '010-1234-5678' });
  assert.deepEqual(await v2('kakaopay'), { type: 'PaymentMethodEasyPay', provider: 'KAKAOPAY' });
  const gift = await v2('cultureland');
  assert.deepEqual([gift.type, gift.giftCertificateType], ['PaymentMethodGiftCertificate', 'CULTURELAND']);
  assert.match(String(gift.approvalNumber), /^\d{8}$/);
});

// ---- input checks: pay_method, currency, amounts -------------------------------------------------------

test('request_pay refuses an unknown pay_method or currency and an amount its currency cannot have, naming the field', async (t) => {
  const gateway = await gatewayFor(t);
  const payment = (fields: Record<string, unknown>): Promise<Answer> => call(gateway, 'POST', '/sim/payments', { json: { merchant_uid: 'order-1', ...fields } });
  await assertInvalid(payment({ amount: 1000, pay_method: 'bitcoin' }), /pay_method "bitcoin" is not a payment method of the V1 API; use one of samsung, card, trans/);
  await assertInvalid(payment({ amount: 1000, currency: 'XYZ' }), /currency "XYZ" is not an ISO 4217 currency code/);
  await assertInvalid(payment({ amount: 1000, currency: 'krw' }), /currency "krw"/);
  await assertInvalid(payment({ amount: -1000 }), /amount must be a number of 0 or more, not -1000/);
  await assertInvalid(payment({ amount: 1000.5 }), /amount 1000\.5 is not a whole number: KRW has no minor unit/);
  await assertInvalid(payment({ amount: 12.345, currency: 'USD' }), /amount 12\.345 has more than 2 decimals, the most USD allows/);
  await assertInvalid(payment({ amount: 'NaN' }), /amount must be a number of 0 or more, not "NaN"/);
  await assertInvalid(payment({ amount: 'Infinity' }), /amount must be a number/);
  await assertInvalid(payment({ amount: true }), /amount must be a number/);
  await assertInvalid(call(gateway, 'POST', '/sim/payments', { form: { merchant_uid: 'order-1', amount: '12abc' } }), /amount must be a number/);
  assert.deepEqual(gateway.payments(), [], 'no refused request opened a payment');

  const dollars = await payment({ amount: 19.99, currency: 'USD', pay_method: 'paypal' });
  assert.equal(dollars.body.code, 0, dollars.body.message ?? '');
  const attempt = dollars.body.response as { payment: V1Payment };
  assertV1('PaymentResponse', { code: 0, message: null, response: attempt.payment });
  assert.deepEqual([attempt.payment.amount, attempt.payment.currency, attempt.payment.pay_method], [19.99, 'USD', 'paypal']);
  assert.equal('card_number' in attempt.payment, false, 'a PayPal payment shows no card');
  const yen = await call(gateway, 'POST', '/sim/payments', { form: { merchant_uid: 'order-2', amount: '1500', currency: 'JPY', pay_method: 'trans' } });
  assert.equal(yen.body.code, 0, yen.body.message ?? '');
});

test('prepare and its edit check the amount and currency the same way', async (t) => {
  const gateway = await gatewayFor(t);
  const token = await tokenOf(gateway);
  const prepare = (method: string, fields: Record<string, unknown>): Promise<Answer> => call(gateway, method, '/payments/prepare', { json: { merchant_uid: 'order-p', ...fields }, token });
  await assertInvalid(prepare('POST', { amount: 10.5 }), /amount 10\.5 is not a whole number: KRW has no minor unit \(give a whole amount, or the currency it is in\)/);
  await assertInvalid(prepare('POST', { amount: -5 }), /amount must be a number of 0 or more/);
  await assertInvalid(prepare('POST', { amount: 0 }), /amount is required and must be more than 0/);
  await assertInvalid(prepare('POST', { amount: 1000, currency: 'WON' }), /currency "WON"/);
  const cents = await prepare('POST', { amount: 10.5, currency: 'USD' });
  assert.equal(cents.body.code, 0, cents.body.message ?? '');
  assertV1('PaymentPrepareResponse', cents.body);
  await assertInvalid(prepare('PUT', { amount: 10.505, currency: 'USD' }), /amount 10\.505 has more than 2 decimals/);
  await assertInvalid(prepare('PUT', { amount: 'lots' }), /amount must be a number/);
  assert.deepEqual((await call(gateway, 'GET', '/payments/prepare/order-p', { token })).body.response, { merchant_uid: 'order-p', amount: 10.5, currency: 'USD' });
});

test('cancel checks amount and checksum in the payment\'s currency before it cancels anything', async (t) => {
  const gateway = await gatewayFor(t);
  const token = await tokenOf(gateway);
  const won = await gateway.requestPayment({ merchant_uid: 'order-k', amount: 5000 });
  const dollars = await gateway.requestPayment({ merchant_uid: 'order-u', amount: 20, currency: 'USD' });
  const cancel = (fields: Record<string, unknown>): Promise<Answer> => call(gateway, 'POST', '/payments/cancel', { json: fields, token });
  await assertInvalid(cancel({ imp_uid: won.payment.imp_uid, amount: 100.5 }), /amount 100\.5 is not a whole number: KRW/);
  await assertInvalid(cancel({ imp_uid: won.payment.imp_uid, amount: -100 }), /amount must be a number of 0 or more/);
  await assertInvalid(cancel({ merchant_uid: 'order-k', checksum: 4999.9 }), /checksum 4999\.9 is not a whole number/);
  await assertInvalid(cancel({ imp_uid: won.payment.imp_uid, amount: 'half' }), /amount must be a number/);
  assert.equal(gateway.payment(won.payment.imp_uid).cancelledAmount, 0, 'nothing was cancelled');

  const partial = await call(gateway, 'POST', '/payments/cancel', { json: { imp_uid: dollars.payment.imp_uid, amount: 5.25, checksum: 20 }, token });
  assert.equal(partial.body.code, 0, partial.body.message ?? '');
  assert.equal((partial.body.response as V1Payment).cancel_amount, 5.25);
  const unknown = await cancel({ imp_uid: 'imp_999999999999', amount: 1 });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, -1);
});

test('a registered sale is checked the same way: currency and each amount', async (t) => {
  const gateway = await gatewayFor(t);
  const sale = (fields: Record<string, unknown>): Promise<Answer> => call(gateway, 'POST', '/sim/sales', { json: { run: 'r1', ...fields } });
  await assertInvalid(sale({ payments: [{ orderId: 'o-1', amount: 1000 }, { orderId: 'o-2', amount: 999.5 }] }), /payments\[1\]\.amount 999\.5 is not a whole number: KRW/);
  await assertInvalid(sale({ currency: 'ABC', payments: [{ orderId: 'o-1', amount: 1000 }] }), /currency must be an ISO 4217 code/);
  await assertInvalid(sale({ payments: [{ orderId: 'o-1', amount: 1000, currency: 'ZZZ' }] }), /payments\[0\]\.currency/);
  await assertInvalid(sale({ payments: [{ orderId: 'o-1', amount: -1 }] }), /payments\[0\]\.amount must be a number above 0/);
  const cents = await sale({ currency: 'USD', payments: [{ orderId: 'o-1', amount: 9.99 }] });
  assert.equal(cents.body.code, 0, cents.body.message ?? '');
});
