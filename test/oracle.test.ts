import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArrivalState,
  countInversions,
  emptyExamples,
  inversionExamples,
  judgeStock,
  type JudgeOptions,
  type StockTally,
} from '../src/oracle/index.js';

const options: JudgeOptions = { p99BudgetMs: 1000, timeoutMs: 5000, duplicatesSent: false };

/** A clean sale of 100 to 2,000 buyers; each test changes what it is about. */
function tally(changes: Partial<StockTally> = {}): StockTally {
  return {
    buyers: 2000,
    stock: 100,
    accepted: 100,
    notAccepted: { refused: 1900, serverErrors: 0, timeouts: 0, connectionErrors: 0, notSent: 0, aborted: 0 },
    stranded: 0,
    doubleAccepted: 0,
    overBudget: 0,
    timeouts: 0,
    latencyP99Ms: 40,
    inversions: null,
    probe: { before: 100, after: 0 },
    payments: null,
    interrupted: false,
    missingShards: [],
    examples: { ...emptyExamples(), latestAccepted: ['sale-2000', 'sale-1999'] },
    ...changes,
  };
}

function kinds(verdict: ReturnType<typeof judgeStock>): string[] {
  return verdict.problems.map((problem) => problem.kind);
}

test('exactly min(stock, buyers) accepted with the stock gone passes', () => {
  const verdict = judgeStock(tally(), options);
  assert.equal(verdict.pass, true);
  assert.deepEqual(verdict.problems, []);
  assert.match(verdict.summary, /^PASS 100 of 100 in stock sold to 2000 buyers, stock 100 → 0/);

  const fewBuyers = tally({
    buyers: 60,
    accepted: 60,
    notAccepted: { refused: 0, serverErrors: 0, timeouts: 0, connectionErrors: 0, notSent: 0, aborted: 0 },
    probe: { before: 100, after: 40 },
  });
  assert.equal(judgeStock(fewBuyers, options).pass, true, 'fewer buyers than stock: every buyer gets one');
});

test('more accepted than in stock is an oversell, with the latest accepted as examples', () => {
  const verdict = judgeStock(tally({ accepted: 112, probe: null }), options);
  assert.equal(verdict.pass, false);
  assert.deepEqual(kinds(verdict), ['oversell']);
  assert.equal(verdict.problems[0]!.count, 12);
  assert.deepEqual(verdict.problems[0]!.examples, ['sale-2000', 'sale-1999']);
  assert.match(verdict.summary, /^FAIL oversell \(12\)/);
});

test('fewer accepted than stock allowed is an undersell split by cause', () => {
  const causes = { refused: 1890, serverErrors: 4, timeouts: 3, connectionErrors: 3, notSent: 0, aborted: 0 };
  const verdict = judgeStock(
    tally({
      accepted: 90,
      notAccepted: causes,
      probe: { before: 100, after: 10 },
      examples: { ...emptyExamples(), refused: ['sale-7'], timeouts: ['sale-9'] },
    }),
    options,
  );
  assert.deepEqual(kinds(verdict), ['undersell']);
  const problem = verdict.problems[0]!;
  assert.equal(problem.count, 10);
  assert.deepEqual(problem.causes, causes);
  assert.deepEqual(problem.examples, ['sale-7', 'sale-9']);
  assert.match(problem.message, /1890 refused while stock was left, 4 got 5xx, 3 timed out, 3 hit connection errors/);
});

test('stock falling by more than was sold is a double-take; stranded sales explain their share', () => {
  const doubled = judgeStock(
    tally({ accepted: 84, probe: { before: 100, after: 0 }, doubleAccepted: 16, examples: { ...emptyExamples(), doubleAccepted: ['sale-5'] } }),
    { ...options, duplicatesSent: true },
  );
  assert.deepEqual(kinds(doubled), ['undersell', 'double-take']);
  assert.equal(doubled.problems[1]!.count, 16);
  assert.deepEqual(doubled.problems[1]!.examples, ['sale-5']);

  const stranded = judgeStock(tally({ accepted: 90, stranded: 10, probe: { before: 100, after: 0 }, notAccepted: { refused: 1890, serverErrors: 0, timeouts: 10, connectionErrors: 0, notSent: 0, aborted: 0 } }), options);
  assert.ok(!kinds(stranded).includes('double-take'), 'the 10 stranded took the missing stock');
  assert.ok(kinds(stranded).includes('stranded'));
  assert.equal(stranded.problems.find((problem) => problem.kind === 'stranded')!.count, 10);
});

test('stock falling by less than was sold is a stock mismatch', () => {
  const verdict = judgeStock(tally({ probe: { before: 100, after: 97 } }), options);
  assert.deepEqual(kinds(verdict), ['stock-mismatch']);
  assert.equal(verdict.problems[0]!.count, 97);
});

test('without a probe a run with duplicates says double-take was not checked', () => {
  const verdict = judgeStock(tally({ probe: null }), { ...options, duplicatesSent: true });
  assert.equal(verdict.pass, true);
  assert.match(verdict.notes.join('\n'), /double-take not checked/);
  assert.deepEqual(judgeStock(tally({ probe: null }), options).notes, []);
});

