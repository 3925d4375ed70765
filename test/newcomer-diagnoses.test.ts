import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startMerchant, type MerchantOptions, type RunningMerchant } from '../src/merchants/index.js';
import { runBurst, type BurstReport } from '../src/load/index.js';
import { runCheck } from '../src/contract/index.js';
import { reasonPattern, saysUnknownOrder } from '../src/protocol/index.js';
import { runCli } from './helpers/cli.js';

async function merchant(t: TestContext, options: MerchantOptions): Promise<RunningMerchant> {
  const running = await startMerchant({ port: 0, ...options });
  t.after(() => running.close());
  return running;
}

const FIX = /--order-url.*confirm-sim merchant --open-orders/;

test('unknown-order answers are recognised by status or wording, and a reason per order id counts once', () => {
  assert.equal(saysUnknownOrder(404, null), true);
  assert.equal(saysUnknownOrder(400, 'order not found'), true);
  assert.equal(saysUnknownOrder(409, '존재하지 않는 주문입니다'), true);
  assert.equal(saysUnknownOrder(409, 'sold out'), false);
  assert.equal(saysUnknownOrder(400, 'amount mismatch'), false);
  assert.equal(reasonPattern('unknown order burst-m9gk2j-000123'), 'unknown order <id>');
  assert.equal(reasonPattern('sold out: 0 of 100 left'), 'sold out: 0 of 100 left');
});

test('a burst at a merchant that knows none of the orders says so once, with the fix; a shard of it does not PASS', async (t) => {
  const shop = await merchant(t, { stock: 50 });
  const report = await runBurst({ url: shop.confirmUrl, buyers: 120, stock: 50, stockUrl: shop.stockUrl });
  assert.equal(report.verdict.pass, false);
  assert.equal(report.verdict.problems[0]!.kind, 'unknown-orders');
  assert.match(report.verdict.summary, FIX);
  assert.equal(report.tally.unknownOrders, 120);
  assert.equal(report.refusalReasons.length, 1, JSON.stringify(report.refusalReasons));
  assert.equal(report.refusalReasons[0]!.detail, 'unknown order <id>');
  assert.match(report.verdict.problems.find((p) => p.kind === 'undersell')!.message, /120 refused as unknown orders/);
  assert.doesNotMatch(report.verdict.summary, /while stock was left/);

  const shard = await runCli(['burst', shop.confirmUrl, '-n', '120', '-s', '50', '--shard', '0/2', '--json', '-']);
  assert.equal(shard.code, 1, shard.stderr);
  const shardReport = JSON.parse(shard.stdout) as BurstReport;
  assert.equal(shardReport.verdict.pass, false);
  assert.deepEqual(shardReport.verdict.problems.map((p) => p.kind), ['unknown-orders']);

  // The same merchant with its orders created first: no such diagnosis.
  const fine = await runBurst({ url: shop.confirmUrl, buyers: 60, stock: 50, orderUrl: shop.orderUrl, resetUrl: shop.resetUrl, stockUrl: shop.stockUrl, hookHeaders: shop.adminHeaders });
  assert.ok(!fine.verdict.problems.some((p) => p.kind === 'unknown-orders'), fine.verdict.summary);
});

test('a double-take under --duplicates: the undersell text agrees with the probe that shows the stock gone', async (t) => {
  const shop = await merchant(t, { stock: 40, openOrders: true, flaw: 'double' });
  const report = await runBurst({ url: shop.confirmUrl, buyers: 120, stock: 40, duplicates: 0.5, stockUrl: shop.stockUrl });
  const kinds = report.verdict.problems.map((p) => p.kind);
  assert.ok(kinds.includes('double-take'), report.verdict.summary);
  assert.equal(report.stock.probe?.after, 0);
  // The repeats took stock a buyer should have had: fewer buyers got it than there was stock.
  const undersell = report.verdict.problems.find((p) => p.kind === 'undersell');
  assert.ok(undersell, report.verdict.summary);
  assert.doesNotMatch(undersell.message, /while stock was left/);
  assert.match(undersell.message, /refused, rightly: the stock probe shows none left; the stock went to repeated confirms/);
});

test("check's case 6 blames the missing order hook, not the bad input, when the good confirm is an unknown order", async (t) => {
  const shop = await merchant(t, { stock: 50 });
  const result = await runCheck({ url: shop.confirmUrl, grep: /bad-input/ });
  const [bad] = result.cases;
  assert.equal(bad!.status, 'failed');
  assert.match(bad!.message, /the merchant does not know the order, so this says nothing about the bad input/);
  assert.match(bad!.message, FIX);
  assert.doesNotMatch(bad!.message, /left the endpoint unable to confirm/);
});
