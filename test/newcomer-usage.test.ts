import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from '../src/util/duration.js';
import { UsageError } from '../src/util/errors.js';
import { startMerchant } from '../src/merchants/index.js';
import { runBurst } from '../src/load/index.js';
import { runCheck, type CheckResult } from '../src/contract/index.js';
import { startGateway } from '../src/gateway/index.js';
import { parseFlow } from '../src/protocol/flows.js';
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

test('check refuses to run no case, an --out naming no reporter, and a report folder that is not there', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'confirm-sim-newcomer-'));
  const url = 'http://127.0.0.1:1/confirm';
  const cases: Array<[string[], RegExp]> = [
    [['check', url, '--skip', '.'], /^confirm-sim: --skip \. leaves no case to run; the cases are 1 confirms-known-order, /],
    [['check', url, '--grep', 'burst', '--skip', 'first'], /^confirm-sim: --grep burst with --skip first leaves no case to run/],
    [['check', url, '--reporter', 'junit', '--out', 'foo=x.xml'], /^confirm-sim: --out foo=x.xml: "foo" is not a reporter that writes a file; use json=<file> or junit=<file>/],
    [['check', url, '--reporter', 'junit', '--out', `${dir}/no/such/x.xml`], /^confirm-sim: --out \S+: the folder \S+no\/such does not exist; create it first \(mkdir -p /],
    [['burst', url, '--stock', '1', '--json', `${dir}/none/x.json`], /^confirm-sim: --json \S+: the folder \S+none does not exist/],
    [['burst', url, '--stock', '1', '--ledger', `${dir}/none/x.ndjson`], /^confirm-sim: --ledger \S+: the folder \S+none does not exist/],
    [['merge', `${dir}/a.json`, '--json', `${dir}/none/x.json`], /^confirm-sim: --json \S+: the folder \S+none does not exist/],
    [['init', '--out', join(dir, 'x.toml')], /^confirm-sim: --out \S+x\.toml: check reads only \.json, \.yaml, \.yml files/],
    [['init', '--format', 'yaml', '--out', join(dir, 'x.json')], /^confirm-sim: --format yaml with --out \S+x\.json: check would read it as json; end the file in \.yaml/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, message, args.join(' '));
    assert.equal(run.stderr.split('\n').length, 2, `one line: ${run.stderr}`);
  }
  assert.deepEqual(readdirSync(dir), [], 'nothing written, no folder made');
  assert.ok(!existsSync('foo=x.xml'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
});

test('runCheck rejects its promise on bad options, in the library\'s words', async () => {
  const pending = runCheck({ url: 'http://127.0.0.1:1/confirm', skip: /./ });
  assert.ok(pending instanceof Promise);
  await assert.rejects(pending, { name: 'UsageError', message: /^skip \. leaves no case to run/ });
  await assert.rejects(runCheck({ url: 'not a url' }), { name: 'UsageError' });
});

test('library refusals name the options the caller wrote, never a flag; the CLI says the flags', async () => {
  const names = (pattern: RegExp) => (error: unknown): boolean => {
    assert.ok(error instanceof UsageError, String(error));
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /--[a-z]/, 'a library caller typed no flag');
    return true;
  };
  const pending = runCheck({ url: 'http://127.0.0.1:1/payment/complete', flow: 'manual-confirm' });
  assert.ok(pending instanceof Promise, 'bad options reject the promise rather than throw');
  await assert.rejects(pending, names(/^`flow` manual-confirm needs `gateway` <url>/));
  await assert.rejects(runCheck({ url: 'http://127.0.0.1:1/confirm', tokenLifetimeMs: 60_000 }), names(/^`tokenLifetimeMs` is for `flow` manual-confirm/));
  await assert.rejects(runBurst({ url: 'http://127.0.0.1:1/confirm', buyers: 2, stock: 1, body: '{}' }), names(/^`body` is for `flow` manual-confirm/));
  await assert.rejects(
    runBurst({ url: 'http://127.0.0.1:1/c', buyers: 2, stock: 1, flow: 'manual-confirm', gateway: 'http://127.0.0.1:1', dialect: 'v1' }),
    names(/^`flow` manual-confirm is V2's: give a V2 `dialect`/),
  );
  await assert.rejects(startMerchant({ flow: 'manual-confirm' }), names(/^`flow` manual-confirm charges each buyer through the gateway/));
  await assert.rejects(startMerchant({ verify: 'rest', flow: 'manual-confirm', gateway: { url: 'http://127.0.0.1:1' } }), names(/^`verify` rest is for the Confirm Process/));
  await assert.rejects(startGateway({ port: 0, timeoutMs: 0 }), names(/^`timeoutMs`: 0 ms/));
  assert.throws(() => parseFlow('manual'), names(/^`flow`: "manual" is not a flow/));

  const cli = await runCli(['check', 'http://127.0.0.1:1/payment/complete', '--flow', 'manual-confirm']);
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /^confirm-sim: --flow manual-confirm needs --gateway <url>: /);
});

test('a skip reason names the missing option to a library caller and its flag on the command line', async (t) => {
  const merchant = await startMerchant({ port: 0, stock: 20, openOrders: true });
  t.after(() => merchant.close());
  const result = await runCheck({ url: merchant.confirmUrl, grep: /idempotent-repeat|releases-stock-on-failure/ });
  assert.deepEqual(
    result.cases.map((c) => [c.status, c.message]),
    [
      ['skipped', 'needs `stockUrl` to see whether the repeat took stock a second time'],
      ['skipped', 'needs `webhookUrl` and `stockUrl` to fail a payment and see its stock come back'],
    ],
  );
  const cli = await runCli(['check', merchant.confirmUrl, '--grep', 'idempotent-repeat|releases-stock-on-failure', '--json', '-']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(
    (JSON.parse(cli.stdout) as CheckResult).cases.map((c) => c.message),
    ['needs --stock-url to see whether the repeat took stock a second time', 'needs --webhook-url and --stock-url to fail a payment and see its stock come back'],
  );
  const terminal = await runCli(['check', merchant.confirmUrl, '--grep', 'releases-stock-on-failure']);
  assert.match(terminal.stdout, /\n {5}needs --webhook-url and --stock-url to fail a payment/);
});
