import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMerchant } from '../src/merchants/index.js';
import { runBurst } from '../src/load/index.js';
import { runCheck, type CheckOptions, type CheckResult } from '../src/contract/index.js';

function statuses(result: CheckResult): string[] {
  return result.cases.map((c) => `${c.id} ${c.name} ${c.status}`);
}

test('check without a reset hook is repeatable: twice against one merchant, the same result, and the burst skipped with why', async (t) => {
  const merchant = await startMerchant({ port: 0, stock: 200 });
  t.after(() => merchant.close());
  const options: CheckOptions = {
    url: merchant.confirmUrl,
    orderUrl: merchant.orderUrl,
    stockUrl: merchant.stockUrl,
    hookHeaders: merchant.adminHeaders,
    load: { connections: 4, durationMs: 300 },
  };
  const first = await runCheck(options);
  const second = await runCheck(options);
  assert.deepEqual(statuses(second), statuses(first));
  assert.equal(first.ok, true, JSON.stringify(first.cases.filter((c) => c.status === 'failed')));
  const burst = first.cases.find((c) => c.name === 'first-come-burst')!;
  assert.equal(burst.status, 'skipped');
  assert.match(burst.message, /needs the reset hook \(`resetUrl`\).*leave the next run nothing to sell/);
  assert.ok(first.cases.filter((c) => c.status === 'passed').length >= 5, statuses(first).join('\n'));
  assert.ok(merchant.stock() > 0, 'the two runs left the merchant stock');
});

test('after a burst sold the stock out, check skips what needs stock and says so, instead of blaming the order hook', async (t) => {
  const merchant = await startMerchant({ port: 0, stock: 30, openOrders: true });
  t.after(() => merchant.close());
  await runBurst({ url: merchant.confirmUrl, buyers: 60, stock: 30 });
  assert.equal(merchant.stock(), 0);
  const result = await runCheck({ url: merchant.confirmUrl, stockUrl: merchant.stockUrl, load: { connections: 2, durationMs: 200 } });
  for (const name of ['confirms-known-order', 'idempotent-repeat', 'survives-bad-input', 'latency-under-load'] as const) {
    const found = result.cases.find((c) => c.name === name)!;
    assert.equal(found.status, 'skipped', `${name}: ${found.message}`);
    assert.match(found.message, /the stock probe says 0 in stock and this case needs \d+; give a reset hook/, name);
  }
  assert.ok(!result.cases.some((c) => /--order-url/.test(c.message) && c.status === 'failed'), JSON.stringify(result.cases));
});
