import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/cli.js';
import { runDemo } from '../src/demo/index.js';

test('the demo shows the correct merchant passing and the flawed one caught', async () => {
  const run = await runCli(['demo', '--buyers', '600', '--stock', '40']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /correct merchant\s+flaw: race/);
  assert.match(run.stdout, /burst: 600 buyers, 40 stock\s+PASS\s+FAIL oversell/);
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
  assert.deepEqual(failed, [3, 4, 6]);
});

test('demo refuses an unknown flaw with one line and exit 2', async () => {
  const run = await runCli(['demo', '--flaw', 'sloppy']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--flaw: unknown flaw "sloppy"/);
  assert.equal(run.stderr.trim().split('\n').length, 1);
});
