import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMerchant, type RunningMerchant } from '../src/merchants/index.js';
import type { BurstReport } from '../src/load/index.js';
import { burstReportProblem } from '../src/load/report-file.js';
import { timelineBucketMs, MAX_TIMELINE_BUCKETS } from '../src/load/timeline.js';
import { renderHtmlReport } from '../src/index.js';
import { runCli } from './helpers/cli.js';
import { assertChartsDrew, browser, openPage } from './helpers/html-page.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(REPO, 'test-artifacts');
/** The README's screenshot; rewritten only on request (`npm run screenshot`), so a test run does not dirty the work tree. */
const README_SCREENSHOT = join(REPO, 'docs', 'images', 'html-report.png');
/** A page for a million buyers holds buckets, not buyers: it must stay this small whatever the run. */
const MAX_PAGE_BYTES = 400 * 1024;

async function racyMerchant(t: TestContext, stock: number): Promise<RunningMerchant> {
  const shop = await startMerchant({ openOrders: true, stock, flaw: 'race' });
  t.after(() => shop.close());
  return shop;
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'confirm-sim-html-'));
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function seriesSums(series: Record<string, number[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(series).map(([key, values]) => [key, sum(values)]));
}

/** Every per-bucket series adds up to the report's own totals, and every array is one entry per bucket. */
function assertTimelineAddsUp(report: BurstReport): void {
  const { timeline } = report;
  assert.ok(timeline.buckets >= 1 && timeline.buckets <= MAX_TIMELINE_BUCKETS, `${timeline.buckets} buckets`);
  for (const series of [timeline.sent, timeline.accepted, timeline.refused, timeline.timeouts, timeline.errors, timeline.latencyMs.p99, timeline.latencyMs.hdr]) {
    assert.equal(series.length, timeline.buckets);
  }
  assert.equal(sum(timeline.sent), report.counts.sent);
  assert.deepEqual(seriesSums(timeline.statusCodes), report.statusCodes);
  assert.deepEqual(seriesSums(timeline.errorKinds), report.errorKinds);
  assert.equal(sum(timeline.accepted), report.statusCodes['200'] ?? 0);
  assert.equal(sum(timeline.accepted) + sum(timeline.refused), sum(Object.values(report.statusCodes)));
  assert.equal(sum(timeline.timeouts), report.errorKinds.timeout ?? 0);
}

test('bucket widths keep any run within a few hundred buckets, each width a multiple of the one before', () => {
  assert.equal(timelineBucketMs(40), 1);
  assert.equal(timelineBucketMs(300), 1);
  assert.equal(timelineBucketMs(301), 5);
  assert.equal(timelineBucketMs(2_000), 10);
  assert.equal(timelineBucketMs(200_000), 1000);
  for (const duration of [1, 299, 1_500, 15_001, 3_600_000]) {
    const width = timelineBucketMs(duration);
    assert.ok(Math.ceil(duration / width) <= MAX_TIMELINE_BUCKETS, `${duration} ms in ${width} ms buckets`);
    assert.equal(timelineBucketMs(duration * 7) % width, 0);
  }
});

