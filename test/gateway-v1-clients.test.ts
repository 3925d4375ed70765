import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startGateway, type RunningGateway } from '../src/gateway/index.js';
import { assertV1 } from './helpers/gateway-rest-schemas.js';
import { observeV1Answers, type V1Observer } from './helpers/gateway-rest-observe.js';

/**
 * The V1 gateway driven through iamport's npm client libraries, code nobody here wrote, exactly as a merchant
 * configures each one against a base URL of its choice:
 * - `iamport` (0.3.4) takes no base URL option: its constructor copies the static `Iamport.DEFAULT_HOST` into
 *   the instance, and each resource copies the instance's host when it is made. Setting DEFAULT_HOST before
 *   `new Iamport(...)` is the one way to point it elsewhere (a merchant's config does the same). It has no
 *   call for several imp_uids nor for findAll; those are driven through iamport-rest-client-nodejs.
 * - `iamport-rest-client-nodejs` (0.9.12) takes `baseUrl` in its constructor, sends `Bearer` tokens and
 *   `imp_uid[]` brackets, and reads a 207 of GET /payments into its `failed` list.
 * - `iamport-server-api` (10.x) takes the host as the connector's first argument and sends the bare token.
 *   It offers only `payments.at` and `payments.cancel` of the payment calls: no lookup by status or by order.
 * Each is loaded with require (they are CommonJS, and `iamport` has no type declarations); the few methods used
 * are typed here from their sources in node_modules. Each client talks to the gateway through a pass-through
 * proxy that validates every answer it gets (refusals included) against the V1 file's schema for that operation.
 */
const require = createRequire(import.meta.url);

const IMP_KEY = 'shop_rest_key';
const IMP_SECRET = 'shop_rest_secret_0123456789';

interface V1Payment {
  imp_uid: string;
  merchant_uid: string;
  status: string;
  amount: number;
  cancel_amount: number;
  currency: string;
  pay_method: string;
  card_number?: string;
  apply_num?: string;
  paid_at: number;
  cancel_history: Array<{ amount: number; reason: string }>;
}

interface V1Page<T> {
  total: number;
  previous: number;
  next: number;
  list: T[];
}

// ---- the clients' surfaces, as their sources define them -------------------------------------------------

interface IamportLegacyClient {
  payment: {
    getByImpUid(params: { imp_uid: string }): Promise<V1Payment>;
    getByMerchant(params: { merchant_uid: string }): Promise<V1Payment>;
    getByStatus(params: { payment_status: string; limit?: number; page?: number; sorting?: string }): Promise<V1Page<V1Payment>>;
    cancel(params: { imp_uid?: string; merchant_uid?: string; amount?: number; reason?: string; checksum?: number }): Promise<V1Payment>;
    prepare(params: { merchant_uid: string; amount: number }): Promise<{ merchant_uid: string; amount: number }>;
    getPrepare(params: { merchant_uid: string }): Promise<{ merchant_uid: string; amount: number }>;
  };
}
interface IamportLegacyModule {
  new (options: { impKey: string; impSecret: string }): IamportLegacyClient;
  DEFAULT_HOST: string;
}

/** iamport-rest-client-nodejs's Payment response converts unix seconds to Date (0 stays 0). */
type RestPayment = Omit<V1Payment, 'paid_at'> & { paid_at: Date | 0 };
interface RestResponse<T> {
  status: number;
  data: { code: number; message: string | null; response: T; failed?: string[] };
}
interface RestRequest<T> {
  request(client: unknown): Promise<RestResponse<T>>;
}
interface RestClientModule {
  Iamport: new (options: { apiKey: string; apiSecret: string; baseUrl?: string }) => unknown;
  Request: {
    Authenticate: { getToken(data: { imp_key: string; imp_secret: string }): RestRequest<{ access_token: string; expired_at: Date; now: Date }> };
    Payments: {
      getByImpUid(params: { imp_uid: string }): RestRequest<RestPayment>;
      getByImpUids(params: { imp_uid: string[] }): RestRequest<RestPayment[]>;
      getByStatus(params: { status: string; limit?: number; page?: number; sorting?: string }): RestRequest<V1Page<RestPayment>>;
      getByMerchantUid(params: { merchant_uid: string; status: string; sorting?: string }): RestRequest<RestPayment>;
      getByMerchantUids(params: { merchant_uid: string; status: string; page?: number; sorting?: string }): RestRequest<V1Page<RestPayment>>;
      cancel(data: { imp_uid?: string; merchant_uid?: string; amount?: number; reason?: string; checksum?: number }): RestRequest<RestPayment>;
    };
  };
}

