import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { startMerchant } from '../src/index.js';
import type { BurstReport } from '../src/index.js';
import type { GatewaySession } from '../src/reporters/gateway-json.js';
import { spawnCli } from './helpers/cli.js';

/** `--json <file|->` on gateway (a summary of the session when it stops) and report (what the page is drawn from), over real processes. */

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'confirm-sim-gw-json-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function post(url: string, body: unknown): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await response.arrayBuffer();
  return response.status;
}

/** Starts `confirm-sim gateway`, drives it once its banner shows its URL (on `bannerOn`), then stops it with `signal`. */
function gatewayRun(args: string[], bannerOn: 'stdout' | 'stderr', drive: (url: string) => Promise<void>, signal: NodeJS.Signals) {
  return spawnCli(['gateway', '--port', '0', ...args], {
    onSpawn: (child) => {
      let banner = '';
      let started = false;
      child[bannerOn]?.on('data', (chunk: Buffer | string) => {
        banner += String(chunk);
        const url = /listening on (http:\S+)/.exec(banner)?.[1];
        if (url === undefined || started) return;
        started = true;
        void drive(url).finally(() => child.kill(signal));
      });
    },
  });
}

test('gateway --json -: on SIGTERM stdout carries one JSON summary of runs, payments, webhooks and confirms; the log goes to stderr', async (t) => {
  const merchant = await startMerchant({ port: 0, openOrders: true });
  t.after(() => merchant.close());
  const webhookSink = createServer((_request, response) => response.end('ok'));
  webhookSink.listen(0, '127.0.0.1');
  await once(webhookSink, 'listening');
  t.after(() => webhookSink.close());
  const sinkUrl = `http://127.0.0.1:${(webhookSink.address() as AddressInfo).port}/webhook`;

  const run = await gatewayRun(
    ['--json', '-'],
    'stderr',
    async (url) => {
      assert.equal(await post(`${url}/sim/payments`, { merchant_uid: 'one-1', amount: 1000, confirm_url: merchant.confirmUrl, notice_url: sinkUrl }), 200);
      // Port 9 (discard) refuses: the V1 webhook is not delivered and, without retries, given up.
      assert.equal(await post(`${url}/sim/payments`, { merchant_uid: 'one-2', amount: 1000, notice_url: 'http://127.0.0.1:9/webhook' }), 200);
      const payments = ['s-1', 's-2', 's-3'].map((orderId) => ({ orderId, amount: 500 }));
      assert.equal(await post(`${url}/sim/sales`, { run: 'sale-1', payments }), 200);
      const answers = payments.map(({ orderId }, index) => ({ orderId, status: index < 2 ? 200 : 409 }));
      assert.equal(await post(`${url}/sim/confirm-answers`, { run: 'sale-1', answers }), 200);
      assert.equal(await post(`${url}/sim/sales/sale-1/end`, {}), 200);
      await delay(300); // the webhooks go out after the answers
    },
    'SIGTERM',
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /confirm-sim gateway listening on http:\/\/127\.0\.0\.1:\d+/, 'the banner moved to stderr');
  assert.match(run.stderr, /run sale-1 ended: 3 registered · 2 paid · 1 failed/, 'and so did the log');
  const session = JSON.parse(run.stdout) as GatewaySession;
  assert.equal(session.kind, 'confirm-sim.gateway-session');
  assert.equal(session.schemaVersion, 1);
  assert.match(session.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(session.durationMs >= 300, String(session.durationMs));
  assert.equal(session.requests.byKind['POST /sim/payments 200'], 2);
  assert.equal(session.requests.total, 5, JSON.stringify(session.requests));
  assert.deepEqual(session.payments, { registered: 5, paid: 4, declined: 0, failed: 1, cancelled: 0, partiallyCancelled: 0 });
  assert.deepEqual(session.oneOffPayments, { registered: 2, paid: 2, declined: 0, failed: 0, cancelled: 0, partiallyCancelled: 0 });
  assert.equal(session.runs.length, 1);
  assert.equal(session.runs[0]!.run, 'sale-1');
  assert.equal(session.runs[0]!.ended, true);
  assert.deepEqual([session.runs[0]!.payments.paid, session.runs[0]!.payments.failed], [2, 1]);
  assert.equal(session.confirms.called, 1, 'one-1 asked the merchant; one-2 had no confirm_url');
  assert.equal(session.confirms.proceeded, 1);
  assert.equal(session.confirms.answersAccepted, 3);
  assert.equal(session.webhooks.sent, 2);
  assert.equal(session.webhooks.delivered, 1);
  assert.equal(session.webhooks.failed, 1);
  assert.equal(session.webhooks.gaveUp, 1);
});

test('gateway --json FILE: written on Ctrl-C with the banner on stdout; a folder that is not there is refused before it starts', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'gateway.json');
  const run = await gatewayRun(['--json', file], 'stdout', async () => {}, 'SIGINT');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /confirm-sim gateway listening on/);
  const session = JSON.parse(await readFile(file, 'utf8')) as GatewaySession;
  assert.equal(session.kind, 'confirm-sim.gateway-session');
  assert.deepEqual(session.runs, []);

  const missing = await spawnCli(['gateway', '--port', '0', '--json', join(dir, 'missing', 'gateway.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^confirm-sim: --json \S+gateway\.json: the folder \S+missing does not exist/);
  assert.equal(missing.stdout, '', 'no gateway was started');
});

test('report --json: the checked report (or ledger summary) as JSON, with or without --html; neither is a usage error', async (t) => {
  const merchant = await startMerchant({ port: 0, stock: 5, openOrders: true });
  t.after(() => merchant.close());
  const dir = await tempDir(t);
  const files = { json: join(dir, 'sale.json'), ledger: join(dir, 'sale.ndjson'), html: join(dir, 'sale.html'), copy: join(dir, 'copy.json') };
  const burst = await spawnCli(['burst', merchant.confirmUrl, '-n', '12', '-s', '5', '--json', files.json, '--ledger', files.ledger, '-q']);
  assert.equal(burst.code, 0, burst.stdout + burst.stderr);
  const original = JSON.parse(await readFile(files.json, 'utf8')) as BurstReport;

  const piped = await spawnCli(['report', files.json, '--json', '-', '--html', files.html]);
  assert.equal(piped.code, 0, piped.stderr);
  assert.deepEqual(JSON.parse(piped.stdout), original, 'the report as read and checked, unchanged');
  assert.match(piped.stderr, /^wrote \S+sale\.html \(\d+ KB\): PASS/m, 'what was written is said on stderr');
  assert.match(await readFile(files.html, 'utf8'), /^<!doctype html>/i);

  const saved = await spawnCli(['report', files.json, '--json', files.copy]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.match(saved.stdout, /^wrote \S+copy\.json: PASS/m);
  assert.equal((JSON.parse(await readFile(files.copy, 'utf8')) as BurstReport).verdict.pass, true);

  const ledger = await spawnCli(['report', files.ledger, '-s', '5', '--json', '-']);
  assert.equal(ledger.code, 0, ledger.stderr);
  const summary = JSON.parse(ledger.stdout) as { kind: string; requests: number; acceptedBuyers: number; stock: number };
  assert.deepEqual([summary.kind, summary.requests, summary.acceptedBuyers, summary.stock], ['confirm-sim.ledger', 12, 5, 5]);

  const neither = await spawnCli(['report', files.json]);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /^confirm-sim: report: say what to write: --html FILE .* and\/or --json <file\|->/);
  const same = await spawnCli(['report', files.json, '--json', files.html, '--html', files.html]);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /--json and --html both write/);
});
