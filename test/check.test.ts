import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfirmBody, parseWebhookSecret } from '../src/protocol/index.js';
import { startMerchant, type Flaw, type RunningMerchant } from '../src/merchants/index.js';
import { SignatureGuard } from '../src/merchants/signature.js';
import { CASE_NAMES, CheckRunner, runCheck, type CaseName, type CheckOptions, type CheckResult } from '../src/contract/index.js';
import { renderJunit } from '../src/reporters/junit.js';
import { runCli } from './helpers/cli.js';

const SECRET_TEXT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET_KEY_BASE64 = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET = parseWebhookSecret(SECRET_TEXT);
const DIALECT = 'v2-2024-04-25';
/** The slow flaw's answers come after the check's timeout, as the real one's 6 s come after the gateway's 5 s. */
const TIMEOUT_MS = 1_000;
const SLOW_DELAY_MS = 1_500;

/** A sample merchant with the test's secret; `unsigned: true` starts one without, for the V1 (never signed) runs. */
async function merchant(t: TestContext, flaw?: Flaw, extra: { openOrders?: boolean; unsigned?: boolean } = {}): Promise<RunningMerchant> {
  const { unsigned = false, ...options } = extra;
  const running = await startMerchant({ stock: 50, flaw, secret: unsigned ? undefined : SECRET, slowDelayMs: SLOW_DELAY_MS, ...options });
  t.after(() => running.close());
  return running;
}

function allHooks(running: RunningMerchant): Pick<CheckOptions, 'orderUrl' | 'resetUrl' | 'stockUrl' | 'webhookUrl'> {
  return { orderUrl: running.orderUrl, resetUrl: running.resetUrl, stockUrl: running.stockUrl, webhookUrl: running.webhookUrl };
}

/** The same settings for every row of the table, short enough for CI; only the merchant changes. */
function tableOptions(running: RunningMerchant): CheckOptions {
  return {
    url: running.confirmUrl,
    dialect: DIALECT,
    secret: SECRET,
    ...allHooks(running),
    timeoutMs: TIMEOUT_MS,
    releaseBudgetMs: 500,
    load: { connections: 10, durationMs: 500 },
  };
}

function namesWith(result: CheckResult, status: string): CaseName[] {
  return result.cases.filter((caseResult) => caseResult.status === status).map((caseResult) => caseResult.name);
}

const TABLE: { flaw: Flaw | undefined; breaks: CaseName[] }[] = [
  { flaw: undefined, breaks: [] },
  { flaw: 'lenient', breaks: ['refuses-unknown-order', 'refuses-wrong-amount', 'survives-bad-input'] },
  { flaw: 'double', breaks: ['idempotent-repeat'] },
  { flaw: 'race', breaks: ['first-come-burst'] },
  // Answers after the gateway's timeout fail the load case and, in the burst, leave buyers timed out and stock stranded.
  { flaw: 'slow', breaks: ['latency-under-load', 'first-come-burst'] },
  { flaw: 'leak', breaks: ['releases-stock-on-failure'] },
];

test('the correct merchant keeps every case; each flawed one breaks exactly the cases its flaw breaks', async (t) => {
  for (const row of TABLE) {
    await t.test(row.flaw ?? 'correct', async (t) => {
      const result = await runCheck(tableOptions(await merchant(t, row.flaw)));
      assert.equal(result.schemaVersion, 2);
      assert.equal(result.summary.total, CASE_NAMES.length, 'every case ran');
      assert.deepEqual(namesWith(result, 'failed'), row.breaks, JSON.stringify(result.cases.map(({ name, message }) => ({ name, message })), null, 2));
      // The gateway cases need check --gateway (test/journey-check.test.ts); without one they say so and skip.
      const needGateway = ['refuses-forged-confirm', 'refuses-tampered-amount', 'releases-stock-on-decline', 'webhook-replay'];
      assert.deepEqual(namesWith(result, 'skipped'), needGateway);
      assert.deepEqual(
        namesWith(result, 'passed'),
        CASE_NAMES.filter((name) => !row.breaks.includes(name) && !needGateway.includes(name)),
      );
      assert.equal(result.ok, row.breaks.length === 0);
      for (const failed of result.cases.filter((caseResult) => caseResult.status === 'failed')) {
        assert.match(failed.message, /the contract wants/, `${failed.name} says what the contract wants`);
      }
    });
  }
});

