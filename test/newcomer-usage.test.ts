import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from '../src/util/duration.js';
import { UsageError } from '../src/util/errors.js';
import { startMerchant } from '../src/merchants/index.js';
import { runBurst } from '../src/load/index.js';
import { formatBurstSummary } from '../src/reporters/burst-terminal.js';
import { Chalk } from 'chalk';
import { runCli } from './helpers/cli.js';

test('a duration without a unit is refused with the spelling to use', () => {
  assert.throws(() => parseDuration('5', '--timeout'), { name: 'UsageError', message: '--timeout: "5" has no unit; write 5s or 5000ms' });
  assert.throws(() => parseDuration('1500', '--hold'), { message: '--hold: "1500" has no unit; write 1500ms or 1.5s' });
  assert.throws(() => parseDuration(5, 'x.yaml: /target/timeout'), UsageError);
  assert.equal(parseDuration('5s', '--timeout'), 5000);
  assert.equal(parseDuration('1.5s', '--timeout'), 1500);
  assert.equal(parseDuration('250ms', '--timeout'), 250);
  assert.equal(parseDuration('2m', '--timeout'), 120_000);
  assert.equal(parseDuration('0', '--stranded-wait'), 0, 'zero is zero in every unit');
});

test('every duration flag of every command refuses a bare number, before doing anything', async () => {
  const url = 'http://127.0.0.1:1/confirm';
  const cases: Array<[string[], string]> = [
    [['fire', url, '--timeout', '5'], '--timeout'],
    [['burst', url, '--stock', '1', '--timeout', '5'], '--timeout'],
    [['burst', url, '--stock', '1', '--ramp', '2'], '--ramp'],
    [['burst', url, '--stock', '1', '--stranded-wait', '3'], '--stranded-wait'],
    [['burst', url, '--stock', '1', '--p99-budget', '300'], '--p99-budget'],
    [['burst', url, '--stock', '1', '--fairness-window', '1'], '--fairness-window'],
    [['check', url, '--timeout', '5'], '--timeout'],
    [['check', url, '--p99-budget', '5'], '--p99-budget'],
    [['merchant', '--port', '0', '--hold', '30'], '--hold'],
    [['gateway', '--port', '0', '--token-ttl', '60'], '--token-ttl'],
  ];
  for (const [args, flag] of cases) {
    const run = await runCli(args);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, new RegExp(`^confirm-sim: ${flag}: "\\d+" has no unit; write \\S+ or \\S+\\n$`), args.join(' '));
  }
});

test('a scenario file with a bare-number duration is refused at its field', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'confirm-sim-newcomer-'));
  const file = join(dir, 'sale.yaml');
  await writeFile(file, 'target:\n  url: http://127.0.0.1:1/confirm\n  timeout: 5\nbudgets:\n  p99: "800"\n');
  const run = await runCli(['check', '--scenario', file]);
  assert.equal(run.code, 2);
  assert.equal(
    run.stderr,
    `confirm-sim: ${file}: /target/timeout: 5 has no unit; write 5s or 5000ms\n${file}: /budgets/p99: "800" has no unit; write 800ms or 0.8s\n`,
  );
});

test('--help of every command states its exit codes, and durations need units where it takes any', async () => {
  const withDurations = ['fire', 'burst', 'check', 'merchant', 'gateway'];
  for (const command of [...withDurations, 'demo', 'merge', 'init']) {
    const run = await runCli([command, '--help']);
    assert.equal(run.code, 0, command);
    assert.match(run.stdout, /\nExit codes:\n {2}0 {3}\S.*\n/, command);
    assert.match(run.stdout, /\n {2}2 {3}usage error/, command);
    assert.equal(/Durations need a unit/.test(run.stdout), withDurations.includes(command), command);
  }
});

test('a tiny burst does not call its own generator saturated or CPU-bound; the interrupted footer reads as words', async (t) => {
  const merchant = await startMerchant({ port: 0, stock: 10, openOrders: true });
  t.after(() => merchant.close());
  const report = await runBurst({ url: merchant.confirmUrl, buyers: 10, stock: 10 });
  assert.equal(report.counts.accepted, 10);
  const codes: string[] = report.selfCheck.warnings.map((warning) => warning.code);
  for (const code of ['generator-saturated', 'cpu-bound', 'event-loop-delay']) assert.ok(!codes.includes(code), codes.join(', '));
  const summary = formatBurstSummary({ ...report, interrupted: true }, new Chalk({ level: 0 }));
  assert.match(summary, /\ninterrupted the run was stopped early/);
});
