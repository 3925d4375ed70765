import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMerchant } from '../src/index.js';
import type { CheckResult, FireResult } from '../src/index.js';
import { runCli } from './helpers/cli.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'confirm-sim-json-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('fire --json: - puts only the JSON on stdout; a file gets the JSON and stdout keeps the usual lines', async (t) => {
  const merchant = await startMerchant({ port: 0, openOrders: true });
  t.after(() => merchant.close());
  const dir = await tempDir(t);

  const piped = await runCli(['fire', merchant.confirmUrl, '--json', '-']);
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal((JSON.parse(piped.stdout) as FireResult).decision.proceed, true);

  const file = join(dir, 'fire.json');
  const saved = await runCli(['fire', merchant.confirmUrl, '--json', file]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.match(saved.stdout, /^→ POST /m);
  assert.match(saved.stdout, /^PROCEED  HTTP 200/m);
  assert.equal((JSON.parse(await readFile(file, 'utf8')) as FireResult).decision.proceed, true);

  const bare = await runCli(['fire', merchant.confirmUrl, '--json']);
  assert.equal(bare.code, 2, 'the old boolean form names what is missing instead of guessing');
  assert.match(bare.stderr, /--json <file\|->' argument missing/);
});

test('check --json: a file beside the terminal report, - alone on stdout, and not twice with --reporter json', async (t) => {
  const merchant = await startMerchant({ port: 0, stock: 100 });
  t.after(() => merchant.close());
  const dir = await tempDir(t);
  const hooks = ['--order-url', merchant.orderUrl, '--reset-url', merchant.resetUrl, '--stock-url', merchant.stockUrl];
  const quick = ['--grep', 'confirms-known-order|refuses-unknown-order'];

  const file = join(dir, 'check.json');
  const saved = await runCli(['check', merchant.confirmUrl, ...hooks, ...quick, '--json', file]);
  assert.equal(saved.code, 0, saved.stdout + saved.stderr);
  assert.match(saved.stdout, /contract kept/);
  const result = JSON.parse(await readFile(file, 'utf8')) as CheckResult;
  assert.equal(result.summary.passed, 2);

  const piped = await runCli(['check', merchant.confirmUrl, ...hooks, ...quick, '--json', '-']);
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal((JSON.parse(piped.stdout) as CheckResult).summary.passed, 2);

  const twice = await runCli(['check', merchant.confirmUrl, '--reporter', 'json', '--json', file]);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /^confirm-sim: --json and --reporter json both ask for the JSON report; keep one/);
});

test('merchant --json: JSON lines to a file as they happen, text on stdout; demo refuses a --json folder that is not there', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'merchant.ndjson');
  const run = await runCli(['merchant', '--port', '0', '--json', file], { signal: AbortSignal.timeout(150) });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /listening on http:\/\/127\.0\.0\.1:\d+/);
  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { type: string });
  assert.deepEqual(lines.map((line) => line.type), ['started', 'stopped']);

  const demo = await runCli(['demo', '--json', join(dir, 'missing', 'demo.json')]);
  assert.equal(demo.code, 2);
  assert.match(demo.stderr, /^confirm-sim: --json \S+demo\.json: the folder \S+missing does not exist/);
});

test('old and protocol names still work as aliases: --price, --confirm-timeout, --notice-url; both names at once is refused', async () => {
  const priced = await runCli(['merchant', '--port', '0', '--open-orders', '--price', '500', '--json', '-'], { signal: AbortSignal.timeout(150) });
  assert.equal(priced.code, 0, priced.stderr);
  assert.equal((JSON.parse(priced.stdout.split('\n')[0]!) as { price: number }).price, 500);

  const gateway = await runCli(['gateway', '--port', '0', '--confirm-timeout', '7s'], { signal: AbortSignal.timeout(150) });
  assert.equal(gateway.code, 0, gateway.stderr);
  assert.match(gateway.stdout, /confirm timeout  7.00 s/);

  const both = await runCli(['gateway', '--port', '0', '--timeout', '5s', '--confirm-timeout', '7s']);
  assert.equal(both.code, 2);
  assert.equal(both.stderr, 'confirm-sim: --confirm-timeout is another name for --timeout and both are given; keep --timeout\n');

  const notice = await runCli(['fire', 'http://127.0.0.1:9/confirm', '--notice-url', 'http://127.0.0.1:9/webhook']);
  assert.equal(notice.code, 2);
  assert.match(notice.stderr, /^confirm-sim: --webhook-url needs --gateway <url>/);
});
