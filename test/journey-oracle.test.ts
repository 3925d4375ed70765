import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArrivalState,
  countAcceptedAfterRefusal,
  emptyExamples,
  judgeStock,
  type JudgeOptions,
  type PaymentTally,
  type StockTally,
} from '../src/oracle/index.js';

const options: JudgeOptions = { p99BudgetMs: 1000, timeoutMs: 5000, duplicatesSent: false };
const declinedUids = ['sale-3', 'sale-17', 'sale-40'];

/**
 * A sale of 200 to 3,000 buyers through a gateway that declined 40 charges after the merchant's 200: the
 * merchant sold those 40 units again, so 240 buyers were accepted and 200 paid; each test changes one thing.
 */
function sale(changes: Partial<StockTally> = {}, payments: Partial<PaymentTally> = {}): StockTally {
  return {
    buyers: 3000,
    stock: 200,
    accepted: 240,
    notAccepted: { refused: 2760, serverErrors: 0, timeouts: 0, connectionErrors: 0, notSent: 0, aborted: 0 },
    stranded: 0,
    doubleAccepted: 0,
    overBudget: 0,
    timeouts: 0,
    latencyP99Ms: 12,
    inversions: null,
    probe: { before: 200, after: 0 },
    payments: { paid: 200, declined: 40, acceptedAfterRefusal: null, declinedExamples: declinedUids, ...payments },
    interrupted: false,
    missingShards: [],
    examples: { ...emptyExamples(), latestAccepted: ['sale-2999'] },
    ...changes,
  };
}

function kinds(verdict: ReturnType<typeof judgeStock>): string[] {
  return verdict.problems.map((problem) => problem.kind);
}

test('with declines, more 200s than stock is no oversell: declined units are rightly sold again', () => {
  const verdict = judgeStock(sale(), options);
  assert.deepEqual(verdict.problems, []);
  assert.match(verdict.summary, /^PASS 200 paid of 200 in stock to 3000 buyers \(240 accepted, 40 declined by the PG\), stock 200 → 0/);
});

test('more paid than stock is an oversell counted in payments', () => {
  const verdict = judgeStock(sale({ accepted: 215, probe: null }, { paid: 210, declined: 5 }), options);
  assert.deepEqual(kinds(verdict), ['oversell']);
  assert.equal(verdict.problems[0]!.count, 10);
  assert.match(verdict.problems[0]!.message, /210 payments charged for 200 in stock: 10 buyers paid for items that do not exist/);
  assert.deepEqual(verdict.problems[0]!.examples, ['sale-2999']);
});

test('more 200s than stock plus declines is an oversell even when the PG kept the charges down', () => {
  const verdict = judgeStock(sale({ accepted: 260, probe: null }), options);
  assert.deepEqual(kinds(verdict), ['oversell']);
  assert.equal(verdict.problems[0]!.count, 20);
  assert.match(verdict.problems[0]!.message, /260 buyers accepted for 200 in stock and 40 declined payments/);
});

test('units of declined payments that never come back are a leak, with the declined orders as examples', () => {
  // 40 declined, never released, never sold again: 160 paid and nothing left.
  const verdict = judgeStock(sale({ accepted: 200, probe: { before: 200, after: 0 } }, { paid: 160 }), options);
  assert.deepEqual(kinds(verdict), ['leak']);
  const leak = verdict.problems[0]!;
  assert.equal(leak.count, 40);
  assert.deepEqual(leak.examples, declinedUids);
  assert.match(leak.message, /after --settle 0 left \+ 160 paid = 160, short of the 200 at the start: 40 units/);
  assert.match(verdict.summary, /^FAIL leak \(40\)/);

  const released = judgeStock(sale({ accepted: 200, probe: { before: 200, after: 40 } }, { paid: 160 }), options);
  assert.equal(released.pass, true, 'the same sale with the 40 units given back passes');
});

test('a partial leak counts only the units still missing; stock taken twice is still a double-take', () => {
  const partial = judgeStock(sale({ accepted: 200, probe: { before: 200, after: 25 } }, { paid: 160 }), options);
  assert.deepEqual(kinds(partial), ['leak']);
  assert.equal(partial.problems[0]!.count, 15);

  const doubled = judgeStock(sale({ accepted: 190, probe: { before: 200, after: 0 } }, { paid: 190, declined: 0 }), options);
  assert.deepEqual(kinds(doubled), ['undersell', 'double-take']);
  assert.equal(doubled.problems[1]!.count, 10);
});

test('with a gateway, stock that fell by less than was paid is a stock mismatch (given back twice)', () => {
  const verdict = judgeStock(sale({ probe: { before: 200, after: 30 } }), options);
  assert.deepEqual(kinds(verdict), ['stock-mismatch']);
  assert.equal(verdict.problems[0]!.count, 30);
  assert.match(verdict.problems[0]!.message, /200 payments charged but stock fell only by 170/);
});

test('without a stock probe a gateway run says the leak was not checked', () => {
  const verdict = judgeStock(sale({ probe: null }), options);
  assert.equal(verdict.pass, true);
  assert.deepEqual(verdict.notes, ['leak not checked: give --stock-url so the stock left after --settle can be set against the payments']);
});

test('undersell is judged on 200s whatever the PG did later', () => {
  const verdict = judgeStock(
    sale({ accepted: 150, notAccepted: { refused: 2850, serverErrors: 0, timeouts: 0, connectionErrors: 0, notSent: 0, aborted: 0 } }, { paid: 150, declined: 0 }),
    options,
  );
  assert.ok(kinds(verdict).includes('undersell'));
  assert.equal(verdict.problems.find((problem) => problem.kind === 'undersell')!.count, 50);
});

test('acceptances after refusals are fair up to the units declines gave back, unfair beyond', () => {
  const explained = judgeStock(sale({ inversions: 300 }, { acceptedAfterRefusal: 35 }), options);
  assert.equal(explained.pass, true);
  assert.match(explained.notes.join('\n'), /35 buyers accepted after earlier refusals: no more than the 40 units/);

  const beyond = judgeStock(sale({ inversions: 900 }, { acceptedAfterRefusal: 52 }), options);
  assert.deepEqual(kinds(beyond), ['unfair']);
  assert.equal(beyond.problems[0]!.count, 12);
  assert.match(beyond.problems[0]!.message, /52 buyers accepted after earlier buyers had already been refused, 12 more than the 40 units/);

  const noDeclines = judgeStock(sale({ accepted: 200, inversions: 7 }, { declined: 0, acceptedAfterRefusal: 3 }), options);
  assert.deepEqual(kinds(noDeclines), ['unfair']);
  assert.equal(noDeclines.problems[0]!.count, 7, 'without declines every inversion counts, as without a gateway');
});

test('accepted-after-refusal counts the accepted buyers who arrived after the first refusal', () => {
  const { Accepted: A, Refused: R, Unjudged: U } = ArrivalState;
  const states = Uint8Array.from([A, A, R, U, A, R, A]);
  const times = Float64Array.from([1, 2, 3, 4, 5, 6, 3.5]);
  assert.equal(countAcceptedAfterRefusal(states, times, 0), 2);
  assert.equal(countAcceptedAfterRefusal(states, times, 1), 1, 'within the window of the refusal counts as simultaneous');
  assert.equal(countAcceptedAfterRefusal(Uint8Array.from([A, A]), Float64Array.from([1, 2]), 0), 0);
});
