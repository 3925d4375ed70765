import { test } from 'node:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { runCli } from './helpers/cli.js';
import { runDemo, type ManualConfirmDemoResult } from '../src/demo/index.js';

test('the demo shows the whole journey: the correct merchant passing and the flawed one caught', async () => {
  const run = await runCli(['demo', '--buyers', '400', '--stock', '30']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /the gateway in the loop: both merchants look every payment up through its V1 REST API; the PG declines 20% of the charges/);
  assert.match(run.stdout, /correct merchant\s+flaw: race/);
  assert.match(run.stdout, /fire: a known order\s+PROCEED HTTP 200 → paid\s+PROCEED HTTP 200 → paid/);
  assert.match(run.stdout, /then at the gateway\s+charge (approved|declined), (webhook delivered|no webhook)/);
  assert.match(run.stdout, /burst: 400 buyers, 30 stock\s+PASS\s+FAIL oversell/);
  assert.match(run.stdout, /declined by the PG \(20%\)\s+\d+\s+\d+/);
  const paid = /paid, against the stock\s+(\d+) of 30\s+(\d+) of 30/.exec(run.stdout);
  assert.ok(paid, run.stdout);
  assert.ok(Number(paid[1]) <= 30 && Number(paid[2]) > 30, 'the correct merchant sold at most its stock, the racy one more');
  assert.match(run.stdout, /check 13 releases-stock-on-decline\s+PASS\s+PASS/);
  assert.match(run.stdout, /check 9 first-come-burst\s+PASS\s+FAIL/);
  assert.match(run.stdout, /the "race" flaw was caught by burst \(oversell\)/);
});

test('a lenient merchant is caught by the contract cases, not by the burst', async () => {
  const result = await runDemo({ flaw: 'lenient', buyers: 400, stock: 30 });
  assert.equal(result.ok, true);
  if (result.flow !== 'confirm-process') assert.fail('the Confirm Process is the default flow');
  const [correct, flawed] = result.merchants;
  assert.ok(correct && flawed);
  assert.equal(correct.check.ok, true);
  assert.equal(flawed.burst.verdict.pass, true);
  assert.equal(flawed.fire.unknownOrder.decision.proceed, true, 'lenient answers 200 for an order it never issued');
  const failed = flawed.check.cases.filter((c) => c.status === 'failed').map((c) => c.id);
  // A wrong amount (case 4) is still refused: the merchant's lookup finds the gateway's amount differs from the order's.
  assert.deepEqual(failed, [3, 6]);
});

test('demo refuses an unknown flaw with one line and exit 2', async () => {
  const run = await runCli(['demo', '--flaw', 'sloppy']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--flaw: unknown flaw "sloppy"/);
  assert.equal(run.stderr.trim().split('\n').length, 1);
});

