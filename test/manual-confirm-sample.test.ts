import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { runBurst, runCheck, type BurstOptions } from '../src/index.js';
import { startGateway, type RunningGateway } from '../src/gateway/index.js';
import { startMerchant, type RunningMerchant } from '../src/merchants/index.js';
import type { Flaw } from '../src/merchants/flaws.js';

// burst and check --flow manual-confirm against the sample merchant's `--flow manual-confirm` (written by another
// hand than the oracle's): the correct one passes, each of its flaws is caught as the problem or case named for it.

const API_SECRET = 'test-api-secret-mcload-sample';

async function rig(t: TestContext, flaw?: Flaw, declineRate = 0): Promise<{ gateway: RunningGateway; shop: RunningMerchant }> {
  const gateway = await startGateway({ port: 0, apiSecret: API_SECRET, declineRate });
  const shop = await startMerchant({
    flow: 'manual-confirm',
    gateway: { url: gateway.url, apiSecret: API_SECRET },
    openOrders: true,
    stock: 20,
    ...(flaw ? { flaw } : {}),
  });
  t.after(async () => {
    await shop.close();
    await gateway.close();
  });
  return { gateway, shop };
}

function sale(gateway: RunningGateway, shop: RunningMerchant, extra: Partial<BurstOptions> = {}): BurstOptions {
  return {
    url: shop.confirmUrl,
    buyers: 60,
    stock: 20,
    flow: 'manual-confirm',
    gateway: gateway.url,
    resetUrl: shop.resetUrl,
    stockUrl: shop.stockUrl,
    settleMs: 500,
    // Latency is not what these tests judge; a machine busy with other suites must not fail them.
    p99BudgetMs: 30_000,
    ...extra,
  };
}

test('the correct sample merchant passes a manual-confirm burst twenty times in a row, repeats and declines included', async (t) => {
  const { gateway, shop } = await rig(t, undefined, 0.2);
  for (let round = 1; round <= 20; round++) {
    const report = await runBurst(sale(gateway, shop, { duplicates: 0.1, declineRate: 0.2 }));
    assert.equal(report.verdict.pass, true, `round ${round}: ${report.verdict.summary}`);
    const mc = report.manualConfirm!;
    assert.equal(mc.chargedRefused + mc.toldPaidUnconfirmed + mc.doubleConfirm, 0, `round ${round}`);
    assert.ok(mc.confirmed <= 20, `round ${round}`);
    // Its own API's reason for a "no", read from the body; no gateway fail reason in manual confirm.
    const soldOut = report.refusalReasons.find((reason) => reason.status === 409);
    assert.equal(soldOut?.detail, 'sold out', `round ${round}`);
    assert.equal(soldOut?.failReason, null);
  }
});

// Each flaw with every kind the issue names for it: confirm-first charges buyers it then refuses, past the stock.
const CAUGHT: Array<[Flaw, string[], Partial<BurstOptions>, number]> = [
  ['confirm-first', ['charged-refused', 'oversell'], {}, 0],
  ['race', ['oversell'], {}, 0],
  ['no-release', ['leak'], { declineRate: 0.3 }, 0.3],
  ['double-confirm', ['double-confirm'], { duplicates: 0.3 }, 0],
];

for (const [flaw, kinds, extra, declineRate] of CAUGHT) {
  test(`the sample merchant's ${flaw} flaw is caught as ${kinds.join(' and ')}`, async (t) => {
    const { gateway, shop } = await rig(t, flaw, declineRate);
    const report = await runBurst(sale(gateway, shop, extra));
    assert.equal(report.verdict.pass, false);
    for (const kind of kinds) {
      const problem = report.verdict.problems.find((entry) => entry.kind === kind);
      assert.ok(problem && problem.count > 0, `${flaw}: ${kind} in ${report.verdict.summary}`);
    }
  });
}

test('check --flow manual-confirm: the correct sample merchant keeps cases 15-20', async (t) => {
  const { gateway, shop } = await rig(t);
  const result = await runCheck({
    url: shop.confirmUrl,
    flow: 'manual-confirm',
    gateway: gateway.url,
    orderUrl: shop.orderUrl,
    resetUrl: shop.resetUrl,
    stockUrl: shop.stockUrl,
    settleMs: 300,
  });
  assert.deepEqual(
    result.cases.map((entry) => `${entry.name} ${entry.status}`),
    [
      'completes-known-order passed',
      'sold-out-confirms-nothing passed',
      'tampered-amount-not-confirmed passed',
      'replayed-token-confirms-once passed',
      'decline-gives-stock-back passed',
      'burst-confirms-stock passed',
    ],
    JSON.stringify(result.cases.map((entry) => entry.message), null, 1),
  );
});