test('a racy merchant\'s sale, drawn: burst --html, report from --json and from --ledger, all in headless Chromium', async (t) => {
  const context = await browser(t);
  const shop = await racyMerchant(t, 60);
  const dir = await tempDir();
  const files = { json: join(dir, 'sale.json'), html: join(dir, 'sale.html'), ledger: join(dir, 'run.ndjson') };
  const run = await runCli([
    'burst', shop.confirmUrl, '--reset-url', shop.resetUrl, '--stock-url', shop.stockUrl, '--buyers', '800', '--stock', '60',
    '--json', files.json, '--html', files.html, '--ledger', files.ledger, '--quiet',
  ]);
  assert.equal(run.code, 1, run.stderr);
  const report = JSON.parse(await readFile(files.json, 'utf8')) as BurstReport;
  assert.equal(report.verdict.problems[0]?.kind, 'oversell');
  assert.equal(report.schemaVersion, 2);
  assert.equal(burstReportProblem(report), null);
  assertTimelineAddsUp(report);
  const marks = report.timeline.stockOut;
  assert.equal(marks.stock, 60);
  assert.equal(marks.resolutionMs, 0);
  // It oversold, so the 60th 200 came before the last one.
  assert.ok(marks.reachedAtMs !== null && marks.lastAcceptedAtMs !== null && marks.reachedAtMs < marks.lastAcceptedAtMs, JSON.stringify(marks));
  assert.ok(marks.lastAcceptedAtMs! <= report.timing.durationMs);
  assert.equal(report.timeline.shards, null);

  await mkdir(ARTIFACTS, { recursive: true });
  const screenshot = join(ARTIFACTS, 'html-report.png');
  const burstPage = await openPage(context, files.html, screenshot);
  assertChartsDrew(burstPage, ['sale', 'latency', 'distribution', 'answers']);
  assert.equal(burstPage.model.pass, false);
  assert.match(burstPage.text, /FAIL/);
  assert.match(burstPage.text, new RegExp(`oversell\\s*${report.verdict.problems[0]!.count.toLocaleString('en-US')}`));
  assert.ok(burstPage.text.includes(report.verdict.problems[0]!.examples[0]!), 'the problem\'s examples are on the page');
  assert.ok((await stat(screenshot)).size > 20_000, 'a screenshot was taken');
  if (process.env.CONFIRM_SIM_UPDATE_SCREENSHOT === '1') await writeFile(README_SCREENSHOT, await readFile(screenshot));
  assert.ok((await readFile(join(REPO, 'README.md'), 'utf8')).includes('](docs/images/html-report.png)'), 'README shows the committed screenshot');
  assert.ok((await stat(README_SCREENSHOT)).size > 20_000, 'the committed screenshot is there');

  const fromJson = join(dir, 'again.html');
  const again = await runCli(['report', files.json, '--html', fromJson]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^wrote .*again\.html \(\d+ KB\): FAIL oversell/);
  assert.equal(await readFile(fromJson, 'utf8'), await readFile(files.html, 'utf8'), 'the saved report draws the same page');

  const fromLedger = join(dir, 'ledger.html');
  const ledgerRun = await runCli(['report', files.ledger, '--stock', '60', '--html', fromLedger]);
  assert.equal(ledgerRun.code, 0, ledgerRun.stderr);
  assert.match(ledgerRun.stdout, /800 requests from the ledger/);
  const ledgerPage = await openPage(context, fromLedger);
  assertChartsDrew(ledgerPage, ['sale', 'latency', 'distribution', 'answers']);
  assert.equal(ledgerPage.model.pass, null);
  const ledgerSale = ledgerPage.model.charts[0]!;
  const burstSale = burstPage.model.charts[0]!;
  // The ledger's requests tell the same story: the same 200s over time.
  assert.deepEqual(ledgerSale.series[0]!.values.at(-1), burstSale.series[0]!.values.at(-1));
  for (const page of [fromJson, fromLedger]) assert.ok((await stat(page)).size < MAX_PAGE_BYTES);
});