interface ServerApiConnection {
  host: string;
  headers?: Record<string, string>;
}
interface ServerApiEnvelope<T> {
  code: number;
  message: string | null;
  response: T;
}
interface ServerApiModule {
  IamportConnector: new (host: string, accessor: { imp_key: string; imp_secret: string }) => { get(): Promise<ServerApiConnection> };
  HttpError: new (...args: never[]) => Error & { status: number };
  functional: {
    users: { getToken(connection: ServerApiConnection, input: { imp_key: string; imp_secret: string }): Promise<ServerApiEnvelope<{ access_token: string; expired_at: number }>> };
    payments: {
      at(connection: ServerApiConnection, impUid: string, query: Record<string, never>): Promise<ServerApiEnvelope<V1Payment>>;
      cancel(
        connection: ServerApiConnection,
        input: { imp_uid: string; merchant_uid: string; checksum: number | null; reason: string; amount?: number },
      ): Promise<ServerApiEnvelope<V1Payment>>;
    };
  };
}

// ---- a gateway with a sale's worth of history -------------------------------------------------------------

interface History {
  gateway: RunningGateway;
  /** The clients' base URL: every answer they get is validated on its way. */
  observer: V1Observer;
  /** imp_uids by name: a1 and a2 paid, b declined, c1 declined then c2 paid for the same order. */
  ids: Record<'a1' | 'a2' | 'b' | 'c1' | 'c2', string>;
  /** Every request the gateway answered, as "METHOD path status". */
  requests: string[];
}

async function withHistory(t: TestContext): Promise<History> {
  const gateway = await startGateway({ port: 0, impKey: IMP_KEY, impSecret: IMP_SECRET });
  t.after(() => gateway.close());
  const requests: string[] = [];
  gateway.events.on('request', ({ method, path, status }) => requests.push(`${method} ${path} ${status}`));
  const pay = async (merchantUid: string, amount: number, outcome: 'approve' | 'decline'): Promise<string> =>
    (await gateway.requestPayment({ merchant_uid: merchantUid, amount, name: 'concert ticket', outcome, buyer_name: '김민수' })).payment.imp_uid;
  const ids = {
    a1: await pay('order-a1', 55_000, 'approve'),
    a2: await pay('order-a2', 77_000, 'approve'),
    b: await pay('order-b', 55_000, 'decline'),
    c1: await pay('order-c', 99_000, 'decline'),
    c2: await pay('order-c', 99_000, 'approve'),
  };
  return { gateway, observer: await observeV1Answers(t, gateway.url), ids, requests };
}

function assertAnswersValid(observer: V1Observer, minimum: number): void {
  assert.deepEqual(observer.problems, [], 'every V1 answer a client got satisfies its documented schema');
  assert.ok(observer.answers.length >= minimum, `${observer.answers.length} answers observed`);
}

const ourTokens = new WeakMap<RunningGateway, Promise<string>>();