/**
 * The hole case 7 must catch: signatures are checked only on V2-shaped bodies. This front verifies V2 bodies
 * itself and passes everything else on to a sample merchant that has no secret, so an unsigned V1-shaped body
 * (imp_uid, merchant_uid, amount) confirms a real order and takes its stock.
 */
async function checksOnlyV2Bodies(t: TestContext, inner: RunningMerchant): Promise<string> {
  const guard = new SignatureGuard(SECRET);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let v2Shaped = false;
      try {
        v2Shaped = parseConfirmBody(JSON.parse(text))?.dialect === 'v2';
      } catch {
        // Not JSON: the inner merchant refuses it.
      }
      const check = v2Shaped ? guard.check(text, req.headers) : null;
      if (check !== null && (!check.ok || !check.firstDelivery)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errorMessage: 'bad signature' }));
        return;
      }
      fetch(inner.confirmUrl, { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: text })
        .then(async (answer) => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text()))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/confirm`;
}

test('case 7 fails a merchant that checks signatures only on V2-shaped bodies, or not at all', async (t) => {
  const inner = await merchant(t, undefined, { unsigned: true });
  const front = await checksOnlyV2Bodies(t, inner);
  const holed = await runCheck({ ...tableOptions(inner), url: front, grep: /signatures/ });
  assert.equal(holed.cases[0]!.status, 'failed', holed.cases[0]!.message);
  assert.match(holed.cases[0]!.message, /^unsigned V1-shaped body \(imp_uid, merchant_uid, amount\) → HTTP 200; the contract wants/);

  const noSecret = await runCheck({ ...tableOptions(await merchant(t, undefined, { unsigned: true })), grep: /signatures/ });
  assert.equal(noSecret.cases[0]!.status, 'failed');
  assert.match(noSecret.cases[0]!.message, /unsigned → HTTP 200; unsigned V1-shaped body .* → HTTP 200;/);
});

test('failure messages say what was sent, what came back and what the contract wants', async (t) => {
  const running = await merchant(t, 'lenient');
  const result = await runCheck({ ...tableOptions(running), grep: /unknown-order|wrong-amount/ });
  const [unknown, amount] = result.cases;
  assert.match(unknown!.message, /sent a confirm for paymentId "cs-[a-z0-9]+-3-\d+".*never created through the order hook; got HTTP 200; the contract wants a refusal/);
  assert.match(amount!.message, /sent amount 999 for paymentId ".*" whose amount is 1000 and got HTTP 200/);
});

test('without hooks, cases that need them are skipped with the reason, never passed', async (t) => {
  const running = await merchant(t, undefined, { openOrders: true, unsigned: true });
  const result = await runCheck({ url: running.confirmUrl, grep: /^[1-7] / });
  const skipped = Object.fromEntries(result.cases.filter((c) => c.status === 'skipped').map((c) => [c.name, c.message]));
  assert.deepEqual(Object.keys(skipped), ['refuses-sold-out', 'refuses-unknown-order', 'refuses-wrong-amount', 'idempotent-repeat', 'rejects-bad-signatures']);
  assert.match(skipped['refuses-unknown-order']!, /needs `orderUrl`/);
  assert.match(skipped['refuses-wrong-amount']!, /needs `orderUrl`, or `product.price`/);
  assert.match(skipped['idempotent-repeat']!, /needs `stockUrl`/);
  assert.match(skipped['rejects-bad-signatures']!, /V1 confirm calls are not signed/);
  assert.deepEqual(namesWith(result, 'passed'), ['confirms-known-order', 'survives-bad-input']);

  const priced = await runCheck({ url: running.confirmUrl, product: { price: 1000, priceKnown: true }, grep: /wrong-amount/ });
  assert.equal(priced.cases[0]!.status, 'passed', 'an open-orders merchant with a known price is checked for wrong amounts');
});

test('with only the order hook and the stock probe, the load spares the stock and the burst, which would sell it all, is skipped', async (t) => {
  const running = await merchant(t, undefined, { unsigned: true });
  const result = await runCheck({
    url: running.confirmUrl,
    orderUrl: running.orderUrl,
    stockUrl: running.stockUrl,
    load: { connections: 5, durationMs: 300 },
    grep: /latency|burst/,
  });
  assert.deepEqual(result.cases.map((c) => c.status), ['passed', 'skipped'], JSON.stringify(result.cases, null, 2));
  assert.match(result.cases[1]!.message, /needs the reset hook/);
  assert.equal(running.stock(), 45, 'the 50 units less one repeated order per load connection');
});

test('a merchant that is down fails the cases, it does not crash the check', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const result = await runCheck({ url: `http://127.0.0.1:${port}/confirm`, grep: /known-order/ });
  assert.equal(result.cases[0]!.status, 'failed');
  assert.match(result.cases[0]!.message, /no answer after .*refused/);
});

