import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMerchant, type RunningMerchant } from '../src/merchants/index.js';
import type { BurstReport } from '../src/load/index.js';
import { burstReportProblem } from '../src/load/report-file.js';
import { timelineBucketMs, MAX_TIMELINE_BUCKETS } from '../src/load/timeline.js';
import { runCli } from './helpers/cli.js';

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

test('a racy merchant\'s burst report carries a timeline that adds up and marks the stock-out', async (t) => {
  const shop = await racyMerchant(t, 50);
  const run = await runCli(['burst', shop.confirmUrl, '--reset-url', shop.resetUrl, '--buyers', '600', '--stock', '50', '--json', '-', '--quiet']);
  const report = JSON.parse(run.stdout) as BurstReport;
  assert.equal(run.code, 1, run.stderr);
  assert.equal(report.schemaVersion, 2);
  assert.equal(burstReportProblem(report), null);
  assert.equal(report.verdict.problems[0]?.kind, 'oversell');
  assertTimelineAddsUp(report);
  const marks = report.timeline.stockOut;
  assert.equal(marks.stock, 50);
  assert.equal(marks.resolutionMs, 0);
  // It oversold, so the 50th 200 came before the last one.
  assert.ok(marks.reachedAtMs !== null && marks.lastAcceptedAtMs !== null && marks.reachedAtMs < marks.lastAcceptedAtMs, JSON.stringify(marks));
  assert.ok(marks.lastAcceptedAtMs! <= report.timing.durationMs);
  const withAnswers = report.timeline.latencyMs.p99.filter((value) => value !== null);
  assert.ok(withAnswers.length > 0);
  assert.equal(report.timeline.shards, null);
  assert.equal(report.timeline.payments, null);
});

test('merge folds the shards\' timelines into one and keeps a line per shard', async (t) => {
  const shop = await racyMerchant(t, 40);
  const dir = await tempDir();
  const startAt = String(Date.now() + 1500);
  const common = ['--buyers', '300', '--stock', '40', '--run-id', 'htmlmerge', '--start-at', startAt, '--ramp', '300ms', '--quiet'];
  const shards = await Promise.all(
    [0, 1].map((index) => runCli(['burst', shop.confirmUrl, ...common, '--shard', `${index}/2`, '--json', join(dir, `shard-${index}.json`)])),
  );
  for (const shard of shards) assert.ok(shard.code === 0 || shard.code === 1, shard.stderr);
  const merged = await runCli(['merge', join(dir, 'shard-0.json'), join(dir, 'shard-1.json'), '--json', '-', '--quiet']);
  const report = JSON.parse(merged.stdout) as BurstReport;
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
});