/** The test's own token, asked for once per gateway (so the clients' token requests can be counted). */
function ourToken(gateway: RunningGateway): Promise<string> {
  let token = ourTokens.get(gateway);
  if (token === undefined) {
    token = fetch(`${gateway.url}/users/getToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imp_key: IMP_KEY, imp_secret: IMP_SECRET }),
    })
      .then((answer) => answer.json() as Promise<{ response: { access_token: string } }>)
      .then(({ response }) => response.access_token);
    ourTokens.set(gateway, token);
  }
  return token;
}

/** The payment as the gateway's own V1 route shows it, checked against the strict schema. */
async function held(gateway: RunningGateway, impUid: string): Promise<V1Payment> {
  const answer = await fetch(`${gateway.url}/payments/${impUid}`, { headers: { authorization: `Bearer ${await ourToken(gateway)}` } });
  const body = (await answer.json()) as { response: V1Payment };
  assertV1('PaymentResponse', body);
  return body.response;
}

/** What a client returned is what the gateway holds: every field the client passes through unchanged. */
async function assertSame(gateway: RunningGateway, shown: V1Payment | RestPayment): Promise<void> {
  const expected = await held(gateway, shown.imp_uid);
  const record = gateway.payment(shown.imp_uid);
  assert.equal(record.orderId, shown.merchant_uid);
  assert.equal(record.status, shown.status);
  for (const field of ['merchant_uid', 'status', 'amount', 'cancel_amount', 'currency', 'pay_method', 'card_number', 'apply_num'] as const) {
    assert.deepEqual(shown[field], expected[field], `${shown.imp_uid} ${field}`);
  }
  const paidAt = shown.paid_at instanceof Date ? shown.paid_at.getTime() / 1000 : shown.paid_at;
  assert.equal(paidAt, expected.paid_at);
}

const idsOf = (list: Array<{ imp_uid: string }>): string[] => list.map((payment) => payment.imp_uid);

// ---- iamport ----------------------------------------------------------------------------------------------

test('iamport (npm): token, lookups by imp_uid, status and merchant_uid, prepare and cancel, against our base URL', async (t) => {
  const { gateway, observer, ids, requests } = await withHistory(t);
  const Iamport = require('iamport') as IamportLegacyModule;
  const realHost = Iamport.DEFAULT_HOST;
  Iamport.DEFAULT_HOST = observer.url;
  t.after(() => {
    Iamport.DEFAULT_HOST = realHost;
  });
  const iamport = new Iamport({ impKey: IMP_KEY, impSecret: IMP_SECRET });

  const single = await iamport.payment.getByImpUid({ imp_uid: ids.a1 });
  assert.equal(single.status, 'paid');
  await assertSame(gateway, single);
  assert.deepEqual(
    requests.slice(0, 2),
    ['POST /users/getToken 200', `GET /payments/${ids.a1} 200`],
    'the client got its token from us, then looked the payment up',
  );

  const paid = await iamport.payment.getByStatus({ payment_status: 'paid' });
  assert.equal(paid.total, 3);
  assert.deepEqual(idsOf(paid.list), [ids.c2, ids.a2, ids.a1], 'newest first, as the API sorts by default');
  for (const payment of paid.list) await assertSame(gateway, payment);
  const failedPage = await iamport.payment.getByStatus({ payment_status: 'failed', limit: 1, page: 2 });
  assert.deepEqual([failedPage.total, failedPage.previous, failedPage.next, idsOf(failedPage.list)], [2, 1, 0, [ids.b]]);

  const order = await iamport.payment.getByMerchant({ merchant_uid: 'order-c' });
  assert.equal(order.imp_uid, ids.c2, "the order's latest payment");
  await assertSame(gateway, order);

  const prepared = await iamport.payment.prepare({ merchant_uid: 'order-next', amount: 12_000 });
  assert.deepEqual(prepared, { merchant_uid: 'order-next', amount: 12_000 });
  assert.deepEqual(await iamport.payment.getPrepare({ merchant_uid: 'order-next' }), prepared);

  const partial = await iamport.payment.cancel({ imp_uid: ids.a2, amount: 7_000, reason: 'one seat returned', checksum: 77_000 });
  assert.deepEqual([partial.status, partial.cancel_amount], ['paid', 7_000]);
  const rest = await iamport.payment.cancel({ merchant_uid: 'order-a2', reason: 'event cancelled' });
  assert.deepEqual([rest.status, rest.cancel_amount], ['cancelled', 77_000]);
  assert.deepEqual(rest.cancel_history.map((entry) => [entry.amount, entry.reason]), [[7_000, 'one seat returned'], [70_000, 'event cancelled']]);
  await assertSame(gateway, rest);
  assert.equal(gateway.payment(ids.a2).cancelledAmount, 77_000);

  await assert.rejects(iamport.payment.getByImpUid({ imp_uid: 'imp_000000000000' }), { code: 'HTTP_404' });
  await assert.rejects(iamport.payment.cancel({ imp_uid: ids.a2, reason: 'again' }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'IAMPORT_1', 'a business refusal: HTTP 200, code 1');
    assert.match(error.message, /already fully cancelled/);
    return true;
  });
  assert.equal(requests.filter((line) => line.startsWith('POST /users/getToken')).length, 2, "the client's one token (it cached it) and the test's");
  assertAnswersValid(observer, 10);
});

// ---- iamport-rest-client-nodejs ---------------------------------------------------------------------------

test('iamport-rest-client-nodejs: token, single, several imp_uid[] (with a 207), by status, find and findAll, cancel', async (t) => {
  const { gateway, observer, ids, requests } = await withHistory(t);
  const { Iamport, Request } = require('iamport-rest-client-nodejs') as RestClientModule;
  const iamport = new Iamport({ apiKey: IMP_KEY, apiSecret: IMP_SECRET, baseUrl: observer.url });
  const { Authenticate, Payments } = Request;

  const token = await Authenticate.getToken({ imp_key: IMP_KEY, imp_secret: IMP_SECRET }).request(iamport);
  assert.equal(token.data.code, 0);
  assert.match(token.data.response.access_token, /^[0-9a-f]{40}$/);
  assert.ok(token.data.response.expired_at.getTime() > token.data.response.now.getTime());
  const refused = await Authenticate.getToken({ imp_key: IMP_KEY, imp_secret: 'wrong' })
    .request(iamport)
    .then(
      () => null,
      (error: { response: { status: number; data: { code: number } } }) => error.response,
    );
  assert.deepEqual([refused?.status, refused?.data.code], [401, -1]);

  const single = await Payments.getByImpUid({ imp_uid: ids.b }).request(iamport);
  assert.equal(single.data.response.status, 'failed');
  await assertSame(gateway, single.data.response);

  const several = await Payments.getByImpUids({ imp_uid: [ids.a1, ids.c1, ids.c2] }).request(iamport);
  assert.equal(several.status, 200);
  assert.deepEqual(idsOf(several.data.response), [ids.a1, ids.c1, ids.c2]);
  for (const payment of several.data.response) await assertSame(gateway, payment);
  const some = await Payments.getByImpUids({ imp_uid: [ids.a2, 'imp_000000000000'] }).request(iamport);
  assert.equal(some.status, 207);
  assert.deepEqual(idsOf(some.data.response), [ids.a2]);
  assert.deepEqual(some.data.failed, ['imp_000000000000'], 'the client lists what the gateway did not find');

  const all = await Payments.getByStatus({ status: 'all', limit: 2, sorting: 'started' }).request(iamport);
  assert.deepEqual([all.data.response.total, all.data.response.next, idsOf(all.data.response.list)], [5, 2, [ids.a1, ids.a2]]);
  const next = await Payments.getByStatus({ status: 'all', limit: 2, page: 2, sorting: 'started' }).request(iamport);
  assert.deepEqual(idsOf(next.data.response.list), [ids.b, ids.c1]);
  for (const payment of next.data.response.list) await assertSame(gateway, payment);

  const latest = await Payments.getByMerchantUid({ merchant_uid: 'order-c', status: 'all' }).request(iamport);
  assert.equal(latest.data.response.imp_uid, ids.c2);
  const failedOne = await Payments.getByMerchantUid({ merchant_uid: 'order-c', status: 'failed' }).request(iamport);
  assert.equal(failedOne.data.response.imp_uid, ids.c1);
  const everyAttempt = await Payments.getByMerchantUids({ merchant_uid: 'order-c', status: 'all', sorting: 'started' }).request(iamport);
  assert.deepEqual([everyAttempt.data.response.total, idsOf(everyAttempt.data.response.list)], [2, [ids.c1, ids.c2]]);
  for (const payment of everyAttempt.data.response.list) await assertSame(gateway, payment);

  const cancelled = await Payments.cancel({ imp_uid: ids.c2, reason: 'sold twice by mistake', checksum: 99_000 }).request(iamport);
  assert.deepEqual([cancelled.data.response.status, cancelled.data.response.cancel_amount], ['cancelled', 99_000]);
  await assertSame(gateway, cancelled.data.response);
  const stillPaid = await Payments.getByMerchantUid({ merchant_uid: 'order-c', status: 'paid' }).request(iamport).catch((error: { response: { status: number } }) => error.response.status);
  assert.equal(stillPaid, 404, 'no paid payment of the order is left');

  assert.ok(requests.some((line) => line.startsWith('GET /payments 207')), 'the 207 went over the wire');
  assert.ok(requests.every((line) => !line.endsWith(' 500')), requests.join('\n'));
  assertAnswersValid(observer, 12);
});

// ---- iamport-server-api -----------------------------------------------------------------------------------

test('iamport-server-api: token, the payment by imp_uid, a partial and a full cancel; its HttpError for a 404', async (t) => {
  const { gateway, observer, ids } = await withHistory(t);
  const imp = require('iamport-server-api') as ServerApiModule;
  const token = await imp.functional.users.getToken({ host: observer.url }, { imp_key: IMP_KEY, imp_secret: IMP_SECRET });
  assert.equal(token.code, 0);
  assert.ok(token.response.expired_at > Date.now() / 1000);

  const connector = new imp.IamportConnector(observer.url, { imp_key: IMP_KEY, imp_secret: IMP_SECRET });
  for (const impUid of [ids.a1, ids.b, ids.c2]) {
    const reloaded = await imp.functional.payments.at(await connector.get(), impUid, {});
    assert.equal(reloaded.code, 0);
    await assertSame(gateway, reloaded.response);
  }
  const card = (await imp.functional.payments.at(await connector.get(), ids.a1, {})).response;
  assert.equal(card.pay_method, 'card');
  assert.match(card.card_number ?? '', /^\d{6}\*{6}\d{4}$/, 'a paid card payment shows its card');

  const partial = await imp.functional.payments.cancel(await connector.get(), {
    imp_uid: ids.a1,
    merchant_uid: 'order-a1',
    checksum: 55_000,
    reason: 'changed seat',
    amount: 5_000,
  });
  assert.deepEqual([partial.code, partial.response.status, partial.response.cancel_amount], [0, 'paid', 5_000]);
  const full = await imp.functional.payments.cancel(await connector.get(), { imp_uid: ids.a1, merchant_uid: 'order-a1', checksum: null, reason: 'refund' });
  assert.deepEqual([full.response.status, full.response.cancel_amount], ['cancelled', 55_000]);
  await assertSame(gateway, full.response);

  await assert.rejects(imp.functional.payments.at(await connector.get(), 'imp_000000000000', {}), (error: unknown) => {
    assert.ok(error instanceof imp.HttpError);
    assert.equal(error.status, 404);
    return true;
  });
  assertAnswersValid(observer, 7);
});