/** A merchant whose stock probe answers garbage and who refuses without a reason: hooks and warnings under test. */
async function quietMerchant(t: TestContext): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/stock') res.writeHead(200).end('lots');
      else if (req.url === '/reset') res.writeHead(204).end();
      else res.writeHead(409).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('case 8 fails when most confirms were refused: it timed the refusal, not the write', async (t) => {
  // No order hook and no open orders: every confirm is for an order the merchant never heard of.
  const running = await merchant(t, undefined, { unsigned: true });
  const result = await runCheck({ url: running.confirmUrl, load: { connections: 5, durationMs: 300 }, grep: /latency/ });
  const [load] = result.cases;
  assert.equal(load!.status, 'failed', load!.message);
  assert.match(load!.message, /(\d+) confirms answered 404 ×\1; the latency case needs accepted confirms: give the order hook \(--order-url\)/);
  assert.match(load!.message, /the contract wants/);
});

test('case 8 stops every lane at the first error and sends nothing after the case ends', async (t) => {
  // Confirms answer 200; the order hook fails its 5th order only, so one lane errs while the others could go on.
  let orders = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/orders') {
        orders++;
        if (orders === 5) res.writeHead(500).end('broken');
        else res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      } else if (req.url === '/reset') {
        res.writeHead(204).end();
      } else {
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 20);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const started = performance.now();
  const result = await runCheck({
    url: `${base}/confirm`,
    orderUrl: `${base}/orders`,
    resetUrl: `${base}/reset`,
    load: { connections: 4, durationMs: 2_000 },
    grep: /latency/,
  });
  assert.equal(result.cases[0]!.status, 'failed');
  assert.match(result.cases[0]!.message, /the order hook .* answered HTTP 500/);
  assert.ok(performance.now() - started < 1_500, 'the case ended at the error, not at the load deadline');
  const atEnd = orders;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(orders, atEnd, 'no lane kept creating orders after the case ended');
});

test('a refusal without a reason is a warning, and a failure with --strict', async (t) => {
  const base = await quietMerchant(t);
  const args = ['check', `${base}/confirm`, '--reset-url', `${base}/reset`, '--grep', 'sold-out'];
  const lenient = await runCli(args);
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.match(lenient.stdout, /WARN 2 refuses-sold-out/);
  assert.match(lenient.stdout, /without a "reason".*상세사유 : 알 수 없음/);
  const strict = await runCli([...args, '--strict']);
  assert.equal(strict.code, 1);
  assert.match(strict.stdout, /FAIL 2 refuses-sold-out[\s\S]*a failure under --strict/);
});

