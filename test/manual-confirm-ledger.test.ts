import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBurst, type BurstOptions, type BurstReport, type LedgerEntry } from '../src/index.js';
import { startGateway } from '../src/gateway/index.js';
import { startCompletionMerchant, type CompletionFlaw } from './helpers/completion-merchant.js';

// burst --flow manual-confirm --ledger: every line says what the buyer was told and what the gateway holds for
// its payment after --settle, so a finding in the verdict can be traced to the buyers it names.

const API_SECRET = 'test-api-secret-mcflow';

async function ledgerRun(t: TestContext, flaw: CompletionFlaw, extra: Partial<BurstOptions> = {}): Promise<{ report: BurstReport; entries: LedgerEntry[] }> {
  const gateway = await startGateway({ port: 0, apiSecret: API_SECRET });
  const merchant = await startCompletionMerchant({ gateway: gateway.url, apiSecret: API_SECRET, stock: 5, flaw });
  t.after(async () => {
    await merchant.close();
    await gateway.close();
  });
  const ledgerPath = join(await mkdtemp(join(tmpdir(), 'mcflow-ledger-')), 'sale.ndjson');
  const report = await runBurst({
    url: merchant.url,
    buyers: 20,
    stock: 5,
    flow: 'manual-confirm',
    gateway: gateway.url,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    settleMs: 300,
    p99BudgetMs: 30_000,
    ledgerPath,
    ...extra,
  });
  const entries = (await readFile(ledgerPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as LedgerEntry);
  return { report, entries };
}

test('a correct merchant: every buyer told paid holds a paid payment, every other one a ready payment', async (t) => {
  const { report, entries } = await ledgerRun(t, 'none', { duplicates: 0.2, workers: 2 });
  assert.equal(report.verdict.pass, true, report.verdict.summary);
  assert.equal(entries.length, report.counts.requests);
  const originals = entries.filter((entry) => !entry.duplicate);
  assert.equal(originals.length, 20);
  assert.equal(originals.filter((entry) => entry.payment === 'paid').length, 5);
  for (const entry of entries) {
    assert.deepEqual(entry.findings, [], JSON.stringify(entry));
    // The merchant's answer fails nothing at the gateway in this flow, so no line invents a fail reason.
    assert.equal(entry.failReason, null);
    assert.ok(entry.payment === 'paid' || entry.payment === 'ready', JSON.stringify(entry));
  }
  // A duplicate's line carries its buyer's payment.
  for (const duplicate of entries.filter((entry) => entry.duplicate)) {
    assert.equal(duplicate.payment, originals.find((entry) => entry.buyer === duplicate.buyer)!.payment);
  }
});

test('confirm-first: the ledger names each charged-refused buyer, told 409 while its payment is paid', async (t) => {
  const { report, entries } = await ledgerRun(t, 'confirm-first');
  const chargedRefused = entries.filter((entry) => entry.findings!.includes('charged-refused'));
  assert.equal(chargedRefused.length, report.manualConfirm!.chargedRefused);
  assert.ok(chargedRefused.length > 0, report.verdict.summary);
  for (const entry of chargedRefused) {
    assert.equal(entry.payment, 'paid');
    assert.equal(entry.outcome, 'refused');
    assert.notEqual(entry.status, 200);
  }
  assert.equal(entries.filter((entry) => entry.payment === 'paid').length, report.manualConfirm!.confirmed);
});
