import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBurst } from '../src/load/index.js';
import { docBurstOptions, startDocSale } from './helpers/doc-sale.js';

const RUNS = 20;
/** Fewer than the 20 runs' payments together: the gateway only keeps up if every run's payments can be forgotten. */
const MAX_PAYMENTS = 200;

test(`${RUNS} bursts in a row against the same gateway and doc-written merchant: each correct on its own, the gateway's memory bounded`, async (t) => {
  const sale = await startDocSale(t, 'iamport', { holdMs: 150, gateway: { maxPayments: MAX_PAYMENTS } });
  const buyers = 40;
  const stock = 10;
  for (let run = 1; run <= RUNS; run++) {
    // Plain, with declines, and every fourth run with declines and a ramp, so declined units sell again.
    const declineRate = run % 2 === 0 ? 0.2 : 0;
    const rampMs = run % 4 === 0 ? 600 : undefined;
    const report = await runBurst(docBurstOptions(sale, { buyers, stock, declineRate, rampMs, runId: `repeat-${run}` }));
    const payments = report.payments!;
    const facts = `run ${run}: ${report.verdict.summary}\n${JSON.stringify({ counts: report.counts, payments })}`;
    assert.equal(report.verdict.pass, true, facts);
    // Each run's counts are its own: nothing carried over from the run before (fresh stock via the reset hook).
    assert.equal(payments.registered, buyers, facts);
    assert.equal(report.stock.probe!.before, stock, facts);
    assert.equal(payments.paid + payments.declined, report.counts.accepted, facts);
    assert.equal(payments.paid + report.stock.probe!.after, stock, `every unit paid for or back in stock: ${facts}`);
    if (declineRate === 0) assert.equal(payments.paid, stock, facts);
    assert.equal(payments.ready, 0, facts);
    assert.ok(sale.gateway.payments().length <= MAX_PAYMENTS, `run ${run}: the gateway keeps ${sale.gateway.payments().length} payments`);
  }
  // The runs' summaries stay exact after their payments were forgotten.
  const first = sale.gateway.summary('repeat-1');
  assert.equal(first.ended, true);
  assert.equal(first.payments.registered, buyers);
  assert.equal(first.payments.paid, stock);
  assert.ok(first.forgotten > 0, 'the first run\'s payments made room for later runs');
});