test('a hook that misbehaves fails the case with the hook named', async (t) => {
  const base = await quietMerchant(t);
  const result = await runCheck({ url: `${base}/confirm`, stockUrl: `${base}/stock`, grep: /known-order/ });
  assert.equal(result.cases[0]!.status, 'failed');
  assert.match(result.cases[0]!.message, /could not set the case up: the stock probe .*\/stock answered HTTP 200 lots; it must answer 200 with a number or \{"stock": n\}/);
});

test('--bail stops at the first failure and reports the rest as skipped', async (t) => {
  const running = await merchant(t, 'lenient');
  const result = await runCheck({ ...tableOptions(running), grep: /^[1-5] /, bail: true });
  assert.deepEqual(
    result.cases.map(({ name, status }) => `${name} ${status}`),
    ['confirms-known-order passed', 'refuses-sold-out passed', 'refuses-unknown-order failed', 'refuses-wrong-amount skipped', 'idempotent-repeat skipped'],
  );
  assert.match(result.cases[3]!.message, /`bail` stopped the check after case 3 refuses-unknown-order failed/);
});

test('the runner emits start, case:start, case:end and done in order', async (t) => {
  const running = await merchant(t);
  const runner = new CheckRunner({ ...tableOptions(running), grep: /^[12] / });
  const seen: string[] = [];
  runner.on('start', ({ cases }) => seen.push(`start ${cases.length}`));
  runner.on('case:start', ({ id }) => seen.push(`start ${id}`));
  runner.on('case:end', ({ id, status }) => seen.push(`end ${id} ${status}`));
  runner.on('done', ({ summary }) => seen.push(`done ${summary.passed}`));
  await runner.run();
  assert.deepEqual(seen, ['start 2', 'start 1', 'end 1 passed', 'start 2', 'end 2 passed', 'done 2']);
});

/** Reads back what CI servers read from a JUnit file: each testcase's name and what it contains. */
function parseJunit(xml: string): { name: string; failure: string | null; skipped: boolean }[] {
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
  return [...xml.matchAll(/<testcase classname="confirm-sim\.check" name="([^"]+)" time="[\d.e-]+"(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map(
    (match) => ({
      name: match[1]!,
      failure: /<failure message="([^"]*)" type="contract"/.exec(match[2] ?? '')?.[1] ?? null,
      skipped: /<skipped\/>/.test(match[2] ?? ''),
    }),
  );
}

