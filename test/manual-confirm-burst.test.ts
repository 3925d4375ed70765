import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { runBurst, type BurstOptions } from '../src/index.js';
import type { RunningGateway } from '../src/gateway/index.js';
import { UsageError } from '../src/util/errors.js';
import { startCompletionSale, type CompletionFlaw, type CompletionMerchant } from './helpers/completion-merchant.js';

// burst --flow manual-confirm over real sockets: buyers post their minted paymentToken to a merchant's completion
// endpoint, the merchant confirms through @portone/server-sdk against the simulated gateway, and the verdict
// sets the gateway's truth (which payments were confirmed) against what the merchant told each buyer.

const API_SECRET = 'test-api-secret-mcload';

function rig(t: TestContext, flaw: CompletionFlaw, stock: number, gateway: { declineRate?: number } = {}): Promise<{ gateway: RunningGateway; merchant: CompletionMerchant }> {
  return startCompletionSale(t, { flaw, stock, apiSecret: API_SECRET, gateway });
}

function sale(gateway: RunningGateway, merchant: CompletionMerchant, extra: Partial<BurstOptions> = {}): BurstOptions {
  return {
    url: merchant.url,
    buyers: 60,
    stock: 10,
    flow: 'manual-confirm',
    gateway: gateway.url,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    settleMs: 500,
    // Latency is not what these tests judge; a machine busy with other suites must not fail them.
    p99BudgetMs: 30_000,
    ...extra,
  };
}

test('a correct manual-confirm merchant: exactly the stock confirmed, every buyer told the truth', async (t) => {
  const { gateway, merchant } = await rig(t, 'none', 10);
  const report = await runBurst(sale(gateway, merchant, { duplicates: 0.2 }));
  assert.equal(report.verdict.pass, true, report.verdict.summary);
  const mc = report.manualConfirm!;
  assert.equal(mc.confirmed, 10);
  assert.equal(mc.toldPaid, 10);
  assert.equal(mc.statuses.paid, 10);
  assert.equal(mc.statuses.ready, 50);
  assert.equal(mc.chargedRefused + mc.toldPaidUnconfirmed + mc.doubleConfirm, 0);
  assert.equal(mc.confirmsSucceeded, 10);
  assert.equal(report.config.flow, 'manual-confirm');
  assert.equal(report.config.dialect, 'v2-2024-04-25');
  assert.match(report.verdict.summary, /^PASS 10 confirmed of 10 in stock to 60 buyers/);
});

const FLAWS: Array<[CompletionFlaw, string, BurstOptions extends never ? never : Partial<BurstOptions>, number?]> = [
  ['confirm-first', 'charged-refused', {}],
  ['racy', 'oversell', {}],
  ['told-paid', 'told-paid-unconfirmed', {}, 0.3],
  ['no-release', 'leak', {}, 0.3],
  ['double-confirm', 'double-confirm', { duplicates: 0.5 }],
];

for (const [flaw, kind, extra, declineRate] of FLAWS) {
  test(`the ${flaw} flaw is caught as ${kind}`, async (t) => {
    const { gateway, merchant } = await rig(t, flaw, 10, declineRate === undefined ? {} : { declineRate });
    const report = await runBurst(sale(gateway, merchant, { ...extra, ...(declineRate === undefined ? {} : { declineRate }) }));
    assert.equal(report.verdict.pass, false);
    const kinds = report.verdict.problems.map((problem) => problem.kind);
    assert.ok(kinds.includes(kind as never), `${flaw}: expected ${kind} in ${report.verdict.summary}`);
    const problem = report.verdict.problems.find((entry) => entry.kind === kind)!;
    assert.ok(problem.count > 0);
  });
}

test('manual-confirm needs a gateway and a V2 sale; --body and --success-status need manual-confirm', async () => {
  const base = { url: 'http://127.0.0.1:9/payment/complete', buyers: 2, stock: 1 } as const;
  await assert.rejects(runBurst({ ...base, flow: 'manual-confirm' }), (error: unknown) => error instanceof UsageError && /^`flow` manual-confirm needs `gateway` <url>/.test(error.message));
  await assert.rejects(
    runBurst({ ...base, flow: 'manual-confirm', gateway: 'http://127.0.0.1:9', dialect: 'v1' }),
    (error: unknown) => error instanceof UsageError && /V2 `dialect`/.test(error.message),
  );
  await assert.rejects(runBurst({ ...base, body: '{}' }), (error: unknown) => error instanceof UsageError && /^`body` is for `flow` manual-confirm/.test(error.message));
  await assert.rejects(runBurst({ ...base, successStatus: '200' }), /`successStatus` is for `flow` manual-confirm/);
  await assert.rejects(
    runBurst({ ...base, flow: 'manual-confirm', gateway: 'http://127.0.0.1:9', body: '{"t":"{token}"}' }),
    /\{token\} is not a placeholder/,
  );
});

test('worker threads share the token table: a correct merchant passes with --workers 2 and --rate', async (t) => {
  const { gateway, merchant } = await rig(t, 'none', 10);
  // --rate judges fairness across the threads, on the one clock they share (manual-confirm-fairness.test.ts).
  const report = await runBurst(sale(gateway, merchant, { workers: 2, ratePerSec: 300, buyers: 40 }));
  assert.equal(report.verdict.pass, true, report.verdict.summary);
  assert.equal(report.manualConfirm!.confirmed, 10);
  assert.equal(report.manualConfirm!.confirmsSucceeded, 10);
});

test('--body shapes what each buyer posts and --success-status says which answer means paid', async (t) => {
  const { gateway, merchant } = await rig(t, 'none', 3);
  // The merchant answers 200; a success status of 201 only makes every buyer it charged a charged-refused one.
  const report = await runBurst(
    sale(gateway, merchant, {
      buyers: 6,
      stock: 3,
      body: '{"paymentToken":"{paymentToken}","paymentId":"{paymentId}","buyer":{n},"amount":{amount}}',
      successStatus: '201',
    }),
  );
  assert.equal(report.manualConfirm!.confirmed, 3, 'the body the template made was the merchant\'s to confirm');
  assert.equal(report.manualConfirm!.chargedRefused, 3);
  assert.equal(report.manualConfirm!.successStatus, '201');
  assert.deepEqual(report.verdict.problems.map((problem) => problem.kind), ['charged-refused']);
});
