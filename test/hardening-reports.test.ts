import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { runCli, spawnCli } from './helpers/cli.js';
import { startFixedAnswer, startRawTarget, type HostileTarget } from './helpers/hostile-raw.js';

const REFUSE = 'HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{"reason":"sold out"}';
const OLD = 'the previous report\n';

async function folder(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-reports-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A merchant that reads every confirm and never answers: a run against it only ends by its timeout or a signal. */
function startSilent(t: TestContext): Promise<HostileTarget> {
  return startRawTarget(t, () => {});
}

/** Sends `signal` to the CLI once the target has seen `requests` confirms. */
function signalWhenBusy(target: HostileTarget, signal: NodeJS.Signals, requests = 1): (child: ChildProcess) => void {
  return (child) => {
    void (async () => {
      while (target.requests() < requests) await sleep(10);
      child.kill(signal);
    })();
  };
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  assert.match(stderr, pattern);
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

test('a run that fails in set-up leaves the previous --json and --ledger as they were, and no stray file', async (t) => {
  const dir = await folder(t);
  const merchant = await startFixedAnswer(t, REFUSE);
  const probe = await startFixedAnswer(t, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n-5', '/stock');
  for (const name of ['report.json', 'ledger.ndjson']) await writeFile(join(dir, name), OLD);
  const run = await runCli(['burst', merchant.url, '-n', '3', '--stock-url', probe.url, '--json', join(dir, 'report.json'), '--ledger', join(dir, 'ledger.ndjson')]);
  assert.equal(run.code, 2, run.stderr);
  for (const name of ['report.json', 'ledger.ndjson']) assert.equal(await readFile(join(dir, name), 'utf8'), OLD, name);
  assert.deepEqual((await readdir(dir)).sort(), ['ledger.ndjson', 'report.json']);
});

test('a run that completes replaces the previous reports whole', async (t) => {
  const dir = await folder(t);
  const merchant = await startFixedAnswer(t, REFUSE);
  for (const name of ['report.json', 'ledger.ndjson']) await writeFile(join(dir, name), OLD);
  const run = await runCli(['burst', merchant.url, '-n', '4', '-s', '0', '--json', join(dir, 'report.json'), '--ledger', join(dir, 'ledger.ndjson')]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { counts: { refused: number } }).counts.refused, 4);
  assert.equal((await readFile(join(dir, 'ledger.ndjson'), 'utf8')).trim().split('\n').length, 4);
  assert.deepEqual((await readdir(dir)).sort(), ['ledger.ndjson', 'report.json']);
});

test('two outputs on one file are a usage error', async (t) => {
  const dir = await folder(t);
  const same = join(dir, 'out.json');
  const burst = await runCli(['burst', 'http://127.0.0.1:9/confirm', '-n', '1', '-s', '1', '--json', same, '--ledger', same]);
  assert.equal(burst.code, 2);
  assertOneLine(burst.stderr, /--json and --ledger both write .*out\.json; give each its own file/);
  const html = await runCli(['burst', 'http://127.0.0.1:9/confirm', '-n', '1', '-s', '1', '--ledger', join(dir, 'x.html'), '--html', join(dir, 'x.html')]);
  assert.equal(html.code, 2);
  assertOneLine(html.stderr, /--ledger and --html both write/);
  const check = await runCli(['check', 'http://127.0.0.1:9/confirm', '--reporter', 'json', '--reporter', 'junit', '--out', `json=${same}`, '--out', `junit=${same}`]);
  assert.equal(check.code, 2);
  assertOneLine(check.stderr, /--out json and --out junit both write/);
  assert.equal(existsSync(same), false);
});

test('a report that cannot be written is one line and exit 2, after the verdict', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, async (t) => {
  const merchant = await startFixedAnswer(t, REFUSE);
  for (const flag of ['--json', '--ledger', '--html']) {
    const run = await runCli(['burst', merchant.url, '-n', '2', '-s', '0', flag, '/dev/full']);
    assert.equal(run.code, 2, `${flag}: ${run.stderr}`);
    assert.match(run.stdout, /^PASS 0 of 0 in stock/, `${flag}: the verdict line comes first`);
    assertOneLine(run.stderr, new RegExp(`^confirm-sim: ${flag} /dev/full: could not be written \\(ENOSPC\\)`));
  }
  const check = await runCli(['check', merchant.url, '--grep', '^3 ', '--reporter', 'cli', '--reporter', 'junit', '--out', 'junit=/dev/full']);
  assert.equal(check.code, 2, check.stderr);
  assert.match(check.stdout, /contract (kept|broken)/);
  assertOneLine(check.stderr, /--out \/dev\/full: could not be written \(ENOSPC\)/);

  const dir = await folder(t);
  const intoFolder = await runCli(['burst', merchant.url, '-n', '2', '-s', '0', '--json', dir]);
  assert.equal(intoFolder.code, 2);
  assertOneLine(intoFolder.stderr, /--json .*: is a folder/);
});

test('SIGTERM exits 143 and Ctrl-C 130, each with the partial --json and a complete --ledger', async (t) => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    const dir = await folder(t);
    const merchant = await startSilent(t);
    const run = await spawnCli(
      ['burst', merchant.url, '-n', '5', '-s', '1', '--timeout', '30s', '--json', join(dir, 'report.json'), '--ledger', join(dir, 'ledger.ndjson')],
      { onSpawn: signalWhenBusy(merchant, signal, 5) },
    );
    assert.equal(run.code, code, `${signal}: ${run.stderr}`);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { interrupted: boolean; counts: { buyers: number } };
    assert.equal(report.interrupted, true);
    const ledger = (await readFile(join(dir, 'ledger.ndjson'), 'utf8')).trim().split('\n');
    assert.equal(ledger.length, 5, 'a line for every buyer, sent or not');
    for (const line of ledger) JSON.parse(line);
    assert.deepEqual((await readdir(dir)).sort(), ['ledger.ndjson', 'report.json']);
  }
});

test('kill -9 in the middle of a run leaves the previous reports untouched', async (t) => {
  const dir = await folder(t);
  const merchant = await startSilent(t);
  for (const name of ['report.json', 'ledger.ndjson']) await writeFile(join(dir, name), OLD);
  const run = await spawnCli(
    ['burst', merchant.url, '-n', '3', '-s', '1', '--timeout', '30s', '--json', join(dir, 'report.json'), '--ledger', join(dir, 'ledger.ndjson')],
    { onSpawn: signalWhenBusy(merchant, 'SIGKILL', 3) },
  );
  assert.equal(run.code, -1, 'killed');
  for (const name of ['report.json', 'ledger.ndjson']) assert.equal(await readFile(join(dir, name), 'utf8'), OLD, name);
});
