import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SaleTimelineRecorder } from '../src/gateway/runs.js';
import type { BurstReport } from '../src/load/index.js';
import { burstReportProblem } from '../src/load/report-file.js';
import { paymentsTimeline } from '../src/load/timeline.js';
import { runCli } from './helpers/cli.js';
import { startSale } from './helpers/journey-sale.js';
import { assertChartsDrew, browser, openPage } from './helpers/html-page.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

function sum(values: Array<number | null>): number {
  return values.reduce<number>((total, value) => total + (value ?? 0), 0);
}

test('the gateway counts a sale in buckets that widen instead of growing, keeping every count', () => {
  const recorder = new SaleTimelineRecorder(10);
  const origin = 1_700_000_000_000;
  recorder.add('paid', origin);
  recorder.add('paid', origin + 9);
  assert.deepEqual(recorder.snapshot(), { originMs: origin, bucketMs: 1, paid: [1, 0, 0, 0, 0, 0, 0, 0, 0, 1], declined: [], webhookAttempts: [], webhookFailures: [] });
  // 10 buckets of 1 ms cannot hold 10 ms: they fold into 5 ms ones, then 10 ms, then 50 ms.
  recorder.add('declined', origin + 10);
  assert.deepEqual(recorder.snapshot()?.bucketMs, 5);
  assert.deepEqual(recorder.snapshot()?.paid, [1, 1]);
  recorder.add('webhookAttempts', origin + 420);
  const wide = recorder.snapshot()!;
  assert.equal(wide.bucketMs, 50);
  assert.deepEqual(wide.paid, [2]);
  assert.deepEqual(wide.declined, [1]);
  assert.deepEqual(wide.webhookAttempts, [0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(new SaleTimelineRecorder().snapshot(), undefined, 'nothing to show before the first change');
});

test('the gateway\'s buckets land on the run\'s clock, and the probe\'s readings become stock held and released', () => {
  const runStartedAt = 1_700_000_000_000;
  const timeline = paymentsTimeline({
    sale: { originMs: runStartedAt + 30, bucketMs: 10, paid: [3, 0, 2], declined: [1], webhookAttempts: [0, 4, 0, 0, 0, 0, 0, 1], webhookFailures: [] },
    runStartedAt,
    settleStartedAt: runStartedAt + 100,
    settle: { budgetMs: 500, waitedMs: 150, restoredAfterMs: 120, samples: [{ atMs: 0, stock: 4 }, { atMs: 60, stock: 4 }, { atMs: 120, stock: 5 }] },
    stockBefore: 10,
    paid: 5,
  });
  assert.equal(timeline.bucketMs, 10, 'never narrower than the gateway counted');
  assert.equal(timeline.buckets, 25, 'through the end of the settle');
  assert.equal(timeline.settleStartMs, 100);
  assert.equal(timeline.resolutionMs, 10);
  assert.equal(timeline.paid[3], 3);
  assert.equal(timeline.paid[5], 2);
  assert.equal(timeline.declined[3], 1);
  assert.equal(timeline.webhooksSent[4], 4);
  assert.equal(timeline.webhooksSent[10], 1);
  assert.equal(sum(timeline.paid), 5);
  const held = timeline.stockHeld!;
  assert.equal(held[0], 0);
  assert.equal(held[10], 1, '10 at the start − 4 left − 5 paid: one unit held for the declined payment');
  assert.equal(held[16], 1);
  assert.equal(held[22], 0, 'back once the probe saw it');
  assert.equal(held.filter((value) => value !== null).length, 4);
  assert.equal(timeline.stockReleased![22], 1);
  assert.equal(sum(timeline.stockReleased!), 1);

  const noProbe = paymentsTimeline({ sale: undefined, runStartedAt, settleStartedAt: runStartedAt + 40, settle: { budgetMs: 0, waitedMs: 0, restoredAfterMs: null, samples: [] }, stockBefore: null, paid: 0 });
  assert.equal(noProbe.stockHeld, null);
  assert.equal(noProbe.stockReleased, null);
  assert.equal(noProbe.resolutionMs, 0);
  assert.equal(noProbe.buckets, 40);
});

test('burst --gateway --html: paid, declined, webhooks and stock held then released, drawn from the report', async (t) => {
  const context = await browser(t);
  // V1 sends no webhook for a decline: the merchant gives a declined unit back when its hold lapses, during the
  // settle. The hold outlasts the paid webhooks even on a busy machine, and every buyer arrives before it ends.
  const sale = await startSale(t, { holdMs: 3_000 });
  const dir = await mkdtemp(join(tmpdir(), 'confirm-sim-html-gateway-'));
  const files = { json: join(dir, 'sale.json'), html: join(dir, 'sale.html') };
  const run = await runCli([
    'burst', sale.shop.confirmUrl, '--buyers', '150', '--stock', '20', '--reset-url', sale.shop.resetUrl, '--stock-url', sale.shop.stockUrl,
    '--gateway', sale.gateway.url, '--notice-url', sale.shop.webhookUrl, '--decline-rate', '25%', '--settle', '10s', '--run-id', 'html-gateway',
    '--p99-budget', '5s', '--json', files.json, '--html', files.html, '--quiet',
  ]);
  assert.ok(run.code === 0 || run.code === 1, run.stdout + run.stderr);
  const report = JSON.parse(await readFile(files.json, 'utf8')) as BurstReport;
  assert.equal(burstReportProblem(report), null, 'the report keeps to its schema');
  const payments = report.payments!;
  const series = report.timeline.payments!;
  assert.ok(payments.declined > 0, 'some charges were declined');
  assert.equal(sum(series.paid), payments.paid);
  assert.equal(sum(series.declined), payments.declined);
  assert.equal(sum(series.webhooksSent), payments.webhooks.sent + payments.webhooks.retried, 'every attempt, first tries and retries');
  for (const values of [series.paid, series.declined, series.webhooksSent, series.webhooksFailed, series.stockHeld!, series.stockReleased!]) {
    assert.equal(values.length, series.buckets);
  }
  assert.ok(series.buckets * series.bucketMs >= series.settleStartMs + payments.settle.waitedMs, 'the series run through the settle');
  // Held = stock at the start − stock probed − paid, at each reading; the last one is the probe after the settle.
  const readings = series.stockHeld!.filter((value): value is number => value !== null);
  assert.equal(readings.at(-1), report.stock.probe!.before - report.stock.probe!.after - payments.paid, JSON.stringify(series.stockHeld));
  assert.ok(Math.max(...readings) > 0, 'units were held for declined payments when the settle began');
  const samples = payments.settle.samples;
  assert.ok(sum(series.stockReleased!) >= samples.at(-1)!.stock - samples[0]!.stock, 'what came back during the settle');
  assert.ok(sum(series.stockReleased!) > 0);

  await mkdir(ARTIFACTS, { recursive: true });
  const page = await openPage(context, files.html, join(ARTIFACTS, 'html-gateway.png'));
  assertChartsDrew(page, ['sale', 'latency', 'distribution', 'answers', 'payments', 'settle']);
  assert.match(page.text, /Payments at the gateway/);
});