test('--reporter junit writes one testcase per case, failures and skips included, and exits 1 on a failure', async (t) => {
  const running = await merchant(t, 'lenient', { unsigned: true });
  const dir = mkdtempSync(join(tmpdir(), 'confirm-sim-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'reports'));
  const out = join(dir, 'reports', 'confirm-sim.xml');
  const run = await runCli([
    'check', running.confirmUrl, '--order-url', running.orderUrl, '--reset-url', running.resetUrl, '--stock-url', running.stockUrl,
    '--skip', 'latency|burst|release|forged|tampered|replay', '--reporter', 'cli', '--reporter', 'junit', '--out', out,
  ]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stdout, /FAIL 3 refuses-unknown-order/);
  const xml = readFileSync(out, 'utf8');
  const cases = parseJunit(xml);
  assert.deepEqual(cases.map((c) => c.name), ['1 confirms-known-order', '2 refuses-sold-out', '3 refuses-unknown-order', '4 refuses-wrong-amount', '5 idempotent-repeat', '6 survives-bad-input', '7 rejects-bad-signatures']);
  assert.deepEqual(cases.filter((c) => c.failure !== null).map((c) => c.name), ['3 refuses-unknown-order', '4 refuses-wrong-amount', '6 survives-bad-input']);
  assert.match(cases[2]!.failure!, /never created through the order hook; got HTTP 200/);
  assert.deepEqual(cases.filter((c) => c.skipped).map((c) => c.name), ['7 rejects-bad-signatures']);
  assert.match(xml, /<testsuites tests="7" failures="3" errors="0" skipped="1">/);
  assert.match(xml, /skipped: V1 confirm calls are not signed/);
});

test('--reporter json prints the result and nothing else on stdout', async (t) => {
  const running = await merchant(t, undefined, { unsigned: true });
  const run = await runCli(['check', running.confirmUrl, '--order-url', running.orderUrl, '--grep', 'known-order|unknown', '--reporter', 'json']);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as CheckResult;
  assert.equal(result.schemaVersion, 2);
  assert.deepEqual(result.cases.map((c) => `${c.id} ${c.status}`), ['1 passed', '3 passed']);
  assert.equal(typeof result.cases[0]!.durationMs, 'number');
});

test('secrets never appear in any report', async (t) => {
  const running = await merchant(t);
  const dir = mkdtempSync(join(tmpdir(), 'confirm-sim-secret-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = await runCli(
    ['check', running.confirmUrl, '--dialect', DIALECT, '--secret-env', 'CONFIRM_SIM_TEST_SECRET', '--order-url', running.orderUrl,
      '--stock-url', running.stockUrl, '--grep', 'signatures', '--reporter', 'cli', '--reporter', 'json', '--reporter', 'junit',
      '--out', `json=${join(dir, 'r.json')}`, '--out', `junit=${join(dir, 'r.xml')}`],
    { env: { ...process.env, NO_COLOR: '1', CONFIRM_SIM_TEST_SECRET: SECRET_TEXT } },
  );
  assert.equal(run.code, 0, run.stdout);
  const json = readFileSync(join(dir, 'r.json'), 'utf8');
  assert.match(json, /"secret": "whsec_\*\*\*\*"/);
  for (const text of [run.stdout, run.stderr, json, readFileSync(join(dir, 'r.xml'), 'utf8')]) {
    assert.ok(!text.includes(SECRET_KEY_BASE64), 'the secret key is not in the output');
  }
});

test('usage mistakes exit 2 with one line naming the problem', async () => {
  const cases: [string[], RegExp][] = [
    [['check', 'http://127.0.0.1:1/confirm', '--grep', 'no-such-case'], /--grep no-such-case: matches no case; the cases are 1 confirms-known-order/],
    [['check', 'http://127.0.0.1:1/confirm', '--skip', 'typo'], /--skip typo: matches no case/],
    [['check', 'http://127.0.0.1:1/confirm', '--reporter', 'json', '--reporter', 'junit'], /json and junit would all write to stdout/],
    [['check', 'http://127.0.0.1:1/confirm', '--out', 'x.xml'], /--out x.xml: no json or junit reporter left/],
    [['check', 'http://127.0.0.1:1/confirm', '--reporter', 'tap'], /--reporter: unknown reporter "tap"/],
    [['check'], /no confirm URL/],
    [['check', 'http://127.0.0.1:1/confirm', '--secret-env', 'CONFIRM_SIM_UNSET_VARIABLE'], /CONFIRM_SIM_UNSET_VARIABLE is not set/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, { env: { NO_COLOR: '1' } });
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
});

test('check --list documents every case in order', async () => {
  const run = await runCli(['check', '--list']);
  assert.equal(run.code, 0);
  const listed = [...run.stdout.matchAll(/^(\d+) ([a-z-]+) {2}/gm)].map((match) => match[2]);
  assert.deepEqual(listed, [...CASE_NAMES]);
});

test('renderJunit escapes what merchants send into valid XML text', () => {
  const xml = renderJunit({
    schemaVersion: 2,
    ok: false,
    target: { url: 'http://127.0.0.1:1/confirm', dialect: 'v1', secret: null, timeoutMs: 5000 },
    gateway: null,
    hooks: {},
    strict: false,
    interrupted: false,
    startedAt: new Date(0).toISOString(),
    durationMs: 1,
    summary: { total: 1, passed: 0, failed: 1, warning: 0, skipped: 0 },
    cases: [{ id: 1, name: 'confirms-known-order', title: 't', status: 'failed', durationMs: 1, message: 'got <b>"x" & ]]>', details: { body: ']]>' } }],
  });
  assert.match(xml, /message="got &lt;b>&quot;x&quot; &amp; ]]>"/);
  assert.equal(parseJunit(xml).length, 1);
});