test('merge folds the shards\' timelines into one, and its page draws a line per shard', async (t) => {
  const context = await browser(t);
  const shop = await racyMerchant(t, 30);
  const dir = await tempDir();
  const common = ['--buyers', '200', '--stock', '30', '--run-id', 'htmlshards', '--start-at', String(Date.now() + 1500), '--ramp', '200ms', '--quiet'];
  const shards = await Promise.all(
    [0, 1].map((index) => runCli(['burst', shop.confirmUrl, ...common, '--shard', `${index}/2`, '--json', join(dir, `shard-${index}.json`)])),
  );
  for (const shard of shards) assert.ok(shard.code === 0 || shard.code === 1, shard.stderr);
  const merged = join(dir, 'merged.json');
  const mergeRun = await runCli(['merge', join(dir, 'shard-0.json'), join(dir, 'shard-1.json'), '--json', merged, '--html', join(dir, 'merged.html'), '--quiet']);
  assert.ok(mergeRun.code === 0 || mergeRun.code === 1, mergeRun.stderr);
  const report = JSON.parse(await readFile(merged, 'utf8')) as BurstReport;
  assert.equal(burstReportProblem(report), null);
  assertTimelineAddsUp(report);
  const parts = await Promise.all([0, 1].map(async (index) => JSON.parse(await readFile(join(dir, `shard-${index}.json`), 'utf8')) as BurstReport));
  assert.deepEqual(report.timeline.shards?.map((line) => line.shard), [0, 1]);
  report.timeline.shards!.forEach((line, index) => {
    assert.equal(line.accepted.length, report.timeline.buckets);
    assert.equal(sum(line.accepted), sum(parts[index]!.timeline.accepted));
    assert.equal(sum(line.refused), sum(parts[index]!.timeline.refused));
  });
  assert.equal(report.timeline.stockOut.resolutionMs, report.timeline.bucketMs);
  assert.equal(report.timeline.bucketMs % parts[0]!.timeline.bucketMs, 0);
  const fromMerged = join(dir, 'from-merged.html');
  assert.equal((await runCli(['report', merged, '--html', fromMerged])).code, 0);
  assert.equal(await readFile(fromMerged, 'utf8'), await readFile(join(dir, 'merged.html'), 'utf8'));
  const page = await openPage(context, fromMerged);
  assertChartsDrew(page, ['sale', 'latency', 'distribution', 'answers', 'shards', 'shard-latency']);
  assert.deepEqual(page.model.charts.find((chart) => chart.id === 'shards')!.series.map((series) => series.label).slice(0, 2), ['shard 0', 'shard 1']);
});

test('report refuses what is not a report in one line, exit 2', async () => {
  const dir = await tempDir();
  const cases: Array<[string, string, RegExp]> = [
    ['missing.json', '', /missing\.json: cannot be read \(ENOENT\)/],
    ['garbage.json', 'hello', /garbage\.json: is not JSON/],
    ['other.json', '{"hello": 1}', /other\.json: is not a burst report/],
    ['old.json', '{"kind": "confirm-sim.burst", "schemaVersion": 1}', /old\.json: is a burst report of schemaVersion 1; this confirm-sim reads 2/],
    ['bad.ndjson', '{"buyer": 1, "outcome": "accepted", "intendedMs": 0, "sentMs": 0, "status": 200, "latencyMs": 1}\n{"buyer": 2, "outcome": "sold"}\n', /bad\.ndjson:2: is not a ledger line/],
  ];
  for (const [name, content, message] of cases) {
    const path = join(dir, name);
    if (content !== '') await writeFile(path, content);
    const run = await runCli(['report', path, '--html', join(dir, 'out.html')]);
    assert.equal(run.code, 2, name);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, `${name}: one line`);
  }
  const noOutput = await runCli(['report', join(dir, 'old.json')]);
  assert.equal(noOutput.code, 2);
  assert.match(noOutput.stderr, /--html FILE/);
});

test('the library renders a page from a report object, with credentials in the target masked', async (t) => {
  const shop = await racyMerchant(t, 5);
  const run = await runCli(['burst', shop.confirmUrl, '--buyers', '40', '--stock', '5', '--json', '-', '--quiet']);
  const report = JSON.parse(run.stdout) as BurstReport;
  const page = renderHtmlReport({ ...report, target: 'http://shop:hunter2@127.0.0.1:1/confirm?api_key=abc123&x=1' });
  assert.ok(!page.includes('hunter2') && !page.includes('abc123'));
  assert.ok(page.includes('http://shop:****@127.0.0.1:1/confirm?api_key=****'));
  assert.doesNotMatch(page, /<script[^>]+src=|<link[^>]+href="http|@import|url\(http/i, 'nothing is fetched');
});