test('p99 over the budget is slow; a p99 at the timeout is slow even when the budget equals the timeout', () => {
  const slow = judgeStock(tally({ latencyP99Ms: 1500, overBudget: 40, examples: { ...emptyExamples(), slow: ['sale-3'] } }), options);
  assert.deepEqual(kinds(slow), ['slow']);
  assert.equal(slow.problems[0]!.count, 40);
  assert.deepEqual(slow.problems[0]!.examples, ['sale-3']);

  assert.equal(judgeStock(tally({ latencyP99Ms: 1000 }), options).pass, true, 'exactly at the budget is within it');

  const timedOut = judgeStock(tally({ latencyP99Ms: 500, timeouts: 30, overBudget: 30 }), { ...options, p99BudgetMs: 500, timeoutMs: 500 });
  assert.deepEqual(kinds(timedOut), ['slow']);
  assert.match(timedOut.problems[0]!.message, /at the 500 ms timeout/);
});

test('inversions are unfair, late 200s are stranded', () => {
  const unfair = judgeStock(
    tally({ inversions: 7, examples: { ...emptyExamples(), unfairAccepted: ['sale-9'], unfairRefused: ['sale-2'] } }),
    options,
  );
  assert.deepEqual(kinds(unfair), ['unfair']);
  assert.equal(unfair.problems[0]!.count, 7);
  assert.match(unfair.problems[0]!.message, /refused earlier: sale-2/);
  assert.equal(judgeStock(tally({ inversions: 0 }), options).pass, true);

  const stranded = judgeStock(tally({ stranded: 3, probe: { before: 100, after: -3 } }), options);
  assert.deepEqual(kinds(stranded), ['stranded']);
});

test('an interrupted run or missing shards fail and leave undersell unjudged, but oversell still counts', () => {
  const causes = { refused: 400, serverErrors: 0, timeouts: 0, connectionErrors: 0, notSent: 1500, aborted: 20 };
  const interrupted = judgeStock(tally({ accepted: 80, interrupted: true, notAccepted: causes, probe: null }), options);
  assert.deepEqual(kinds(interrupted), ['interrupted']);
  assert.equal(interrupted.problems[0]!.count, 1520);
  assert.match(interrupted.notes.join('\n'), /undersell not judged/);

  const oversold = judgeStock(tally({ accepted: 130, interrupted: true, notAccepted: causes, probe: null }), options);
  assert.deepEqual(kinds(oversold), ['oversell', 'interrupted']);

  const missing = judgeStock(tally({ accepted: 50, missingShards: [1, 3], probe: null }), options);
  assert.deepEqual(kinds(missing), ['missing-shards']);
  assert.match(missing.problems[0]!.message, /shards \(1, 3\)/);
});

test('a single shard is judged without the stock checks it cannot make', () => {
  const verdict = judgeStock(tally({ buyers: 1000, accepted: 130, probe: { before: 100, after: 0 } }), { ...options, stockChecks: false });
  assert.equal(verdict.pass, true);
  assert.match(verdict.summary, /this shard only/);
  assert.match(verdict.notes.join('\n'), /confirm-sim merge/);
  const slowShard = judgeStock(tally({ latencyP99Ms: 3000, overBudget: 5 }), { ...options, stockChecks: false });
  assert.deepEqual(kinds(slowShard), ['slow']);
});

const A = ArrivalState.Accepted;
const R = ArrivalState.Refused;
const U = ArrivalState.Unjudged;

/** The definition, pair by pair: a refusal already given before a later buyer arrived and was accepted. */
function bruteForceInversions(states: number[], times: number[], windowMs: number): number {
  let count = 0;
  for (let accepted = 0; accepted < states.length; accepted++) {
    if (states[accepted] !== A) continue;
    for (let refused = 0; refused < states.length; refused++) {
      if (states[refused] === R && times[refused]! < times[accepted]! - windowMs) count++;
    }
  }
  return count;
}

function inversions(states: number[], times: number[], windowMs = 0): number {
  return countInversions(Uint8Array.from(states), times, windowMs);
}

test('an inversion is a buyer accepted after an earlier buyer had already been refused', () => {
  assert.equal(inversions([R, A], [1, 2]), 1);
  assert.equal(inversions([A, R], [1, 2]), 0);
  assert.equal(inversions([R, A], [5, 3]), 0, 'the refusal came after the later buyer arrived: they overlapped');
  assert.equal(inversions([R, R, A, A], [1, 2, 3, 4]), 4);
  assert.equal(inversions([R, U, A], [1, 0, 3]), 1, 'unjudged buyers take no part');
  assert.equal(inversions([R, A], [1, 2], 1), 0, 'within the window counts as simultaneous');
  assert.equal(inversions([R, A], [1, 3], 1), 1);
  assert.equal(inversions([], []), 0);
});

test('the sorted count agrees with the pair-by-pair definition', () => {
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let round = 0; round < 200; round++) {
    const length = Math.floor(random() * 60);
    const states = Array.from({ length }, () => [A, R, U][Math.floor(random() * 3)]!);
    const times = Array.from({ length }, () => Math.floor(random() * 40));
    const windowMs = Math.floor(random() * 3);
    assert.equal(inversions(states, times, windowMs), bruteForceInversions(states, times, windowMs), `round ${round}`);
  }
});

test('inversion examples name accepted late arrivals and refused early ones', () => {
  const found = inversionExamples(Uint8Array.from([A, R, R, A, R, A]), [0, 10, 20, 30, 40, 50], 0, 5);
  assert.deepEqual(found.acceptedLate, [3, 5]);
  assert.deepEqual(found.refusedEarly, [1, 2]);
  assert.deepEqual(inversionExamples(Uint8Array.from([A, A, R]), [0, 1, 2], 0, 5), { acceptedLate: [], refusedEarly: [] });
});
