import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/cli.js';
import { runDemo } from '../src/demo/index.js';

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
