import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveBurstPlan, runBurst, type BurstOptions, type BurstReport } from '../src/load/index.js';
import { declinedBySeed } from '../src/load/gateway-run.js';
import { UsageError } from '../src/util/errors.js';
import { runCli } from './helpers/cli.js';
import { HOLD_MS, startSale, type Sale } from './helpers/journey-sale.js';

function saleOptions(sale: Sale, changes: Partial<BurstOptions> = {}): BurstOptions {
  return {
    url: sale.shop.confirmUrl,
    buyers: 300,
    stock: 40,
    resetUrl: sale.shop.resetUrl,
    stockUrl: sale.shop.stockUrl,
    gateway: sale.gateway,
    webhookUrl: sale.shop.webhookUrl,
    // Latency is not what these tests judge, and seven helpers share two cores.
    p99BudgetMs: 5_000,
    ...changes,
  };
}

function kinds(report: BurstReport): string[] {
  return report.verdict.problems.map((problem) => problem.kind);
}

test('a burst through the gateway registers every payment, charges the 200s and judges paid against stock', async (t) => {
  const sale = await startSale(t);
  const report = await runBurst(saleOptions(sale));
  assert.equal(report.verdict.pass, true, report.verdict.summary);
  const payments = report.payments!;
  assert.equal(payments.gateway, sale.gateway.url);
  assert.equal(payments.api, 'v1');
  assert.equal(payments.registered, 300);
  assert.equal(payments.paid, 40);
  assert.equal(payments.declined, 0);
  assert.equal(payments.failed, 260, 'every refused confirm fails its payment');
  assert.equal(payments.webhooks.sent, 40, 'a V1 webhook per paid payment, none for the failures');
  assert.equal(payments.webhooks.unanswered, 0);
  assert.deepEqual(report.tally.payments, { paid: 40, declined: 0, acceptedAfterRefusal: null, declinedExamples: [] });
  assert.equal(payments.settle.restoredAfterMs !== null, true, 'stock left + paid made the stock at the start again');
  assert.ok(payments.settle.waitedMs < payments.settle.budgetMs, 'the settle ends once nothing more can change');
  assert.deepEqual(report.stock.probe && [report.stock.probe.before, report.stock.probe.after], [40, 0]);
  assert.match(report.verdict.summary, /^PASS 40 paid of 40 in stock to 300 buyers \(40 accepted\), stock 40 → 0/);

  // The gateway kept what the merchant's lookups would find: the payments of this run, by their order ids.
  const paid = sale.gateway.payments().filter((payment) => payment.status === 'paid');
  assert.equal(paid.length, 40);
});

test('with declines and a ramp, declined units sold again pass; their hold time is measured, not judged', async (t) => {
  // A merchant that looks the payment up when its hold runs out: a paid webhook late on a busy machine must
  // not make a paid unit lapse and sell twice (the trusting merchant's oversell, not what this test judges).
  const sale = await startSale(t, (url) => ({ holdMs: HOLD_MS, verify: 'rest', gateway: { url } }));
  // Declined units come back after the merchant's hold (HOLD_MS), while buyers are still arriving.
  const report = await runBurst(saleOptions(sale, { buyers: 400, stock: 40, declineRate: 0.25, rampMs: 2 * HOLD_MS, runId: 'decline-ramp' }));
  assert.equal(report.verdict.pass, true, `${report.verdict.summary}\n${JSON.stringify({ counts: report.counts, payments: report.payments, timing: report.timing })}`);
  const payments = report.payments!;
  assert.ok(payments.declined > 0, 'a quarter of the charges were declined');
  assert.equal(report.counts.accepted, payments.paid + payments.declined);
  assert.ok(payments.paid > 40 - payments.declined, 'declined units that came back while buyers arrived were sold again');
  assert.equal(report.stock.probe!.after + payments.paid, 40, 'every unit is paid for or back in stock');
  assert.ok(payments.settle.restoredAfterMs !== null);
  assert.equal(payments.examples.declined.length > 0, true);

});

