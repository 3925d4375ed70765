import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { burstReportProblem, mergeBurstReports, runBurst, type BurstOptions, type BurstReport } from '../src/load/index.js';
import { Chalk } from 'chalk';
import { formatBurstSummary } from '../src/reporters/burst-terminal.js';
import { startCompletionSale, type CompletionFlaw } from './helpers/completion-merchant.js';
import { HOLD_MS, startSale } from './helpers/journey-sale.js';

// A sale split into shards (burst --shard i/n, one process or pod each) with the gateway in the loop: every
// shard registers and settles its own payments, judges what a slice can, and `merge` judges paid against stock.

const SHARDS = 2;

/** Runs every shard of one sale at once, as an Indexed Job would, all starting at the same instant. */
async function runShards(options: BurstOptions): Promise<BurstReport[]> {
  const startAt = Date.now() + 500;
  return Promise.all(
    Array.from({ length: SHARDS }, (_, index) => runBurst({ ...options, shard: { index, count: SHARDS }, startAt })),
  );
}

function kinds(report: BurstReport): string[] {
  return report.verdict.problems.map((problem) => problem.kind);
}

test('Confirm Process shards through one gateway: each settles its own payments, the merge judges paid against stock', async (t) => {
  const sale = await startSale(t, (url) => ({ holdMs: HOLD_MS, verify: 'rest', gateway: { url } }));
  const shards = await runShards({
    url: sale.shop.confirmUrl,
    buyers: 300,
    stock: 30,
    resetUrl: sale.shop.resetUrl,
    stockUrl: sale.shop.stockUrl,
    gateway: sale.gateway,
    webhookUrl: sale.shop.webhookUrl,
    declineRate: 0.2,
    rampMs: 2 * HOLD_MS,
    runId: 'shard-sale',
    p99BudgetMs: 30_000,
  });
  for (const shard of shards) {
    assert.equal(shard.verdict.partial, true);
    assert.equal(shard.verdict.pass, true, shard.verdict.summary);
    assert.equal(shard.payments!.registered, 150, 'a shard registers only its own buyers');
    assert.equal(shard.payments!.ready, 0, "every one of the shard's answers reached the gateway");
  }
  const merged = mergeBurstReports(shards);
  for (const report of [...shards, merged]) assert.equal(burstReportProblem(JSON.parse(JSON.stringify(report))), null, 'the published schema holds');
  assert.equal(merged.verdict.partial, false);
  assert.equal(merged.verdict.pass, true, `${merged.verdict.summary}\n${JSON.stringify(merged.payments)}`);
  const payments = merged.payments!;
  assert.equal(payments.registered, 300);
  assert.equal(payments.paid + payments.declined, merged.counts.accepted);
  assert.ok(payments.declined > 0, 'a fifth of the charges were declined');
  assert.equal(merged.stock.probe!.after + payments.paid, 30, 'every unit is paid for or back in stock');
  assert.equal(merged.tally.payments!.paid, payments.paid);
  const plain = new Chalk({ level: 0 });
  assert.match(formatBurstSummary(shards[0]!, plain), /settle +waited .*, each shard waits the settle out; merge tells whether the stock balanced/);
  assert.match(formatBurstSummary(merged, plain), /settle +waited .*, stock balanced\n/);
  const paidAtGateway = sale.gateway.payments().filter((payment) => payment.status === 'paid').length;
  assert.equal(paidAtGateway, payments.paid, "the merge's paid payments are the gateway's");
});

test("a merchant keeping declined payments' units leaks: no shard can tell, the merge says so", async (t) => {
  // The sample merchant without a reservation deadline never learns of a V1 decline.
  const sale = await startSale(t);
  const shards = await runShards({
    url: sale.shop.confirmUrl,
    buyers: 200,
    stock: 40,
    resetUrl: sale.shop.resetUrl,
    stockUrl: sale.shop.stockUrl,
    gateway: sale.gateway,
    webhookUrl: sale.shop.webhookUrl,
    declineRate: 0.3,
    settleMs: 300,
    runId: 'shard-leak',
    p99BudgetMs: 30_000,
  });
  for (const shard of shards) {
    assert.equal(shard.verdict.pass, true, shard.verdict.summary);
    assert.match(shard.verdict.notes.join('\n'), /need every shard/);
  }
  const merged = mergeBurstReports(shards);
  assert.deepEqual(kinds(merged), ['leak']);
  assert.equal(merged.verdict.problems[0]!.count, merged.payments!.declined);
  assert.equal(merged.payments!.paid + merged.payments!.declined, 40);
});

const API_SECRET = 'test-api-secret-shards';

async function manualConfirmShards(t: TestContext, flaw: CompletionFlaw): Promise<BurstReport[]> {
  const { gateway, merchant } = await startCompletionSale(t, { flaw, stock: 10, apiSecret: API_SECRET });
  return runShards({
    url: merchant.url,
    buyers: 80,
    stock: 10,
    flow: 'manual-confirm',
    gateway: gateway.url,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    settleMs: 300,
    runId: `shard-mc-${flaw}`,
    p99BudgetMs: 30_000,
  });
}

test('manual-confirm shards: each judges its buyers against their payments, the merge confirms exactly the stock', async (t) => {
  const shards = await manualConfirmShards(t, 'none');
  for (const shard of shards) {
    assert.equal(shard.verdict.partial, true);
    assert.equal(shard.verdict.pass, true, shard.verdict.summary);
    assert.match(shard.verdict.summary, /^PASS \(this shard only\)/);
    assert.equal(shard.manualConfirm!.statuses.ready + shard.manualConfirm!.confirmed, 40, "a shard's status line covers its own 40 buyers");
  }
  const merged = mergeBurstReports(shards);
  assert.equal(burstReportProblem(JSON.parse(JSON.stringify(merged))), null, 'the published schema holds');
  assert.equal(merged.verdict.pass, true, merged.verdict.summary);
  assert.equal(merged.manualConfirm!.confirmed, 10);
  assert.equal(merged.manualConfirm!.toldPaid, 10);
  assert.match(merged.verdict.summary, /^PASS 10 confirmed of 10 in stock to 80 buyers/);
});

test('manual-confirm shards: a merchant that confirms before it checks stock is caught in the shard and in the merge', async (t) => {
  const shards = await manualConfirmShards(t, 'confirm-first');
  assert.ok(shards.every((shard) => kinds(shard).includes('charged-refused')), shards.map((shard) => shard.verdict.summary).join('\n'));
  const merged = mergeBurstReports(shards);
  assert.ok(kinds(merged).includes('charged-refused'), merged.verdict.summary);
  assert.equal(
    merged.manualConfirm!.chargedRefused,
    shards.reduce((total, shard) => total + shard.manualConfirm!.chargedRefused, 0),
  );
});
