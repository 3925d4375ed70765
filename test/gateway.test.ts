import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import {
  DEFAULT_IMP_KEY,
  DEFAULT_IMP_SECRET,
  PAYMENT_FIELD_LIMITS,
  startGateway,
  type GatewayOptions,
  type PaymentAttempt,
  type RunningGateway,
} from '../src/gateway/index.js';
import { IMP_UID_PATTERN, parseConfirmBody, parseWebhookSecret, v1FailReason } from '../src/protocol/index.js';
import { runCli, spawnCli } from './helpers/cli.js';
import { assertV1, v1Schemas } from './helpers/gateway-rest-schemas.js';

const SECRET_TEXT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

// ---- the vendored schemas: every answer of the gateway must satisfy them, strictly ----------------------

const schemaDocument = v1Schemas;
const assertSchema = assertV1;
const paymentProperties = Object.keys(schemaDocument.definitions.PaymentAnnotation?.properties ?? {});

// ---- a small HTTP client that checks every answer it gets ---------------------------------------------

interface Answer {
  status: number;
  body: { code: number; message: string | null; response: unknown };
}

async function call(
  gateway: RunningGateway,
  method: string,
  path: string,
  options: { json?: unknown; form?: Record<string, string>; headers?: Record<string, string>; token?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
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
  const answer = { status: response.status, body: (await response.json()) as Answer['body'] };
  assertSchema('ResponseAnnotation', answer.body);
  if (answer.body.code !== 0) {
    assert.equal(typeof answer.body.message, 'string', 'a refusal says why');
    assert.equal(answer.body.response, null);
  } else {
    assert.equal(answer.status, 200);
    assert.equal(answer.body.message, null);
  }
  return answer;
}

function assertPayment(answer: Answer): Record<string, unknown> {
  assert.equal(answer.body.code, 0, answer.body.message ?? '');
  assertSchema('PaymentResponse', answer.body);
  const payment = answer.body.response as Record<string, unknown>;
  const known = Object.keys(payment).filter((name) => paymentProperties.includes(name));
  assert.deepEqual(Object.keys(payment), known, 'no field the schema does not define');
  assert.deepEqual(known, paymentProperties.filter((name) => name in payment), 'the schema\'s order');
  return payment;
}

async function tokenOf(gateway: RunningGateway): Promise<string> {
  const answer = await call(gateway, 'POST', '/users/getToken', {
    json: { imp_key: DEFAULT_IMP_KEY, imp_secret: DEFAULT_IMP_SECRET },
  });
  assertSchema('AuthResponse', answer.body);
  return (answer.body.response as { access_token: string }).access_token;
}

async function pay(gateway: RunningGateway, request: Record<string, unknown>): Promise<{ answer: Answer; attempt: PaymentAttempt }> {
  const answer = await call(gateway, 'POST', '/sim/payments', { json: request });
  assert.equal(answer.body.code, 0, answer.body.message ?? '');
  const attempt = answer.body.response as PaymentAttempt;
  assertSchema('PaymentResponse', { code: 0, message: null, response: attempt.payment });
  return { answer, attempt };
}

async function gatewayFor(t: TestContext, options: GatewayOptions = {}): Promise<RunningGateway> {
  const gateway = await startGateway({ port: 0, ...options });
  t.after(() => gateway.close());
  return gateway;
}

// ---- a merchant: confirm endpoint answering per order, webhook endpoint recording ---------------------

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

interface ConfirmRule {
  status: number;
  body?: unknown;
  delayMs?: number;
  /** Looks the payment up on the gateway from inside the confirm handler, as real merchants do. */
  lookUp?: boolean;
}

interface Merchant {
  url: string;
  confirms: Received[];
  webhooks: Received[];
  /** Payment states the confirm handler saw through the gateway's REST API. */
  seenStatuses: string[];
  rules: Map<string, ConfirmRule>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function merchantFor(t: TestContext, gatewayOf: () => RunningGateway): Promise<Merchant> {
  const merchant: Merchant = { url: '', confirms: [], webhooks: [], seenStatuses: [], rules: new Map() };
  const answer = (response: ServerResponse, status: number, body?: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body === undefined ? '' : JSON.stringify(body));
  };
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      if (request.url === '/webhook') {
        merchant.webhooks.push({ headers: request.headers, body });
        answer(response, 200, { ok: true });
        return;
      }
      merchant.confirms.push({ headers: request.headers, body });
      const parsed = parseConfirmBody(JSON.parse(body));
      const rule = merchant.rules.get(parsed?.merchantUid ?? '') ?? { status: 200 };
      if (rule.lookUp && parsed?.impUid) {
        const gateway = gatewayOf();
        const seen = await call(gateway, 'GET', `/payments/${parsed.impUid}`, { token: await tokenOf(gateway) });
        merchant.seenStatuses.push(String(assertPayment(seen).status));
      }
      if (rule.delayMs) await delay(rule.delayMs);
      answer(response, rule.status, rule.body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  merchant.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return merchant;
}

// ---- tokens ---------------------------------------------------------------------------------------------

test('getToken gives a token for the right credentials only, as JSON or as a form', async (t) => {
  const gateway = await gatewayFor(t);
  const token = await tokenOf(gateway);
  assert.match(token, /^[0-9a-f]{40}$/);

  const form = await call(gateway, 'POST', '/users/getToken', { form: { imp_key: DEFAULT_IMP_KEY, imp_secret: DEFAULT_IMP_SECRET } });
  assertSchema('AuthResponse', form.body);
  assert.equal((form.body.response as { access_token: string }).access_token, token, 'a live token is handed out again');

  const wrong = await call(gateway, 'POST', '/users/getToken', { json: { imp_key: DEFAULT_IMP_KEY, imp_secret: 'guess' } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.code, -1);
  const missing = await call(gateway, 'POST', '/users/getToken', { json: { imp_key: DEFAULT_IMP_KEY } });
  assert.equal(missing.status, 400);
});

test('REST calls need a valid token: Bearer, bare or X-ImpTokenHeader', async (t) => {
  const gateway = await gatewayFor(t);
  const token = await tokenOf(gateway);
  const path = '/payments/imp_000000000000';

  assert.equal((await call(gateway, 'GET', path)).status, 401);
  assert.equal((await call(gateway, 'GET', path, { token: 'f'.repeat(40) })).status, 401);
  assert.equal((await call(gateway, 'GET', path, { headers: { authorization: 'Bearer ' } })).status, 401);
  // With a valid token an unknown payment is a 404, so each of these got past the token check.
  assert.equal((await call(gateway, 'GET', path, { token })).status, 404);
  assert.equal((await call(gateway, 'GET', path, { headers: { authorization: token } })).status, 404);
  assert.equal((await call(gateway, 'GET', path, { headers: { 'x-imptokenheader': token } })).status, 404);
});

test('a token expires after its lifetime, and asking in its last minute extends it by five', async (t) => {
  let now = Date.UTC(2026, 10, 24, 10, 0, 0);
  const gateway = await gatewayFor(t, { tokenTtlSeconds: 1800, now: () => now });
  const first = await call(gateway, 'POST', '/users/getToken', { json: { imp_key: DEFAULT_IMP_KEY, imp_secret: DEFAULT_IMP_SECRET } });
  const issued = first.body.response as { access_token: string; now: number; expired_at: number };
  assert.equal(issued.expired_at - issued.now, 1800);
  const path = '/payments/imp_000000000000';

  now += 1770 * 1000;
  const again = await call(gateway, 'POST', '/users/getToken', { json: { imp_key: DEFAULT_IMP_KEY, imp_secret: DEFAULT_IMP_SECRET } });
  const extended = again.body.response as { access_token: string; expired_at: number };
  assert.equal(extended.access_token, issued.access_token);
  assert.equal(extended.expired_at, issued.expired_at + 300);

  now += 330 * 1000 - 1000;
  assert.equal((await call(gateway, 'GET', path, { token: issued.access_token })).status, 404, 'still valid');
  now += 1000;
  const expired = await call(gateway, 'GET', path, { token: issued.access_token });
  assert.equal(expired.status, 401);
  assert.match(expired.body.message ?? '', /expired/);

  const fresh = await tokenOf(gateway);
  assert.notEqual(fresh, issued.access_token);
});

// ---- fidelity -------------------------------------------------------------------------------------------

test('the input limits are the schema\'s column lengths', () => {
  const properties = schemaDocument.definitions.PaymentAnnotation?.properties ?? {};
  for (const [field, limit] of Object.entries(PAYMENT_FIELD_LIMITS)) {
    assert.equal(properties[field]?.maxLength, limit, field);
  }
});

test('refusals come in the envelope with a reason: bad input, unknown route, wrong body', async (t) => {
  const gateway = await gatewayFor(t);
  const long = await call(gateway, 'POST', '/sim/payments', { json: { merchant_uid: 'x'.repeat(41), amount: 1000 } });
  assert.equal(long.status, 400);
  assert.match(long.body.message ?? '', /merchant_uid is 41 characters; the gateway stores at most 40/);
  assert.equal((await call(gateway, 'POST', '/sim/payments', { json: { merchant_uid: 'o-1', amount: 0 } })).status, 400);
  assert.equal((await call(gateway, 'POST', '/sim/payments', { json: { merchant_uid: 'o-1', amount: 1, outcome: 'maybe' } })).status, 400);
  assert.equal((await call(gateway, 'POST', '/sim/payments', { json: { merchant_uid: 'o-1', amount: 1, confirm_url: 'ftp://x' } })).status, 400);
  const garbage = await fetch(`${gateway.url}/sim/payments`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
  assert.equal(garbage.status, 400);
  assertSchema('ResponseAnnotation', await garbage.json());
  assert.equal((await call(gateway, 'GET', '/nowhere')).status, 404);
  const v2 = await call(gateway, 'POST', '/sim/payments', {
    json: { merchant_uid: 'o-2', amount: 1000, dialect: 'v2-2024-04-25', confirm_url: 'http://127.0.0.1:1/confirm' },
  });
  assert.equal(v2.status, 400);
  assert.match(v2.body.message ?? '', /no webhook secret/);
  assert.deepEqual(gateway.payments(), [], 'a refused request_pay opens no payment');
});

// ---- prepare ----------------------------------------------------------------------------------------------

test('a prepared amount binds the order: a different amount is refused, the same one pays', async (t) => {
  const gateway = await gatewayFor(t);
  const token = await tokenOf(gateway);
  const prepared = await call(gateway, 'POST', '/payments/prepare', { json: { merchant_uid: 'order-p', amount: 5000 }, token });
  assertSchema('PaymentPrepareResponse', prepared.body);
  assert.deepEqual(prepared.body.response, { merchant_uid: 'order-p', amount: 5000 });

  const twice = await call(gateway, 'POST', '/payments/prepare', { json: { merchant_uid: 'order-p', amount: 5000 }, token });
  assert.equal(twice.status, 200, 'a business refusal keeps HTTP 200');
  assert.equal(twice.body.code, 1);

  const readBack = await call(gateway, 'GET', '/payments/prepare/order-p', { token });
  assertSchema('PaymentPrepareResponse', readBack.body);
  assert.equal((readBack.body.response as { amount: number }).amount, 5000);
  assert.equal((await call(gateway, 'GET', '/payments/prepare/order-none', { token })).status, 404);
  assert.equal((await call(gateway, 'POST', '/payments/prepare', { json: { merchant_uid: 'order-q', amount: 1 } })).status, 401);

  const mismatch = await call(gateway, 'POST', '/sim/payments', { json: { merchant_uid: 'order-p', amount: 500 } });
  assert.equal(mismatch.status, 409);
  assert.match(mismatch.body.message ?? '', /prepared for amount 5000, not 500/);
  assert.deepEqual(gateway.payments(), []);

  const edited = await call(gateway, 'PUT', '/payments/prepare', { form: { merchant_uid: 'order-p', amount: '4500' }, token });
  assertSchema('PaymentPrepareResponse', edited.body);
  const { attempt } = await pay(gateway, { merchant_uid: 'order-p', amount: 4500 });
  assert.equal(attempt.payment.status, 'paid');
});

// ---- the lifecycle against a real merchant ------------------------------------------------------------------

test('confirm 200 and approve: paid, the V1 webhook sent, the payment looked up while ready', async (t) => {
  let gateway: RunningGateway | undefined;
  const merchant = await merchantFor(t, () => gateway!);
  gateway = await gatewayFor(t);
  merchant.rules.set('order-1', { status: 200, lookUp: true });

  const { attempt } = await pay(gateway, {
    merchant_uid: 'order-1',
    amount: 1000,
    name: 'limited sneakers',
    buyer_name: '홍길동',
    custom_data: { size: 270 },
    confirm_url: `${merchant.url}/confirm`,
    notice_url: `${merchant.url}/webhook`,
  });
  const { payment } = attempt;
  assert.match(payment.imp_uid, IMP_UID_PATTERN);
  assert.equal(payment.status, 'paid');
  assert.ok(payment.paid_at > 0 && payment.failed_at === 0 && payment.cancelled_at === 0);
  assert.ok(payment.pg_tid && payment.receipt_url);
  assert.equal(payment.custom_data, '{"size":270}');
  assert.equal(attempt.charge, 'approved');
  assert.equal(attempt.confirm?.decision.proceed, true);

  assert.equal(merchant.confirms.length, 1);
  assert.deepEqual(JSON.parse(merchant.confirms[0]!.body), { imp_uid: payment.imp_uid, merchant_uid: 'order-1', status: 'ready', amount: 1000 });
  assert.deepEqual(merchant.seenStatuses, ['ready'], 'during confirm the payment exists and is not charged yet');

  assert.equal(attempt.webhook?.delivered, true);
  assert.equal(merchant.webhooks.length, 1);
  assert.deepEqual(JSON.parse(merchant.webhooks[0]!.body), { imp_uid: payment.imp_uid, merchant_uid: 'order-1', status: 'paid' });

  const token = await tokenOf(gateway);
  const byImpUid = assertPayment(await call(gateway, 'GET', `/payments/${payment.imp_uid}`, { token }));
  const byOrder = assertPayment(await call(gateway, 'GET', '/payments/find/order-1', { token }));
  assert.deepEqual(byImpUid, byOrder);
  assert.equal(byImpUid.status, 'paid');
  assert.equal((await call(gateway, 'GET', '/payments/find/order-1/failed', { token })).status, 404);
  assert.equal((await call(gateway, 'GET', '/payments/find/order-none', { token })).status, 404);
  const receipt = await fetch(payment.receipt_url!);
  assert.equal(((await receipt.json()) as Answer['body'] & { response: { imp_uid: string } }).response.imp_uid, payment.imp_uid);
});

test('confirm 409 with a reason: failed with the V1 fail_reason, no webhook, and the order can be paid later', async (t) => {
  const merchant = await merchantFor(t, () => assert.fail('no lookup'));
  const gateway = await gatewayFor(t);
  merchant.rules.set('order-2', { status: 409, body: { reason: 'sold out' } });

  const request = { merchant_uid: 'order-2', amount: 1000, confirm_url: `${merchant.url}/confirm`, notice_url: `${merchant.url}/webhook` };
  const { attempt } = await pay(gateway, request);
  assert.equal(attempt.payment.status, 'failed');
  assert.equal(attempt.payment.fail_reason, '고객사 요청에 의해 결제를 중단합니다. (상세사유 : sold out)');
  assert.equal(attempt.payment.fail_reason, v1FailReason('sold out'));
  assert.ok(attempt.payment.failed_at > 0 && attempt.payment.paid_at === 0);
  assert.equal(attempt.charge, 'not-attempted');
  assert.equal(attempt.webhook, null);
  assert.equal(merchant.webhooks.length, 0, 'V1 sends no webhook when an ordinary payment fails');

  merchant.rules.set('order-2', { status: 409 });
  const unexplained = await pay(gateway, request);
  assert.equal(unexplained.attempt.payment.fail_reason, v1FailReason(null));

  merchant.rules.delete('order-2');
  const retry = await pay(gateway, request);
  assert.equal(retry.attempt.payment.status, 'paid', 'a failed payment does not block its order');
  assert.notEqual(retry.attempt.payment.imp_uid, attempt.payment.imp_uid);
});

test('a confirm endpoint that does not answer in time fails the payment', async (t) => {
  const merchant = await merchantFor(t, () => assert.fail('no lookup'));
  const gateway = await gatewayFor(t, { timeoutMs: 200 });
  merchant.rules.set('order-slow', { status: 200, delayMs: 1000 });
  const { attempt } = await pay(gateway, { merchant_uid: 'order-slow', amount: 1000, confirm_url: `${merchant.url}/confirm` });
  assert.equal(attempt.payment.status, 'failed');
  assert.equal(attempt.payment.fail_reason, v1FailReason(null));
  assert.equal(attempt.confirm?.answer.kind, 'no-answer');
});

test('decline: V1 fails silently, V2 sends a signed Transaction.Failed', async (t) => {
  const merchant = await merchantFor(t, () => assert.fail('no lookup'));
  const gateway = await gatewayFor(t, { secret: parseWebhookSecret(SECRET_TEXT), storeId: 'store-1' });
  const v1 = await pay(gateway, {
    merchant_uid: 'order-3',
    amount: 1000,
    outcome: 'decline',
    confirm_url: `${merchant.url}/confirm`,
    notice_url: `${merchant.url}/webhook`,
  });
  assert.equal(v1.attempt.payment.status, 'failed');
  assert.equal(v1.attempt.charge, 'declined');
  assert.ok(v1.attempt.payment.fail_reason);
  assert.equal(merchant.confirms.length, 1, 'the merchant was asked first');
  assert.equal(merchant.webhooks.length, 0);

  const v2 = await pay(gateway, {
    merchant_uid: 'order-4',
    amount: 2000,
    dialect: 'v2-2024-04-25',
    outcome: 'decline',
    decline_reason: 'insufficient funds',
    confirm_url: `${merchant.url}/confirm`,
    notice_url: `${merchant.url}/webhook`,
  });
  assert.equal(v2.attempt.payment.fail_reason, 'insufficient funds');
  const verifier = new Webhook(SECRET_TEXT);
  const confirm = merchant.confirms[1]!;
  const confirmBody = verifier.verify(confirm.body, confirm.headers as Record<string, string>) as { type: string; data: { storeId: string } };
  assert.equal(confirmBody.type, 'Transaction.Confirm');
  assert.equal(confirmBody.data.storeId, 'store-1');

  assert.equal(merchant.webhooks.length, 1);
  const webhook = merchant.webhooks[0]!;
  const event = verifier.verify(webhook.body, webhook.headers as Record<string, string>) as {
    type: string;
    timestamp: string;
    data: Record<string, string>;
  };
  assert.equal(event.type, 'Transaction.Failed');
  assert.ok(!Number.isNaN(Date.parse(event.timestamp)));
  const sentTransactionId = parseConfirmBody(JSON.parse(confirm.body))?.transactionId;
  assert.deepEqual(event.data, { storeId: 'store-1', paymentId: 'order-4', transactionId: sentTransactionId });
  assert.equal(v2.attempt.webhook?.signed, true);
});

test('V2 approve sends a signed Transaction.Paid, in the flat body of webhook version 2024-01-01', async (t) => {
  const merchant = await merchantFor(t, () => assert.fail('no lookup'));
  const gateway = await gatewayFor(t, { secret: parseWebhookSecret(SECRET_TEXT) });
  const { attempt } = await pay(gateway, {
    merchant_uid: 'order-5',
    amount: 3000,
    dialect: 'v2-2024-01-01',
    confirm_url: `${merchant.url}/confirm`,
    notice_url: `${merchant.url}/webhook`,
  });
  assert.equal(attempt.payment.status, 'paid');
  const event = new Webhook(SECRET_TEXT).verify(merchant.webhooks[0]!.body, merchant.webhooks[0]!.headers as Record<string, string>);
  // PortOne's webhook guide: 2024-01-01 sends {payment_id, tx_id, status}, no type/timestamp/data envelope.
  const sentTransactionId = parseConfirmBody(JSON.parse(merchant.confirms[0]!.body))?.transactionId;
  assert.deepEqual(event, { payment_id: 'order-5', tx_id: sentTransactionId, status: 'Paid' });
});

test('cancel: partial then full, the webhook only when asked, refusals in the envelope', async (t) => {
  const merchant = await merchantFor(t, () => assert.fail('no lookup'));
  const gateway = await gatewayFor(t);
  const token = await tokenOf(gateway);
  const { attempt } = await pay(gateway, { merchant_uid: 'order-6', amount: 10_000, notice_url: `${merchant.url}/webhook` });
  assert.equal(merchant.webhooks.length, 1, 'the paid webhook');
  const impUid = attempt.payment.imp_uid;

  const partial = assertPayment(
    await call(gateway, 'POST', '/payments/cancel', { json: { imp_uid: impUid, amount: 3000, reason: 'one size too small' }, token }),
  );
  assert.equal(partial.status, 'paid');
  assert.equal(partial.cancel_amount, 3000);
  assert.equal(merchant.webhooks.length, 1, 'the REST API sends no cancel webhook unless enable_webhook is true');

  const checksum = await call(gateway, 'POST', '/payments/cancel', { json: { imp_uid: impUid, checksum: 10_000 }, token });
  assert.equal(checksum.status, 200);
  assert.equal(checksum.body.code, 1);
  const tooMuch = await call(gateway, 'POST', '/payments/cancel', { json: { imp_uid: impUid, amount: 8000 }, token });
  assert.equal(tooMuch.body.code, 1);
  assert.match(tooMuch.body.message ?? '', /only 7000/);

  const full = assertPayment(
    await call(gateway, 'POST', '/payments/cancel', {
      form: { merchant_uid: 'order-6', checksum: '7000', enable_webhook: 'true', reason: 'changed my mind' },
      token,
    }),
  );
  assert.equal(full.status, 'cancelled');
  assert.equal(full.cancel_amount, 10_000);
  assert.equal(full.cancel_reason, 'changed my mind');
  assert.ok((full.cancelled_at as number) > 0);
  const history = full.cancel_history as { amount: number; cancellation_id: string }[];
  assert.deepEqual(history.map((entry) => entry.amount), [3000, 7000]);

  assert.equal(merchant.webhooks.length, 2);
  assert.deepEqual(JSON.parse(merchant.webhooks[1]!.body), {
    imp_uid: impUid,
    merchant_uid: 'order-6',
    status: 'cancelled',
    cancellation_id: history[1]!.cancellation_id,
  });

  const again = await call(gateway, 'POST', '/payments/cancel', { json: { imp_uid: impUid }, token });
  assert.equal(again.body.code, 1);
  assert.match(again.body.message ?? '', /already fully cancelled/);
  assert.equal((await call(gateway, 'POST', '/payments/cancel', { json: {}, token })).status, 400);
  assert.equal((await call(gateway, 'POST', '/payments/cancel', { json: { imp_uid: 'imp_000000000000' }, token })).status, 404);
});

test('an order is paid once: refused when already paid, and only one of two racing payments is charged', async (t) => {
  const merchant = await merchantFor(t, () => assert.fail('no lookup'));
  const gateway = await gatewayFor(t);
  await pay(gateway, { merchant_uid: 'order-7', amount: 1000 });
  const twice = await call(gateway, 'POST', '/sim/payments', { json: { merchant_uid: 'order-7', amount: 1000 } });
  assert.equal(twice.status, 409);
  assert.match(twice.body.message ?? '', /already paid/);

  merchant.rules.set('order-8', { status: 200, delayMs: 100 });
  const request = { merchant_uid: 'order-8', amount: 1000, confirm_url: `${merchant.url}/confirm` };
  const attempts = await Promise.all([gateway.requestPayment(request), gateway.requestPayment(request)]);
  assert.deepEqual(attempts.map((attempt) => attempt.payment.status).sort(), ['failed', 'paid']);
  assert.match(attempts.find((attempt) => attempt.payment.status === 'failed')!.payment.fail_reason ?? '', /paid meanwhile/);
});

test('a webhook nobody receives is reported, and the payment stays paid', async (t) => {
  const gateway = await gatewayFor(t);
  const { attempt } = await pay(gateway, { merchant_uid: 'order-9', amount: 1000, notice_url: 'http://127.0.0.1:1/webhook' });
  assert.equal(attempt.payment.status, 'paid');
  assert.equal(attempt.webhook?.delivered, false);
  assert.equal(attempt.webhook?.error, 'refused');
});

// ---- the command ---------------------------------------------------------------------------------------------

test('gateway: a bad flag is a usage error', async () => {
  const unknown = await runCli(['gateway', '--bogus']);
  assert.equal(unknown.code, 2);
  const port = await runCli(['gateway', '--port', 'http']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port: "http" is not a whole number/);
  const secret = await runCli(['gateway', '--port', '0', '--secret', 'whsec_not base64!']);
  assert.equal(secret.code, 2);
  assert.match(secret.stderr, /--secret: the secret is not valid base64/);
  const env = await runCli(['gateway', '--port', '0', '--imp-secret-env', 'CONFIRM_SIM_NOT_SET'], { env: { NO_COLOR: '1' } });
  assert.equal(env.code, 2);
  assert.match(env.stderr, /CONFIRM_SIM_NOT_SET is empty or not set/);
  const both = await runCli(['gateway', '--secret', SECRET_TEXT, '--secret-env', 'X']);
  assert.equal(both.code, 2);
});

test('gateway: prints where it listens without the secrets, serves until stopped, exits 0', async () => {
  const impSecret = 'merchant-test-secret-1234';
  let served = false;
  const run = await spawnCli(['gateway', '--port', '0', '--imp-key', 'key-1', '--imp-secret-env', 'IMP_SECRET', '--secret-env', 'WEBHOOK_SECRET'], {
    env: { ...process.env, NO_COLOR: '1', IMP_SECRET: impSecret, WEBHOOK_SECRET: SECRET_TEXT },
    onSpawn: (child) => {
      let output = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const url = /listening on (http:\S+)/.exec(output)?.[1];
        if (url && !served) {
          served = true;
          void fetch(`${url}/users/getToken`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ imp_key: 'key-1', imp_secret: impSecret }),
          }).then(async (response) => {
            assert.equal(response.status, 200);
            await response.arrayBuffer();
            child.kill('SIGINT');
          });
        }
      });
    },
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /imp_key +\*\*\*\*\n/);
  assert.match(run.stdout, /API secret +\*\*\*\* \(the default/);
  assert.ok(!run.stdout.includes('key-1'), 'the imp_key is a credential too: never printed');
  assert.match(run.stdout, /webhook secret +whsec_\*\*\*\*/);
  assert.match(run.stdout, /POST \/sim\/payments/);
  assert.match(run.stdout, /POST \/users\/getToken 200/);
  assert.ok(!run.stdout.includes(impSecret) && !run.stdout.includes(SECRET_TEXT.slice(6)), 'no secret in the output');
});
