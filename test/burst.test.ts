import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMerchant, type MerchantOptions, type RunningMerchant } from '../src/merchants/index.js';
import type { BurstReport } from '../src/load/index.js';
import { burstReportProblem } from '../src/load/report-file.js';
import { runCli, spawnCli, type CliRun } from './helpers/cli.js';

async function merchant(t: TestContext, options: MerchantOptions): Promise<RunningMerchant> {
  const running = await startMerchant({ openOrders: true, ...options });
  t.after(() => running.close());
  return running;
}

/** A confirm endpoint that never answers. */
async function hangingServer(t: TestContext): Promise<{ url: string; firstRequest: Promise<void> }> {
  let sawRequest: () => void = () => {};
  const firstRequest = new Promise<void>((resolve) => (sawRequest = resolve));
  const hang = createServer(() => sawRequest());
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    hang.closeAllConnections();
    return new Promise<void>((resolve) => hang.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(hang.address() as AddressInfo).port}/confirm`, firstRequest };
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'confirm-sim-burst-'));
}

/** A burst against a sample merchant, reset to its stock first and probed before and after. */
function burstArgs(shop: RunningMerchant, ...extra: string[]): string[] {
  return [
    'burst',
    shop.confirmUrl,
    '--reset-url',
    shop.resetUrl,
    '--stock-url',
    shop.stockUrl,
    '--json',
    '-',
    '--quiet',
    ...extra,
  ];
}

function reportOf(run: CliRun): BurstReport {
  return JSON.parse(run.stdout) as BurstReport;
}

function problemKinds(report: BurstReport): string[] {
  return report.verdict.problems.map((problem) => problem.kind);
}

test('the correct sample merchant passes 2,000 buyers for 100 in stock twenty times in a row', async (t) => {
  const shop = await merchant(t, { stock: 100 });
  for (let round = 1; round <= 20; round++) {
    // The merchant shares this test's thread, so its latency measures the test machine: the budget is generous.
    const run = await runCli(burstArgs(shop, '--buyers', '2000', '--stock', '100', '--p99-budget', '4s'));
    const report = reportOf(run);
    assert.equal(run.code, 0, `round ${round}: ${report.verdict.summary}`);
    assert.equal(report.counts.accepted, 100);
    assert.equal(report.counts.refused, 1900);
    assert.deepEqual(report.stock.probe && [report.stock.probe.before, report.stock.probe.after], [100, 0]);
    assert.equal(burstReportProblem(report), null);
  }
});

test('a merchant with a read-then-write race oversells', async (t) => {
  const shop = await merchant(t, { stock: 100, flaw: 'race' });
  const run = await runCli(burstArgs(shop, '--buyers', '2000', '--stock', '100'));
  const report = reportOf(run);
  assert.equal(run.code, 1);
  assert.equal(problemKinds(report)[0], 'oversell');
  assert.ok(report.counts.accepted > 100);
  assert.equal(report.verdict.problems[0]!.count, report.counts.accepted - 100);
  assert.match(report.verdict.problems[0]!.examples[0]!, /^burst-[a-z0-9]+-\d+$/);
});

test('a merchant that answers too late is slow, times out and strands stock', async (t) => {
  const shop = await merchant(t, { stock: 100, flaw: 'slow', slowDelayMs: 1200 });
  const run = await runCli(
    burstArgs(shop, '--buyers', '300', '--stock', '100', '--timeout', '500ms', '--stranded-wait', '1500ms', '--p99-budget', '300ms'),
  );
  const report = reportOf(run);
  assert.equal(run.code, 1);
  assert.deepEqual(problemKinds(report), ['undersell', 'slow', 'stranded']);
  assert.ok(report.counts.timeouts > 200);
  assert.ok(report.verdict.problems[0]!.causes!.timeouts > 200);
  assert.equal(report.tally.stranded + report.counts.accepted, 100, 'every unit went to an accepted or a stranded buyer');
});

test('a merchant that takes stock again on a repeated confirm is caught as a double-take', async (t) => {
  const shop = await merchant(t, { stock: 100, flaw: 'double' });
  const run = await runCli(burstArgs(shop, '--buyers', '1000', '--stock', '100', '--duplicates', '0.2'));
  const report = reportOf(run);
  assert.equal(run.code, 1);
  assert.ok(problemKinds(report).includes('double-take'), report.verdict.summary);
  const doubleTake = report.verdict.problems.find((problem) => problem.kind === 'double-take')!;
  assert.equal(doubleTake.count, report.stock.probe!.before - report.stock.probe!.after - report.counts.accepted);
  assert.ok(doubleTake.examples.length > 0);

  const correct = await merchant(t, { stock: 100 });
  // Only the stock is judged here: on a loaded machine 1,000 buyers' p99 can pass the default 1 s budget.
  const clean = await runCli(burstArgs(correct, '--buyers', '1000', '--stock', '100', '--duplicates', '0.2', '--p99-budget', '10s'));
  assert.equal(clean.code, 0, reportOf(clean).verdict.summary);
});

test('orders can be created first, and the terminal summary leads with the verdict', async (t) => {
  const shop = await merchant(t, { stock: 20, openOrders: false });
  const run = await runCli([
    'burst',
    shop.confirmUrl,
    '--buyers',
    '150',
    '--stock',
    '20',
    '--order-url',
    shop.orderUrl,
    '--reset-url',
    shop.resetUrl,
    '--merchant-uid',
    'flash-{n}',
  ]);
  assert.equal(run.code, 0, run.stdout);
  const lines = run.stdout.split('\n');
  assert.match(lines[0]!, /^PASS 20 of 20 in stock sold to 150 buyers/);
  assert.match(run.stdout, /answers\s+200 ×20 {3}409 ×130/);
  assert.match(run.stdout, /latency\s+p50 .* p90 .* p99 .* p99\.9 .* max /);
  assert.match(run.stdout, /throughput\s+[\d,]+ answers\/s {3}dispatch spread/);
  assert.ok(!run.stdout.includes('\u001b['), 'no colour without a TTY');
  assert.equal(run.stderr, '', 'no progress without a TTY');

  const wrongUrl = await runCli(['burst', shop.confirmUrl, '--buyers', '5', '--stock', '1', '--order-url', `${shop.url}/nope`]);
  assert.equal(wrongUrl.code, 2);
  assert.match(wrongUrl.stderr, /^confirm-sim: --order-url: POST .*\/nope for burst-[a-z0-9]+-\d+ answered 404/);
  assert.equal(wrongUrl.stderr.trim().split('\n').length, 1);
});

test('on a terminal progress goes to stderr and the summary is coloured, unless NO_COLOR', async (t) => {
  const shop = await merchant(t, { stock: 10 });
  const { CI: _ci, NO_COLOR: _noColor, FORCE_COLOR: _force, ...env } = process.env;
  const args = ['burst', shop.confirmUrl, '--buyers', '100', '--stock', '10', '--reset-url', shop.resetUrl];
  const coloured = await runCli(args, { tty: true, env });
  assert.equal(coloured.code, 0, coloured.stdout);
  assert.match(coloured.stderr, /\r\u001b\[2K.*connecting 100 connections/);
  assert.match(coloured.stderr, /100\/100 sent .*10 accepted/);
  assert.ok(coloured.stdout.includes('\u001b['), 'colour on a TTY');
  const plain = await runCli(args, { tty: true, env: { ...env, NO_COLOR: '1' } });
  assert.ok(!plain.stdout.includes('\u001b['), 'NO_COLOR turns colour off');
  const piped = await runCli([...args, '--json', '-'], { tty: true, env });
  assert.equal((JSON.parse(piped.stdout) as BurstReport).verdict.pass, true, 'stdout holds nothing but the JSON');
  assert.ok(!piped.stderr.includes('connecting'), 'no progress when the JSON goes to stdout');
});

test('--json FILE and --ledger FILE are written; secrets never appear', async (t) => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const shop = await merchant(t, { stock: 10 });
  const dir = await tempDir();
  const run = await runCli([
    'burst',
    shop.confirmUrl,
    '--buyers',
    '50',
    '--stock',
    '10',
    '--dialect',
    'v2-2024-01-01',
    '--secret',
    secret,
    '--json',
    join(dir, 'report.json'),
    '--ledger',
    join(dir, 'ledger.ndjson'),
  ]);
  assert.equal(run.code, 0, run.stdout);
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as BurstReport;
  assert.equal(burstReportProblem(report), null);
  assert.equal(report.verdict.pass, true);
  assert.equal(typeof report.latencyMs.p999, 'number');
  assert.equal(report.config.secret, 'whsec_****');
  const ledger = (await readFile(join(dir, 'ledger.ndjson'), 'utf8')).trim().split('\n');
  assert.equal(ledger.length, 50);
  for (const text of [run.stdout, run.stderr, JSON.stringify(report), ledger.join('\n')]) {
    assert.ok(!text.includes(secret.slice(6)), 'the secret stays secret');
  }
});

test('bad flags exit 2 with one line that names the flag', async () => {
  const url = 'http://127.0.0.1:9/confirm';
  const notADirectory = join(await tempDir(), 'a-file');
  await writeFile(notADirectory, '');
  const cases: Array<[string[], RegExp]> = [
    [['burst', 'not-a-url', '--stock', '1'], /URL: "not-a-url" is not a URL/],
    [['burst', 'http://192.0.2.1/confirm', '--stock', '1'], /only sent to this machine/],
    [['burst', url], /--stock: say how many/],
    [['burst', url, '--stock', 'ten'], /--stock: "ten" is not a whole number/],
    [['burst', url, '--stock', '1', '--ramp', '1s', '--rate', '10'], /--ramp and --rate/],
    [['burst', url, '--stock', '1', '--duplicates', '2'], /--duplicates/],
    [['burst', url, '--stock', '1', '--shard', '2/2'], /--shard/],
    [['burst', url, '--stock', '1', '--start-at', '1700000000'], /looks like unix seconds/],
    [['burst', url, '--stock', '1', '--timeout', 'soon'], /--timeout/],
    [['burst', url, '--stock', '1', '--dialect', 'v3'], /--dialect/],
    [['burst', url, '--stock', '1', '--secret-env', 'CONFIRM_SIM_NOT_SET'], /CONFIRM_SIM_NOT_SET is not set/],
    [['burst', url, '--stock', '1', '-H', 'broken'], /--header/],
    [['burst', url, '--stock', '1', '--start-at', String(Date.now() + 3 * 86_400_000)], /more than a day ahead/],
    [['burst', url, '--stock', '1', '--ledger', join(notADirectory, 'ledger.ndjson')], /--ledger \S+: \S+ is not a folder; choose another path/],
    [['burst', url, '--stock', '1', '--json', join(notADirectory, 'report.json')], /--json \S+: \S+ is not a folder; choose another path/],
    [['merge', '/nonexistent/shard.json'], /cannot be read/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
});

test('Ctrl-C mid-burst still prints and writes the partial report, marked interrupted', async (t) => {
  const hang = await hangingServer(t);
  const dir = await tempDir();
  const controller = new AbortController();
  void hang.firstRequest.then(() => setTimeout(() => controller.abort(), 200));
  const run = await runCli(
    ['burst', hang.url, '--buyers', '400', '--stock', '100', '--rate', '400', '--json', join(dir, 'r.json'), '--ledger', join(dir, 'l.ndjson')],
    { signal: controller.signal },
  );
  assert.equal(run.code, 130);
  assert.match(run.stdout, /^FAIL .*interrupted/);
  const report = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as BurstReport;
  assert.equal(report.interrupted, true);
  assert.ok(report.counts.notSent > 0 && report.counts.aborted > 0);
  assert.ok(problemKinds(report).includes('interrupted'));
  assert.equal((await readFile(join(dir, 'l.ndjson'), 'utf8')).trim().split('\n').length, 400);
});

test('SIGINT to the process writes the partial report before it exits', async (t) => {
  const hang = await hangingServer(t);
  const dir = await tempDir();
  const run = await spawnCli(['burst', hang.url, '--buyers', '200', '--stock', '10', '--rate', '100', '--json', join(dir, 'r.json')], {
    // Ctrl-C once the run is under way, as a person watching it would.
    onSpawn: (child) => void hang.firstRequest.then(() => child.kill('SIGINT')),
  });
  assert.equal(run.code, 130, run.stderr);
  const report = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as BurstReport;
  assert.equal(report.interrupted, true);
  assert.ok(report.counts.notSent > 0);
});

test('a merchant killed mid-burst is measured and classified, not a crash', async (t) => {
  const shop = await merchant(t, { stock: 5000 });
  // Killed once it has answered 200 confirms: always mid-burst, however slow the machine is.
  let confirms = 0;
  shop.events.on('confirm', () => {
    if (++confirms === 200) void shop.close();
  });
  const run = await runCli([
    'burst',
    shop.confirmUrl,
    '--buyers',
    '5000',
    '--stock',
    '5000',
    '--rate',
    '5000',
    '--connections',
    '50',
    '--json',
    '-',
  ]);
  const report = reportOf(run);
  assert.equal(run.code, 1);
  assert.ok(report.counts.accepted > 0 && report.counts.accepted < 5000);
  assert.equal(report.counts.accepted + report.counts.errors + report.counts.refused + report.counts.timeouts, 5000);
  assert.ok(report.counts.errors > 0);
  assert.ok(report.selfCheck.warnings.some((warning) => warning.code === 'target-down'));
  // The connections it dropped and refused are its errors, besides the sale they cost.
  assert.deepEqual(problemKinds(report), ['undersell', 'errors']);
});

test('shard reports of one run merge into one report and verdict', async (t) => {
  const shop = await merchant(t, { stock: 30 });
  const dir = await tempDir();
  const startAt = String(Date.now() + 600);
  const shardArgs = (index: number): string[] => [
    'burst',
    shop.confirmUrl,
    '--buyers',
    '200',
    '--stock',
    '30',
    '--run-id',
    'mergetest',
    '--shard',
    `${index}/2`,
    '--start-at',
    startAt,
    '--json',
    join(dir, `shard-${index}.json`),
    '--quiet',
  ];
  const shards = await Promise.all([runCli(shardArgs(0)), runCli(shardArgs(1))]);
  for (const shard of shards) {
    assert.equal(shard.code, 0, shard.stdout);
    assert.match(shard.stdout, /this shard only/);
  }
  const merged = await runCli(['merge', join(dir, 'shard-0.json'), join(dir, 'shard-1.json'), '--json', '-']);
  assert.equal(merged.code, 0, merged.stderr);
  const report = JSON.parse(merged.stdout) as BurstReport;
  assert.equal(report.counts.buyers, 200);
  assert.equal(report.counts.accepted, 30);
  assert.deepEqual(report.shards, [0, 1]);
  assert.match(merged.stderr, /^PASS 30 of 30 in stock sold to 200 buyers/);

  const partial = await runCli(['merge', join(dir, 'shard-1.json')]);
  assert.equal(partial.code, 1);
  assert.match(partial.stdout, /missing-shards/);
});

test('connections are capped below the open-file limit instead of failing with EMFILE', async (t) => {
  // What is tested is the cap and the clean run, not latency: a loaded CI machine must not turn it into "slow".
  const shop = await merchant(t, { stock: 50 });
  const run = await spawnCli(['burst', shop.confirmUrl, '--buyers', '600', '--stock', '50', '--p99-budget', '10s', '--json', '-'], { openFileLimit: 256 });
  const report = JSON.parse(run.stdout) as BurstReport;
  assert.equal(run.code, 0, report.verdict.summary);
  assert.equal(report.selfCheck.fdLimit, 256);
  assert.ok(report.transport.connections < 256);
  assert.ok(report.selfCheck.warnings.some((warning) => warning.code === 'connections-capped'));
  assert.equal(report.counts.errors, 0);
});
