import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyExamples, emptyManualConfirmTally, judgeManualConfirm, type ManualConfirmTally, type StockTally } from '../src/oracle/index.js';

// The manual-confirm verdict from tallies alone: each rule's edge, without a merchant.

function stockTally(extra: Partial<StockTally> = {}): StockTally {
  return {
    buyers: 100,
    stock: 10,
    accepted: 10,
    notAccepted: { refused: 90, serverErrors: 0, timeouts: 0, connectionErrors: 0, notSent: 0, aborted: 0 },
    stranded: 0,
    doubleAccepted: 0,
    overBudget: 0,
    timeouts: 0,
    latencyP99Ms: 20,
    inversions: null,
    probe: null,
    payments: null,
    interrupted: false,
    missingShards: [],
    examples: emptyExamples(),
    ...extra,
  };
}

function mcTally(extra: Partial<ManualConfirmTally> = {}): ManualConfirmTally {
  const tally = emptyManualConfirmTally();
  tally.statuses = { ...tally.statuses, paid: 10, ready: 90 };
  tally.confirmed = 10;
  tally.toldPaid = 10;
  tally.unconfirmed.refused = 90;
  return { ...tally, ...extra };
}

const options = { p99BudgetMs: 1000, timeoutMs: 5000, duplicatesSent: false, settleMs: 2000, successStatus: '2xx' };

const kinds = (verdict: ReturnType<typeof judgeManualConfirm>): string[] => verdict.problems.map((problem) => problem.kind);

test('exactly the stock confirmed, every answer true: PASS, with a note that the stock was not probed', () => {
  const verdict = judgeManualConfirm(stockTally(), mcTally(), options);
  assert.equal(verdict.pass, true, verdict.summary);
  assert.match(verdict.summary, /^PASS 10 confirmed of 10 in stock to 100 buyers \(10 told paid\)/);
  assert.ok(verdict.notes.some((note) => note.startsWith('leak not checked')));
});

test('declined units explain a shortfall only when the probe shows them back', () => {
  const declined = mcTally({ confirmed: 8, statuses: { ...mcTally().statuses, paid: 8, failed: 2, ready: 90 } });
  const back = judgeManualConfirm(stockTally({ probe: { before: 10, after: 2 } }), declined, options);
  assert.equal(back.pass, true, back.summary);
  assert.ok(back.notes.some((note) => /2 units of the 2 short went to 2 payments the PG declined/.test(note)));
  const kept = judgeManualConfirm(stockTally({ probe: { before: 10, after: 0 } }), declined, options);
  assert.deepEqual(kinds(kept), ['undersell', 'leak']);
  assert.match(kept.problems[0]!.message, /never gave their units back/);
  const unprobed = judgeManualConfirm(stockTally(), declined, options);
  assert.equal(unprobed.pass, true);
  assert.ok(unprobed.notes.some((note) => /give --stock-url to check/.test(note)));
});

test('each answer that disagrees with the gateway is its own problem', () => {
  const verdict = judgeManualConfirm(
    stockTally({ probe: { before: 10, after: 0 } }),
    mcTally({ confirmed: 12, chargedRefused: 2, toldPaidUnconfirmed: 1, doubleConfirm: 1, statuses: { ...mcTally().statuses, paid: 12, ready: 88 } }),
    options,
  );
  assert.deepEqual(kinds(verdict), ['oversell', 'charged-refused', 'told-paid-unconfirmed', 'double-confirm', 'stock-mismatch']);
  assert.match(verdict.summary, /^FAIL oversell \(2\), charged-refused \(2\)/);
  assert.match(verdict.problems[1]!.message, /did not cancel it within the 2.00 s settle/);
});

test('an interrupted run does not judge undersell; slowness is judged as for the Confirm Process', () => {
  const interrupted = judgeManualConfirm(
    stockTally({ interrupted: true, notAccepted: { refused: 0, serverErrors: 0, timeouts: 0, connectionErrors: 0, notSent: 95, aborted: 0 } }),
    mcTally({ confirmed: 5 }),
    options,
  );
  assert.deepEqual(kinds(interrupted), ['interrupted']);
  const slow = judgeManualConfirm(stockTally({ latencyP99Ms: 1500, overBudget: 3 }), mcTally(), options);
  assert.deepEqual(kinds(slow), ['slow']);
});
