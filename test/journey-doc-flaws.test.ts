import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCheck, type CaseName, type CheckOptions } from '../src/contract/index.js';
import { runBurst, type BurstOptions } from '../src/load/index.js';
import type { DocFlaw, DocMerchantKind } from './helpers/doc-merchants/index.js';
import { docBurstOptions, docCheckOptions, startDocSale } from './helpers/doc-sale.js';

/**
 * Each mistake made on top of a documented handler, and what names it: a burst problem, or the check case
 * that fails (and only that one, so the message points at the mistake, not at collateral damage).
 */
interface FlawCase {
  kind: DocMerchantKind;
  flaw: DocFlaw;
  burst?: { options: Partial<BurstOptions>; problems: string[] };
  check?: { grep: RegExp; failed: CaseName[]; options?: Partial<CheckOptions> };
}

const TABLE: FlawCase[] = [
  // All buyers at once: every racy confirm reads the same stock and writes it back minus one.
  { kind: 'iamport', flaw: 'racy', burst: { options: { buyers: 200, stock: 20 }, problems: ['oversell', 'stock-mismatch'] }, check: { grep: /^(1|9) /, failed: ['first-come-burst'] } },
  { kind: 'portone-v2', flaw: 'racy', burst: { options: { buyers: 200, stock: 20 }, problems: ['oversell', 'stock-mismatch'] } },
  {
    kind: 'iamport',
    flaw: 'no-release',
    burst: { options: { buyers: 150, stock: 20, declineRate: 0.3, settleMs: 800 }, problems: ['leak'] },
    // A leak is only seen once the budget is spent: a short one keeps the test short.
    check: { grep: /^(1|10|13|14) /, failed: ['releases-stock-on-failure', 'releases-stock-on-decline'], options: { settleMs: 800, releaseBudgetMs: 800 } },
  },
  {
    kind: 'portone-v2',
    flaw: 'no-release',
    burst: { options: { buyers: 150, stock: 20, declineRate: 0.3, settleMs: 800 }, problems: ['leak'] },
    check: { grep: /^(1|10|13) /, failed: ['releases-stock-on-failure', 'releases-stock-on-decline'], options: { settleMs: 800, releaseBudgetMs: 800 } },
  },
  // Trusting the body sells as well as looking up does; only a forged or tampered confirm tells them apart.
  { kind: 'iamport-rest-client', flaw: 'trusting', burst: { options: { buyers: 150, stock: 20 }, problems: [] }, check: { grep: /^(1|11|12|13) /, failed: ['refuses-forged-confirm', 'refuses-tampered-amount'] } },
  { kind: 'portone-v2', flaw: 'trusting', check: { grep: /^(1|7|11|12) /, failed: ['refuses-forged-confirm', 'refuses-tampered-amount'] } },
];

for (const entry of TABLE) {
  const named = [entry.burst && `burst ${entry.burst.problems.join('+') || 'PASS'}`, entry.check && `check ${entry.check.failed.join(', ')}`].filter(Boolean).join('; ');
  test(`doc-written ${entry.kind} merchant with flaw ${entry.flaw} → ${named}`, async (t) => {
    const sale = await startDocSale(t, entry.kind);
    if (entry.burst) {
      const flawed = await startDocSale(t, entry.kind, { flaw: entry.flaw });
      const report = await runBurst(docBurstOptions(flawed, entry.burst.options));
      const kinds = report.verdict.problems.map((problem) => problem.kind);
      assert.deepEqual(kinds, entry.burst.problems, `${report.verdict.summary}\n${JSON.stringify(report.payments)}`);
      if (entry.flaw === 'no-release') {
        assert.equal(report.verdict.problems[0]!.count, report.payments!.declined, 'every declined unit is the leak');
      }
    }
    if (entry.check) {
      const flawed = await startDocSale(t, entry.kind, { flaw: entry.flaw });
      const result = await runCheck(docCheckOptions(flawed, { grep: entry.check.grep, ...entry.check.options }));
      const failed = result.cases.filter((c) => c.status === 'failed').map((c) => c.name);
      assert.deepEqual(failed, entry.check.failed, result.cases.map((c) => `${c.id} ${c.status}: ${c.message}`).join('\n'));
    }
    // The same merchant without the flaw passes the same runs: the flaw is what was caught.
    if (entry.check) {
      const result = await runCheck(docCheckOptions(sale, { grep: entry.check.grep }));
      assert.equal(result.ok, true, result.cases.map((c) => `${c.id} ${c.status}: ${c.message}`).join('\n'));
    }
  });
}