test('demo --flow manual-confirm: fire, burst and check; the correct completion endpoint passes everything, the confirm-first one is caught charging buyers it told "sold out"', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'confirm-sim-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const json = join(dir, 'demo.json');
  const run = await runCli(['demo', '--flow', 'manual-confirm', '--buyers', '200', '--stock', '20', '--json', json]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^confirm-sim demo --flow manual-confirm: a correct sample merchant beside one with the "confirm-first" flaw/);
  assert.match(run.stdout, /charge it with PortOne's SDK \(confirmPayment\) at the gateway in the loop, whose PG declines 20% of the confirms/);
  assert.match(run.stdout, /correct merchant\s+flaw: confirm-first/);
  assert.match(run.stdout, /fire: a known order\s+TOLD PAID HTTP 200 → paid\s+TOLD PAID HTTP 200 → paid\n  then at the gateway\s+1 confirm call, 1 charged\s+1 confirm call, 1 charged\n/);
  // The merchant sends its own order's amount as totalAmount, so the gateway refuses the tenth and charges nothing.
  assert.match(run.stdout, /fire: a tampered amount \(a tenth\)\s+TOLD NO HTTP 409 → ready\s+TOLD NO HTTP 409 → ready\n  then at the gateway\s+1 confirm call, 0 charged\s+1 confirm call, 0 charged\n/);
  assert.match(run.stdout, /burst: 200 buyers, 20 stock\s+PASS\s+FAIL (\S+, )*charged-refused/);
  const confirmed = /confirmed \(PAID\), against the stock\s+(\d+) of 20\s+(\d+) of 20/.exec(run.stdout);
  assert.ok(confirmed, run.stdout);
  assert.ok(Number(confirmed[1]) <= 20 && Number(confirmed[2]) > 20, 'the correct merchant confirmed at most its stock, the confirm-first one charged past it');
  const declined = /declined by the PG \(20%\)\s+(\d+)\s+(\d+)/.exec(run.stdout);
  assert.ok(declined && Number(declined[2]) > 0, 'the PG declined some of the confirm-first merchant\'s confirms');
  const chargedRefused = /charged, told no \(charged-refused\)\s+0\s+(\d+)/.exec(run.stdout);
  assert.ok(chargedRefused && Number(chargedRefused[1]) === Number(confirmed[2]) - 20, `every unit confirmed past the stock went to a buyer told no: ${run.stdout}`);
  const cases = [...run.stdout.matchAll(/^check (\d+) \S+\s+(PASS|FAIL|WARN|SKIP)\s+(PASS|FAIL|WARN|SKIP)$/gm)].map(([, id, correct, flawed]) => `${id} ${correct} ${flawed}`);
  assert.deepEqual(cases, ['15 PASS PASS', '16 PASS FAIL', '17 PASS PASS', '18 PASS PASS', '19 PASS PASS', '20 PASS FAIL'], run.stdout);
  assert.match(
    run.stdout,
    /the correct merchant passed everything; the "confirm-first" flaw was caught by burst \(oversell\), burst \(charged-refused\), (burst \(\S+\), )*check 16 sold-out-confirms-nothing, check 20 burst-confirms-stock\n/,
  );

  // --json has each merchant's fire and check results beside its burst report.
  const result = JSON.parse(await readFile(json, 'utf8')) as ManualConfirmDemoResult;
  assert.deepEqual([result.flow, result.expectedFindings, result.expectedCases], ['manual-confirm', ['charged-refused', 'oversell'], ['sold-out-confirms-nothing', 'burst-confirms-stock']]);
  const [correct, flawed] = result.merchants;
  assert.ok(correct && flawed);
  for (const merchant of [correct, flawed]) {
    assert.deepEqual([merchant.fire.knownOrder.told, merchant.fire.knownOrder.payment.status], ['paid', 'paid']);
    assert.deepEqual([merchant.fire.tamperedAmount.told, merchant.fire.tamperedAmount.payment.status], ['refused', 'ready']);
    assert.equal(merchant.fire.tamperedAmount.token.paymentToken, 'ptk_****', 'the token pays the payment: never shown');
  }
  assert.equal(correct.check.ok, true);
  assert.deepEqual(flawed.check.cases.filter((entry) => entry.status === 'failed').map((entry) => entry.name), result.expectedCases);
});

test('demo refuses a flaw of the other flow in one line, exit 2, both ways', async () => {
  for (const [args, message] of [
    [['--flow', 'manual-confirm', '--flaw', 'slow'], /^confirm-sim: --flaw: "slow" is a Confirm Process flaw; with --flow manual-confirm use one of confirm-first, race, double-confirm, no-release\n$/],
    [['--flaw', 'confirm-first'], /^confirm-sim: --flaw: "confirm-first" is a manual-confirm flaw and the demo plays the Confirm Process; add --flow manual-confirm, or use one of race, /],
    [['--flow', 'manual-confirm', '--dialect', 'v1'], /^confirm-sim: --dialect: manual confirm is PortOne V2's; give a V2 dialect/],
  ] as const) {
    const run = await runCli(['demo', ...args]);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1);
  }
});
