import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { runCheck, type CheckResult } from '../src/index.js';
import { UsageError } from '../src/util/errors.js';
import { renderJunit } from '../src/reporters/junit.js';
import { startCompletionSale, type CompletionFlaw } from './helpers/completion-merchant.js';

// check --flow manual-confirm over real sockets: cases 15-20 against a completion endpoint that confirms through
// @portone/server-sdk; the correct one keeps the contract, each flaw breaks the case written for it.

const API_SECRET = 'test-api-secret-mcload-check';

async function checkMerchant(t: TestContext, flaw: CompletionFlaw, grep?: RegExp): Promise<CheckResult> {
  const { gateway, merchant } = await startCompletionSale(t, { flaw, stock: 20, apiSecret: API_SECRET });
  return runCheck({
    url: merchant.url,
    flow: 'manual-confirm',
    gateway: gateway.url,
    orderUrl: merchant.orderUrl,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    settleMs: 300,
    ...(grep ? { grep } : {}),
  });
}


test('a correct completion endpoint keeps the manual-confirm contract: cases 15-20 pass', async (t) => {
  const result = await checkMerchant(t, 'none');
  assert.deepEqual(
    result.cases.map((entry) => `${entry.id} ${entry.name} ${entry.status}`),
    [
      '15 completes-known-order passed',
      '16 sold-out-confirms-nothing passed',
      '17 tampered-amount-not-confirmed passed',
      '18 replayed-token-confirms-once passed',
      '19 decline-gives-stock-back passed',
      '20 burst-confirms-stock passed',
    ],
    JSON.stringify(result.cases.map((entry) => entry.message), null, 1),
  );
  assert.equal(result.ok, true);
  assert.equal(result.flow, 'manual-confirm');
  const junit = renderJunit(result);
  assert.match(junit, /tampered-amount-not-confirmed/);
});

const CAUGHT: Array<[CompletionFlaw, string, RegExp]> = [
  ['confirm-first', 'sold-out-confirms-nothing', /charged for an item that is gone/],
  ['told-paid', 'decline-gives-stock-back', /told paid for nothing/],
  ['told-paid', 'tampered-amount-not-confirmed', /told paid for an order it never confirmed/],
  ['no-release', 'decline-gives-stock-back', /never given back/],
  ['double-confirm', 'replayed-token-confirms-once', /the payment is cancelled/],
  ['racy', 'burst-confirms-stock', /oversell/],
];

for (const [flaw, name, message] of CAUGHT) {
  test(`the ${flaw} flaw fails ${name}`, async (t) => {
    const result = await checkMerchant(t, flaw, new RegExp(name));
    const entry = result.cases.find((candidate) => candidate.name === name)!;
    assert.equal(entry.status, 'failed', entry.message);
    assert.match(entry.message, message);
    assert.equal(result.ok, false);
  });
}

test('check --flow manual-confirm needs a gateway; --body needs the flow; --grep matches its own cases', async () => {
  await assert.rejects(runCheck({ url: 'http://127.0.0.1:9/payment/complete', flow: 'manual-confirm' }), (error: unknown) => error instanceof UsageError && /^`flow` manual-confirm needs `gateway` <url>/.test(error.message));
  await assert.rejects(runCheck({ url: 'http://127.0.0.1:9/confirm', body: '{}' }), /`body` is for `flow` manual-confirm/);
  await assert.rejects(
    runCheck({ url: 'http://127.0.0.1:9/payment/complete', flow: 'manual-confirm', gateway: 'http://127.0.0.1:9', grep: /first-come-burst/ }),
    /matches no case; the cases are 15 completes-known-order/,
  );
});