test('the run seed decides which buyers the PG declines: a rerun with the same --run-id declines the same ones', () => {
  const seed = resolveBurstPlan({ url: 'http://127.0.0.1:9/confirm', buyers: 10_000, stock: 1, runId: 'sale-1' }).runSeed;
  const declined = (rate: number): number[] => Array.from({ length: 10_000 }, (_, buyer) => buyer).filter((buyer) => declinedBySeed(seed, buyer, rate));
  assert.deepEqual(declined(0.25), declined(0.25));
  assert.ok(Math.abs(declined(0.25).length - 2500) < 150, `${declined(0.25).length} of 10,000 at 0.25`);
  assert.deepEqual(declined(0), []);
  assert.equal(declined(1).length, 10_000);
  const otherSeed = resolveBurstPlan({ url: 'http://127.0.0.1:9/confirm', buyers: 1, stock: 1, runId: 'sale-2' }).runSeed;
  assert.notDeepEqual(declined(0.25).slice(0, 50), Array.from({ length: 10_000 }, (_, b) => b).filter((b) => declinedBySeed(otherSeed, b, 0.25)).slice(0, 50));
});

test('a merchant that never gives back the units of declined payments leaks, with the declined orders as examples', async (t) => {
  // Without a reservation deadline a V1 merchant never learns of a decline: no webhook comes for it.
  const sale = await startSale(t);
  const report = await runBurst(saleOptions(sale, { buyers: 200, stock: 40, declineRate: 0.3, settleMs: 400 }));
  assert.deepEqual(kinds(report), ['leak']);
  const leak = report.verdict.problems[0]!;
  const payments = report.payments!;
  assert.equal(leak.count, payments.declined);
  assert.equal(payments.paid + payments.declined, 40);
  assert.ok(payments.examples.declined.includes(leak.examples[0]!));
  assert.equal(payments.settle.restoredAfterMs, null);
  assert.ok(payments.settle.waitedMs >= 400, 'an unbalanced sale waits the whole settle');
});

test('answers reach the gateway from worker threads too', async (t) => {
  const sale = await startSale(t);
  const report = await runBurst(saleOptions(sale, { workers: 2 }));
  assert.equal(report.verdict.pass, true, report.verdict.summary);
  assert.equal(report.payments!.paid, 40);
  assert.equal(report.payments!.failed, 260);
  assert.equal(report.payments!.ready, 0, 'no answer was lost on the way from a thread');
});

test('gateway flags without a gateway are refused in one line', async () => {
  await assert.rejects(runBurst({ url: 'http://127.0.0.1:9/confirm', buyers: 1, stock: 1, declineRate: 0.1 }), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /^`declineRate` needs `gateway` <url>/);
    return true;
  });
  await assert.rejects(runBurst({ url: 'http://127.0.0.1:9/confirm', buyers: 1, stock: 1, gateway: 'http://127.0.0.1:4000/v1' }), /without a path/);
  const run = await runCli(['burst', 'http://127.0.0.1:9/confirm', '--stock', '1', '--notice-url', 'http://127.0.0.1:9/webhook']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--webhook-url needs --gateway <url>/);
});

test('burst --gateway prints the money side of the sale', async (t) => {
  const sale = await startSale(t, { holdMs: HOLD_MS });
  const run = await runCli([
    'burst',
    sale.shop.confirmUrl,
    '--buyers',
    '100',
    '--stock',
    '10',
    '--reset-url',
    sale.shop.resetUrl,
    '--stock-url',
    sale.shop.stockUrl,
    '--gateway',
    sale.gateway.url,
    '--notice-url',
    sale.shop.webhookUrl,
    '--decline-rate',
    '20%',
    '--settle',
    '2s',
  ]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^PASS \d+ paid of 10 in stock to 100 buyers \(10 accepted/);
  assert.match(run.stdout, new RegExp(`\\ngateway +${sale.gateway.url} V1, 100 payments registered, decline rate 0.2\\n`));
  assert.match(run.stdout, /\npayments +paid \d+ +declined \d+ +failed 90\n/);
  assert.match(run.stdout, /\nwebhooks +sent \d+ +retried 0 +not answered 0 to http/);
  assert.match(run.stdout, /\nsettle +waited .* of 2\.00 s, declined stock back after /);
});
