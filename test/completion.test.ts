import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompletionTemplate,
  completionRefusalDetail,
  DEFAULT_COMPLETION_TEMPLATE,
  DEFAULT_SUCCESS_STATUSES,
  TokenTable,
  isSuccessStatus,
  parseFlow,
  parseSuccessStatuses,
} from '../src/index.js';
import { UsageError } from '../src/util/errors.js';

const values = { paymentId: 'sale-1', paymentToken: 'ptk_AbC123', txId: '0f8fad5b-d9cb-469f-a165-70867728950e', amount: 1000, n: 1 };

test('flows: confirm-process and manual-confirm, anything else a usage error naming both', () => {
  assert.equal(parseFlow('manual-confirm'), 'manual-confirm');
  assert.equal(parseFlow('confirm-process'), 'confirm-process');
  assert.throws(() => parseFlow('manual'), (error: unknown) => error instanceof UsageError && /confirm-process or manual-confirm/.test(error.message));
});

test('the default body is what PortOne\'s guide has the front end send', () => {
  const body = new CompletionTemplate().render(values);
  assert.equal(body, '{"paymentId":"sale-1","paymentToken":"ptk_AbC123","txId":"0f8fad5b-d9cb-469f-a165-70867728950e"}');
  assert.equal(new CompletionTemplate().text, DEFAULT_COMPLETION_TEMPLATE);
});

test('placeholders inside strings are JSON-escaped in place; outside, numbers stay numbers and strings get quotes', () => {
  const template = new CompletionTemplate('{"order":"shop-{paymentId}","token":{paymentToken},"amount":{amount},"buyer":"#{n}","n":{n}}');
  const awkward = { ...values, paymentId: 'a"b\\c', paymentToken: 'x\ny' };
  const body = template.render(awkward);
  assert.deepEqual(JSON.parse(body), { order: 'shop-a"b\\c', token: 'x\ny', amount: 1000, buyer: '#1', n: 1 });
  assert.deepEqual([...template.uses].sort(), ['amount', 'n', 'paymentId', 'paymentToken']);
});

test('a brace that is JSON, an escaped quote and a literal {word} inside a string are told apart', () => {
  const template = new CompletionTemplate('{"meta":{},"note":"say \\"{txId}\\"","list":[{"id":"{paymentId}"}]}');
  assert.deepEqual(JSON.parse(template.render(values)), { meta: {}, note: `say "${values.txId}"`, list: [{ id: 'sale-1' }] });
});

test('an unknown placeholder or a template that is not JSON is a usage error saying how to fix it', () => {
  assert.throws(() => new CompletionTemplate('{"id":"{orderId}"}'), /`body`: \{orderId\} is not a placeholder; use \{paymentId\}, \{paymentToken\}, \{txId\}, \{amount\}, \{n\}/);
  assert.throws(() => new CompletionTemplate('{"id":{paymentId}'), (error: unknown) => error instanceof UsageError && /not JSON once its placeholders are filled in/.test(error.message));
  assert.throws(() => new CompletionTemplate("{'id':'{paymentId}'}"), UsageError);
  assert.throws(() => new CompletionTemplate('paymentId={paymentId}&token={paymentToken}'), UsageError);
  assert.throws(() => new CompletionTemplate(''), UsageError);
});

test('a completion endpoint\'s reason for a no is read from errorMessage, reason or message', () => {
  assert.equal(completionRefusalDetail('{"errorMessage":"sold out","reason":"x"}'), 'sold out');
  assert.equal(completionRefusalDetail('{"status":"failed","reason":"sold out"}'), 'sold out');
  assert.equal(completionRefusalDetail('{"message":"no stock"}'), 'no stock');
  assert.equal(completionRefusalDetail('{"status":"sold-out"}'), null);
  assert.equal(completionRefusalDetail('sold out'), null);
});

test('success statuses: any 2xx by default, or lists, ranges and classes', () => {
  assert.ok(isSuccessStatus(DEFAULT_SUCCESS_STATUSES, 200));
  assert.ok(isSuccessStatus(DEFAULT_SUCCESS_STATUSES, 204));
  assert.ok(!isSuccessStatus(DEFAULT_SUCCESS_STATUSES, 302));
  const list = parseSuccessStatuses('200, 201');
  assert.equal(list.text, '200,201');
  assert.ok(isSuccessStatus(list, 201) && !isSuccessStatus(list, 202));
  const mixed = parseSuccessStatuses('2xx,302-303');
  assert.ok(isSuccessStatus(mixed, 303) && !isSuccessStatus(mixed, 304) && isSuccessStatus(mixed, 250));
  for (const bad of ['ok', '20', '700', '299-200', '2xx,', '6xx']) {
    assert.throws(() => parseSuccessStatuses(bad), (error: unknown) => error instanceof UsageError && error.message.startsWith('`successStatus`:'), bad);
  }
});

test('the token table keeps fixed-width ASCII, widens for a longer token and shares its memory', () => {
  const table = new TokenTable(4, 8);
  table.set(0, 'ptk_0001');
  table.set(2, 'ptk_02');
  assert.equal(table.get(0), 'ptk_0001');
  assert.equal(table.get(1), '');
  assert.equal(table.get(2), 'ptk_02');
  table.set(3, 'a-much-longer-token-than-before');
  assert.equal(table.data.width, 31);
  assert.equal(table.get(0), 'ptk_0001');
  assert.equal(table.get(2), 'ptk_02');
  assert.equal(table.get(3), 'a-much-longer-token-than-before');
  assert.ok(table.data.bytes.buffer instanceof SharedArrayBuffer);
  const copy = new TokenTable(table.data);
  assert.equal(copy.get(3), 'a-much-longer-token-than-before');
  assert.throws(() => table.set(1, 'has space'), /printable ASCII/);
  assert.throws(() => table.set(1, 'x'.repeat(256)), /1 to 255/);
  assert.throws(() => table.set(4, 'ptk'), RangeError);
});
