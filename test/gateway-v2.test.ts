import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway, V2_ERROR_STATUS } from '../src/gateway/index.js';
import { assertV1Answer, checkV1, checkV2, v1Schemas, v2Schemas } from './helpers/gateway-rest-schemas.js';

// The fixtures are only worth something if they refuse what the real API never sends.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The OpenAPI files the fixtures are extracted from: beside the repository, as in CI, or where the variable says. */
const referenceDir = process.env.CONFIRM_SIM_REFERENCE ?? join(repoRoot, '..', 'shared', 'reference');
const references = ['iamport-v1.openapi.json', 'portone-v2.openapi.json'].map((name) => join(referenceDir, name));

test('the fixtures are exactly what the extractor takes out of the OpenAPI files, nothing loosened by hand', {
  skip: references.every((path) => existsSync(path)) ? false : `the OpenAPI files are not in ${referenceDir} (set CONFIRM_SIM_REFERENCE to their folder)`,
}, () => {
  const out = mkdtempSync(join(tmpdir(), 'confirm-sim-schemas-'));
  try {
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'extract-gateway-schemas.mjs'), ...references, out], { stdio: 'pipe' });
    for (const name of ['iamport-v1-schemas.json', 'portone-v2-schemas.json']) {
      assert.equal(readFileSync(join(repoRoot, 'fixtures', name), 'utf8'), readFileSync(join(out, name), 'utf8'), `fixtures/${name} differs from the extraction: run scripts/extract-gateway-schemas.mjs`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

async function answersOf(): Promise<{ v1: Record<string, unknown>; v2: Record<string, unknown> }> {
  const gateway = await startGateway({ port: 0 });
  try {
    const v1Attempt = await gateway.requestPayment({ merchant_uid: 'order-v1', amount: 1000 });
    await gateway.requestPayment({ merchant_uid: 'order-v2', amount: 1000, dialect: 'v2-2024-04-25' });
    const v1 = (await (await fetch(`${gateway.url}/sim/receipts/${v1Attempt.payment.imp_uid}`)).json()) as { response: Record<string, unknown> };
    const v2 = (await (
      await fetch(`${gateway.url}/payments/order-v2`, { headers: { authorization: 'PortOne confirm_sim_api_secret' } })
    ).json()) as Record<string, unknown>;
    return { v1: v1.response, v2 };
  } finally {
    await gateway.close();
  }
}

test('the V1 fixture is strict: a real answer passes, "banana", a missing required field, null and seconds as text do not', async () => {
  const { v1: payment } = await answersOf();
  const envelope = (response: unknown): unknown => ({ code: 0, message: null, response });
  assert.equal(checkV1('PaymentResponse', envelope(payment)), null);

  assert.match(checkV1('PaymentResponse', envelope({ ...payment, status: 'banana' })) ?? '', /must be equal to one of the allowed values/);
  const { imp_uid: _dropped, ...withoutImpUid } = payment;
  assert.match(checkV1('PaymentResponse', envelope(withoutImpUid)) ?? '', /must have required property 'imp_uid'/);
  assert.match(checkV1('PaymentResponse', envelope({ ...payment, bank_code: null })) ?? '', /bank_code must be string/);
  assert.match(checkV1('PaymentResponse', envelope({ ...payment, paid_at: '1700000000' })) ?? '', /paid_at must be integer/);
  assert.match(checkV1('PaymentResponse', envelope({ ...payment, pay_method: 'cash' })) ?? '', /pay_method must be equal to one of/);
  // What the file itself says may be null, may be.
  assert.equal(checkV1('PaymentResponse', envelope({ ...payment, fail_reason: null, card_type: null })), null);
  assert.deepEqual(v1Schemas.definitions.PaymentAnnotation?.properties?.status?.enum, ['ready', 'paid', 'cancelled', 'failed']);

  // By operation: the answer's schema is the one its route documents for its HTTP status.
  assertV1Answer('GET', `/payments/${payment.imp_uid}`, 200, envelope(payment));
  assertV1Answer('GET', '/payments/find/order-v1', 200, envelope(payment));
  assertV1Answer('GET', '/payments/find/order-v1/paid', 200, envelope(payment));
  assert.throws(() => assertV1Answer('GET', '/payments/find/order-v1', 200, envelope({ ...payment, status: 'banana' })), /allowed values/);
  assert.throws(() => assertV1Answer('GET', '/payments/status/paid', 200, envelope(payment)), /PaymentListResponse: .*must have required property 'total'/);
  assert.throws(() => assertV1Answer('GET', `/payments/${payment.imp_uid}`, 201, envelope(payment)), /does not document HTTP 201/);
  assert.throws(() => assertV1Answer('GET', '/payments/find/a/b/c', 200, envelope(payment)), /not an operation the V1 file documents/);
  assertV1Answer('GET', '/payments/imp_000000000000', 404, { code: -1, message: 'no such payment', response: null });
  assert.throws(() => assertV1Answer('POST', '/payments/cancel', 200, { code: 1, message: 'refused', response: payment }), /a refusal has no response/);
  assert.throws(() => assertV1Answer('POST', '/payments/cancel', 200, { code: 1, message: null, response: null }), /a refusal says why/);
});

test('the V2 fixture is strict: "banana", a missing required field, a wrong tag, a bad time and an unknown error type fail', async () => {
  const { v2: payment } = await answersOf();
  assert.equal(payment.status, 'PAID');
  assert.equal(checkV2('Payment', payment), null);

  assert.match(checkV2('Payment', { ...payment, status: 'banana' }) ?? '', /must match exactly one schema in oneOf/);
  const { transactionId: _dropped, ...withoutTransaction } = payment;
  assert.notEqual(checkV2('Payment', withoutTransaction), null, 'transactionId is required');
  const { paidAt: _paidAt, ...withoutPaidAt } = payment;
  assert.notEqual(checkV2('Payment', withoutPaidAt), null, 'a PAID payment needs paidAt');
  assert.match(checkV2('Payment', { ...payment, requestedAt: '2026-12-01 10:00' }) ?? '', /must match format "date-time"/);
  assert.match(checkV2('Payment', { ...payment, amount: { ...(payment.amount as object), total: 1.5 } }) ?? '', /must be integer/);
  assert.notEqual(checkV2('GetPaymentError', { type: 'NOT_A_TYPE', message: 'x' }), null);
  assert.equal(checkV2('GetPaymentError', { type: 'PAYMENT_NOT_FOUND', message: 'x' }), null);
  assert.notEqual(checkV2('GetPaymentError', { type: 'ALREADY_PAID', message: 'x' }), null, 'not a getPayment error');
});

test('every V2 error type the gateway answers with has the HTTP status the file gives it', () => {
  for (const [type, status] of Object.entries(V2_ERROR_STATUS)) {
    assert.equal(v2Schemas.errorStatus[type], status, type);
  }
});

test('the V2 view leaves out what does not apply instead of writing null', async () => {
  const gateway = await startGateway({ port: 0 });
  try {
    await gateway.requestPayment({ merchant_uid: 'bare', amount: 500, dialect: 'v2-2024-04-25', outcome: 'decline' });
    const answer = (await (await fetch(`${gateway.url}/payments/bare`, { headers: { authorization: 'PortOne confirm_sim_api_secret' } })).json()) as Record<
      string,
      unknown
    >;
    assert.equal(checkV2('Payment', answer), null);
    assert.equal(answer.status, 'FAILED');
    assert.ok(!JSON.stringify(answer).includes('null'), JSON.stringify(answer));
  } finally {
    await gateway.close();
  }
});
