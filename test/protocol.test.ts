import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import {
  buildConfirmBody,
  decide,
  newImpUid,
  IMP_UID_PATTERN,
  parseWebhookSecret,
  signWebhook,
  parseConfirmBody,
  DIALECTS,
  v1FailReason,
  redactHeaderValue,
} from '../src/protocol/index.js';

const order = {
  merchantUid: 'order-1',
  impUid: 'imp_123456789012',
  amount: 1000,
  status: 'ready',
  transactionId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  timestamp: new Date('2026-11-24T10:00:00.000Z'),
};

test('each dialect writes the exact bytes the gateway documents', () => {
  assert.equal(
    buildConfirmBody('v1', order),
    '{"imp_uid":"imp_123456789012","merchant_uid":"order-1","status":"ready","amount":1000}',
  );
  assert.equal(buildConfirmBody('v1-status', order), '{"imp_uid":"imp_123456789012","merchant_uid":"order-1","status":"ready"}');
  assert.equal(buildConfirmBody('v1-amount', order), '{"imp_uid":"imp_123456789012","merchant_uid":"order-1","amount":1000}');
  assert.equal(
    buildConfirmBody('v2-2024-01-01', order),
    '{"payment_id":"order-1","tx_id":"0f8fad5b-d9cb-469f-a165-70867728950e","total_amount":1000}',
  );
  assert.equal(
    buildConfirmBody('v2-2024-04-25', order),
    '{"type":"Transaction.Confirm","timestamp":"2026-11-24T10:00:00.000Z","data":{"paymentId":"order-1","transactionId":"0f8fad5b-d9cb-469f-a165-70867728950e","totalAmount":1000}}',
  );
  assert.equal(
    buildConfirmBody('v2-2024-04-25', { ...order, storeId: 'store-1' }),
    '{"type":"Transaction.Confirm","timestamp":"2026-11-24T10:00:00.000Z","data":{"storeId":"store-1","paymentId":"order-1","transactionId":"0f8fad5b-d9cb-469f-a165-70867728950e","totalAmount":1000}}',
  );
});

test('every dialect parses back to the same order', () => {
  for (const dialect of DIALECTS) {
    const parsed = parseConfirmBody(JSON.parse(buildConfirmBody(dialect, order)));
    assert.ok(parsed, dialect);
    assert.equal(parsed.merchantUid, 'order-1', dialect);
    if (dialect !== 'v1-status') assert.equal(parsed.amount, 1000, dialect);
  }
  assert.equal(parseConfirmBody('not an object'), null);
  assert.equal(parseConfirmBody([1, 2]), null);
});

test('imp_uid is imp_ followed by 12 digits', () => {
  for (let i = 0; i < 100; i++) assert.match(newImpUid(), IMP_UID_PATTERN);
});

test('signatures verify with the reference Standard Webhooks implementation', () => {
  const secretText = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const secret = parseWebhookSecret(secretText);
  const body = buildConfirmBody('v2-2024-04-25', order);
  const headers = signWebhook(secret, body);
  const verified = new Webhook(secretText).verify(body, { ...headers });
  assert.deepEqual(verified, JSON.parse(body));
  assert.throws(() => new Webhook(secretText).verify(body.replace('1000', '1'), { ...headers }));
  const stale = signWebhook(secret, body, { timestampSeconds: Math.floor(Date.now() / 1000) - 600 });
  assert.throws(() => new Webhook(secretText).verify(body, { ...stale }));
});

test('a secret that is not base64 is refused with a usable message', () => {
  assert.throws(() => parseWebhookSecret('whsec_not base64!'), /not valid base64/);
  assert.throws(() => parseWebhookSecret('whsec_'), /not valid base64/);
  assert.equal(parseWebhookSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').masked, 'whsec_****');
});

test('the gateway proceeds on exactly 200 and records the documented fail reasons', () => {
  assert.equal(decide('v1', { kind: 'http', status: 200, body: '' }).proceed, true);
  const refused = decide('v1', { kind: 'http', status: 409, body: '{"reason":"sold out"}' });
  assert.equal(refused.proceed, false);
  assert.equal(refused.failReason, '고객사 요청에 의해 결제를 중단합니다. (상세사유 : sold out)');
  assert.equal(decide('v1', { kind: 'http', status: 500, body: 'oops' }).failReason, v1FailReason(null));
  assert.equal(v1FailReason(null), '고객사 요청에 의해 결제를 중단합니다. (상세사유 : 알 수 없음)');
  const created = decide('v1', { kind: 'http', status: 201, body: '' });
  assert.equal(created.proceed, false);
  assert.match(created.explanation, /201 is not 200/);
  assert.match(decide('v1', { kind: 'http', status: 302, body: '' }).explanation, /redirect/);
  const v2 = decide('v2-2024-04-25', { kind: 'http', status: 400, body: '{"errorMessage":"품절"}' });
  assert.equal(v2.failReason, '품절');
  assert.equal(decide('v2-2024-01-01', { kind: 'http', status: 400, body: '{}' }).failReason, null);
  const timeout = decide('v1', { kind: 'no-answer', error: 'timeout', message: 'x' });
  assert.equal(timeout.proceed, false);
  assert.match(timeout.explanation, /timeout/);
});

test('credentials in headers are masked wherever they travel', () => {
  for (const name of ['Authorization', 'Proxy-Authorization', 'Cookie', 'Set-Cookie', 'X-ImpTokenHeader', 'X-Api-Key', 'X-Shop-Secret', 'X-Access-Token']) {
    assert.equal(redactHeaderValue(name, 'Bearer abc123'), '****', name);
  }
  assert.equal(redactHeaderValue('webhook-signature', 'v1,abc= v1,def='), 'v1,**** v1,****');
  assert.equal(redactHeaderValue('x-note', 'uses whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), 'uses whsec_****');
  assert.equal(redactHeaderValue('content-type', 'application/json'), 'application/json');
  assert.equal(redactHeaderValue('webhook-id', 'msg_1'), 'msg_1');
});

test('webhook ids and payment tokens drawn from the pooled CSPRNG are well formed and never repeat, across pool refills', async () => {
  const { newWebhookId } = await import('../src/protocol/signing.js');
  const { newPaymentToken } = await import('../src/gateway/payments.js');
  // 16 KiB a pool: 5,000 of each spans several refills.
  const ids = Array.from({ length: 5_000 }, () => newWebhookId());
  const tokens = Array.from({ length: 5_000 }, () => newPaymentToken());
  for (const id of ids) assert.match(id, /^msg_[0-9a-f]{24}$/);
  for (const token of tokens) assert.match(token, /^ptk_[A-Za-z0-9_-]{32}$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(new Set(tokens).size, tokens.length);
});
