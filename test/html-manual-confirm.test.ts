import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBurst, renderHtmlReport, type BurstReport } from '../src/index.js';
import { burstReportProblem } from '../src/load/report-file.js';
import { startGateway, type RunningGateway } from '../src/gateway/index.js';
import { startMerchant, type Flaw, type RunningMerchant } from '../src/merchants/index.js';
import type { PageModel, TruthRow } from '../src/reporters/html/index.js';
import { runCli } from './helpers/cli.js';
import { assertChartsDrew, browser, openPage } from './helpers/html-page.js';

// The HTML page of a manual-confirm burst: the merchant charges each buyer itself, so the page must show what
// the gateway holds (confirmed against stock, declines, the findings with examples), not the buyers' 200s alone.

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

async function rig(t: TestContext, flaw?: Flaw): Promise<{ gateway: RunningGateway; shop: RunningMerchant }> {
  const gateway = await startGateway({ port: 0 });
  const shop = await startMerchant({ flow: 'manual-confirm', gateway: { url: gateway.url }, openOrders: true, stock: 10, ...(flaw ? { flaw } : {}) });
  t.after(async () => {
    await shop.close();
    await gateway.close();
  });
  return { gateway, shop };
}

function row(model: PageModel, label: string): TruthRow {
  const found = model.truth?.rows.find((entry) => entry.label === label);
  assert.ok(found, `the truth table has a "${label}" row: ${JSON.stringify(model.truth)}`);
  return found;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

test('burst --flow manual-confirm --html, and report from its --json and --ledger: confirmed against stock, declines and findings, in Chromium', async (t) => {
  const context = await browser(t);
  const { gateway, shop } = await rig(t, 'confirm-first');
  const dir = await mkdtemp(join(tmpdir(), 'confirm-sim-html-mc-'));
  const files = { json: join(dir, 'sale.json'), html: join(dir, 'sale.html'), ledger: join(dir, 'sale.ndjson'), fromJson: join(dir, 'from-json.html'), fromLedger: join(dir, 'from-ledger.html') };
  const run = await runCli([
    'burst', shop.confirmUrl, '--flow', 'manual-confirm', '--gateway', gateway.url, '--buyers', '120', '--stock', '10',
    '--reset-url', shop.resetUrl, '--stock-url', shop.stockUrl, '--decline-rate', '20%', '--settle', '500ms', '--p99-budget', '10s',
    '--json', files.json, '--html', files.html, '--ledger', files.ledger, '--quiet',
  ]);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const report = JSON.parse(await readFile(files.json, 'utf8')) as BurstReport;
  assert.equal(burstReportProblem(report), null);
  const mc = report.manualConfirm!;
  assert.ok(mc.confirmed > 10 && mc.chargedRefused > 0 && mc.statuses.failed > 0, JSON.stringify(mc));

  await mkdir(ARTIFACTS, { recursive: true });
  const page = await openPage(context, files.html, join(ARTIFACTS, 'html-manual-confirm.png'));
  assertChartsDrew(page, ['sale', 'confirmed', 'settle', 'latency', 'distribution', 'answers']);
  const { model } = page;
  assert.match(model.title, /^FAIL · confirm-sim burst --flow manual-confirm · 120 buyers for 10 in stock$/);
  assert.deepEqual(row(model, 'confirmed (PAID)'), { label: 'confirmed (PAID)', value: `${mc.confirmed} of 10 in stock`, bad: true, examples: mc.examples.confirmed });
  assert.equal(row(model, 'told paid').value, `${mc.toldPaid} (2xx in time)`);
  assert.deepEqual(row(model, 'declined by the PG'), { label: 'declined by the PG', value: `${mc.statuses.failed} (PG_PROVIDER)`, bad: null, examples: mc.examples.declined });
  const chargedRefused = row(model, 'charged-refused');
  assert.equal(chargedRefused.bad, true);
  assert.match(chargedRefused.value, new RegExp(`^${mc.chargedRefused} · told no, yet charged`));
  assert.deepEqual(chargedRefused.examples, mc.examples.chargedRefused);
  assert.equal(row(model, 'oversell').value.split(' ')[0], String(mc.confirmed - 10));
  for (const clear of ['told-paid-unconfirmed', 'double-confirm', 'undersell']) assert.equal(row(model, clear).bad, false, clear);
  assert.match(row(model, 'confirm calls').value, new RegExp(`^${mc.confirmCalls}: ${mc.confirmsSucceeded} succeeded, refused PG_PROVIDER ×${mc.confirmsRefused.PG_PROVIDER}$`));
  // The confirmed line ends where the gateway's count does; it is drawn above the stock line.
  const confirmed = model.charts.find((chart) => chart.id === 'confirmed')!;
  assert.equal(confirmed.series[0]!.values.at(-1), mc.confirmed);
  assert.equal(sum(report.timeline.payments!.declined), mc.statuses.failed);
  assert.equal(model.charts[0]!.series[0]!.label, 'told paid so far');
  assert.match(page.text, /Manual confirm: what the gateway holds/);
  assert.match(page.text, new RegExp(`charged-refused${mc.chargedRefused} · told no`));
  // The settle chart draws no "expected" stock below zero: no stock level explains more confirmed than stock.
  const settle = model.charts.find((chart) => chart.id === 'settle')!;
  assert.deepEqual(settle.series.map((series) => series.label), ['stock the merchant reported']);
  assert.match(settle.caption, new RegExp(`no stock level accounts for ${mc.confirmed} confirmed payments`));

  const fromJson = await runCli(['report', files.json, '--html', files.fromJson]);
  assert.equal(fromJson.code, 0, fromJson.stderr);
  assert.deepEqual((await openPage(context, files.fromJson)).model.truth, model.truth, 'the saved report draws the same truth');

  const fromLedger = await runCli(['report', files.ledger, '--stock', '10', '--html', files.fromLedger]);
  assert.equal(fromLedger.code, 0, fromLedger.stderr);
  const ledgerPage = await openPage(context, files.fromLedger, join(ARTIFACTS, 'html-manual-confirm-ledger.png'));
  assertChartsDrew(ledgerPage, ['sale', 'latency', 'distribution', 'answers']);
  const ledger = ledgerPage.model;
  assert.equal(ledger.pass, null);
  assert.match(ledger.summary, new RegExp(`^${mc.confirmed} payments confirmed for 10 in stock \\(more than the stock\\), ${mc.toldPaid} buyers told paid;`));
  assert.equal(row(ledger, 'confirmed (PAID)').value, `${mc.confirmed} of 10 in stock`);
  assert.equal(row(ledger, 'declined by the PG').value, `${mc.statuses.failed} (PG_PROVIDER)`);
  assert.equal(row(ledger, 'never confirmed').value, `${mc.statuses.ready} (READY)`);
  assert.equal(row(ledger, 'oversell').value.split(' ')[0], String(mc.confirmed - 10));
  const ledgerRefused = row(ledger, 'charged-refused');
  assert.equal(ledgerRefused.value.split(' ')[0], String(mc.chargedRefused), 'the ledger\'s findings add up to the report\'s');
  assert.equal(ledgerRefused.bad, true);
  const lines = (await readFile(files.ledger, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { merchant_uid: string; findings: string[] });
  for (const uid of ledgerRefused.examples) {
    assert.ok(lines.some((line) => line.merchant_uid === uid && line.findings.includes('charged-refused')), `${uid} is a charged-refused buyer in the ledger`);
  }
});

test('the page of a correct manual-confirm merchant\'s sale: every finding clear, confirmed within the stock', async (t) => {
  const { gateway, shop } = await rig(t);
  const report = await runBurst({
    url: shop.confirmUrl,
    flow: 'manual-confirm',
    gateway: gateway.url,
    buyers: 40,
    stock: 10,
    resetUrl: shop.resetUrl,
    stockUrl: shop.stockUrl,
    settleMs: 300,
    p99BudgetMs: 30_000,
  });
  assert.equal(report.verdict.pass, true, report.verdict.summary);
  const html = renderHtmlReport(report);
  const model = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!) as PageModel;
  assert.deepEqual(row(model, 'confirmed (PAID)'), { label: 'confirmed (PAID)', value: '10 of 10 in stock', bad: false, examples: report.manualConfirm!.examples.confirmed });
  for (const finding of ['oversell', 'undersell', 'charged-refused', 'told-paid-unconfirmed', 'double-confirm', 'charged-unanswered']) {
    assert.deepEqual([row(model, finding).bad, row(model, finding).examples], [false, []], finding);
  }
  assert.equal(model.charts.find((chart) => chart.id === 'settle')?.series[1]?.label, 'expected when all is released (0)');
  assert.ok(!model.charts.some((chart) => chart.id === 'payments'), 'the Confirm Process payments chart is not drawn for manual confirm');
});
