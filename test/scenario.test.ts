import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { DIALECTS } from '../src/protocol/index.js';
import { CASE_NAMES, CHECK_DEFAULTS } from '../src/contract/index.js';
import { MANUAL_CONFIRM_CASE_NAMES } from '../src/contract/types.js';
import { parseScenario, scenarioErrors, scenarioSchema, starterScenario } from '../src/scenario/index.js';
import { startMerchant } from '../src/merchants/index.js';
import { runCli } from './helpers/cli.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'confirm-sim-scenario-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('init writes a commented YAML starter that validates against the shipped schema', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'confirm-sim.yaml');
  const run = await runCli(['init', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /npx confirm-sim check --scenario .*confirm-sim\.yaml/);
  const text = readFileSync(out, 'utf8');
  assert.deepEqual(scenarioErrors(YAML.parse(text)), []);
  assert.deepEqual(YAML.parse(text), starterScenario());
  assert.match(text, /^# yaml-language-server: \$schema=.*node_modules\/confirm-sim\/schema\/scenario\.schema\.json$/m);
  // Every field, and every case entry, carries its explanation in the comment line just above it.
  const lines = text.split('\n');
  const keyLines = lines.map((line, index) => ({ line, index })).filter(({ line }) => /^\s*(- )?[a-zA-Z0-9]+:/.test(line));
  assert.ok(keyLines.length > 30);
  for (const { line, index } of keyLines) assert.match(lines[index - 1]!, /^\s*#/, `"${line.trim()}" has a comment above it`);
  assert.match(text, /# secretEnv: PORTONE_WEBHOOK_SECRET/);
});

test('init --format json writes JSON with a $schema reference that validates too', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'sub'));
  const out = join(dir, 'sub', 'confirm-sim.json');
  const run = await runCli(['init', '--format', 'json', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const scenario = parseScenario(readFileSync(out, 'utf8'), out);
  // Relative to the file, so an editor opening it finds the schema installed in the project it was written from.
  assert.equal(resolve(dirname(out), scenario.$schema!), resolve('node_modules/confirm-sim/schema/scenario.schema.json'));
  assert.equal(scenario.budgets?.p99, '1s');
  assert.equal(scenario.product?.stock, CHECK_DEFAULTS.productStock);
});

test('init refuses to overwrite without --force', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'confirm-sim.yaml');
  writeFileSync(out, 'mine\n');
  const refused = await runCli(['init', '--out', out]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /already exists; pass --force/);
  assert.equal(readFileSync(out, 'utf8'), 'mine\n');
  const forced = await runCli(['init', '--out', out, '--force']);
  assert.equal(forced.code, 0);
  assert.notEqual(readFileSync(out, 'utf8'), 'mine\n');
  assert.equal((await runCli(['init', '--format', 'toml', '--out', join(dir, 'x')])).code, 2);
});

test('schema errors name the JSON pointer of each bad value', () => {
  const errors = scenarioErrors({
    target: { url: 'ftp://merchant', dialect: 'v3', timeout: 'soon' },
    hookz: {},
    budgets: { p99: true },
    cases: [{ name: 'latency-under-load' }, { name: 'first-come-burst' }, { name: 'no-such-case' }, { name: 'first-come-burst', buyers: 2.5 }, { name: 'refuses-sold-out', buyers: 3 }],
  });
  assert.deepEqual(errors, [
    '(top level): has no field "hookz"; check its spelling (see confirm-sim init for every field)',
    '/target/url: must be an http:// or https:// URL',
    `/target/dialect: must be equal to one of the allowed values: ${DIALECTS.join(', ')}`,
    '/target/timeout: "soon" is not a duration; use e.g. 500ms, 5s or 2m',
    '/budgets/p99: true is not a duration; use e.g. 500ms, 5s or 2m',
    `/cases/2/name: "no-such-case" is not a case; use one of ${CASE_NAMES.join(', ')}`,
    '/cases/3/buyers: must be integer',
    '/cases/4: has no field "buyers"; check its spelling (see confirm-sim init for every field)',
  ]);
  assert.deepEqual(scenarioErrors({ cases: [{ name: 'first-come-burst' }, { name: 'first-come-burst', buyers: 40 }] }), [
    '/cases/1/name: first-come-burst is already set at /cases/0; merge the two entries',
  ]);
});

test('a pasted secret is refused without being repeated', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const errors = scenarioErrors({ target: { secretEnv: secret } });
  assert.deepEqual(errors, ["/target/secretEnv: looks like the secret itself; put the secret in an environment variable and give the variable's NAME here"]);
  assert.ok(!errors.join('').includes('MfKQ9r8G'));
});

test('the schema lists exactly the cases the runner has', () => {
  const schema = scenarioSchema() as { properties: { cases: { items: { oneOf: { properties: { name: { const: string } } }[] } } } };
  assert.deepEqual(schema.properties.cases.items.oneOf.map((branch) => branch.properties.name.const), [...CASE_NAMES, ...MANUAL_CONFIRM_CASE_NAMES]);
});

test('an invalid scenario file exits 2 with one line per error, naming the file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'confirm-sim.yaml');
  writeFileSync(file, 'target:\n  url: 3\ncases:\n  - name: first-come-burst\n    buyers: many\n');
  const run = await runCli(['check', '--scenario', file]);
  assert.equal(run.code, 2);
  assert.equal(run.stderr, `confirm-sim: ${file}: /target/url: must be string\n${file}: /cases/0/buyers: must be integer\n`);

  writeFileSync(file, 'target: [unclosed\n');
  const broken = await runCli(['check', '--scenario', file]);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /confirm-sim\.yaml: not valid YAML: /);

  const json = join(dir, 'confirm-sim.json');
  writeFileSync(json, '{"target": {"url": }');
  assert.match((await runCli(['check', '--scenario', json])).stderr, /confirm-sim\.json: not valid JSON: /);
  assert.match((await runCli(['check', '--scenario', join(dir, 'missing.yaml')])).stderr, /cannot read it \(ENOENT\)/);
  writeFileSync(join(dir, 'scenario.txt'), '{}');
  assert.match((await runCli(['check', '--scenario', join(dir, 'scenario.txt')])).stderr, /must end in \.json, \.yaml, \.yml/);
});

test('a scenario drives the check; its skips are reported with their reason, and flags override it', async (t) => {
  const merchant = await startMerchant({ stock: 50 });
  t.after(() => merchant.close());
  const dir = tempDir(t);
  const file = join(dir, 'confirm-sim.yaml');
  writeFileSync(
    file,
    YAML.stringify({
      target: { url: merchant.confirmUrl, dialect: 'v1-amount', timeout: '2s' },
      hooks: { order: merchant.orderUrl, reset: merchant.resetUrl, stock: merchant.stockUrl },
      product: { stock: 5 },
      cases: [{ name: 'idempotent-repeat', skip: 'covered by our own suite' }, { name: 'confirms-known-order', skip: true }],
    }),
  );
  const run = await runCli(['check', '--scenario', file, '--grep', '^[1-5] ', '--reporter', 'json']);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { target: { dialect: string; timeoutMs: number }; cases: { name: string; status: string; message: string }[] };
  assert.equal(result.target.dialect, 'v1-amount');
  assert.equal(result.target.timeoutMs, 2000);
  assert.deepEqual(result.cases.map((c) => `${c.name} ${c.status}`), [
    'confirms-known-order skipped',
    'refuses-sold-out passed',
    'refuses-unknown-order passed',
    'refuses-wrong-amount passed',
    'idempotent-repeat skipped',
  ]);
  assert.equal(result.cases[4]!.message, 'covered by our own suite');
  assert.match(result.cases[0]!.message, /skipped by .*confirm-sim\.yaml/);

  const overridden = await runCli(['check', '--scenario', file, '--grep', 'sold-out', '--dialect', 'v1', '--reporter', 'json']);
  assert.equal((JSON.parse(overridden.stdout) as { target: { dialect: string } }).target.dialect, 'v1');
});

test('a scenario naming an unset secret variable stops with exit 2', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'confirm-sim.json');
  writeFileSync(file, JSON.stringify({ target: { url: 'http://127.0.0.1:1/confirm', dialect: 'v2-2024-04-25', secretEnv: 'CONFIRM_SIM_UNSET_SECRET' } }));
  const run = await runCli(['check', '--scenario', file], { env: { NO_COLOR: '1' } });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /\/target\/secretEnv: the environment variable CONFIRM_SIM_UNSET_SECRET is not set/);

  // A --secret-env flag replaces the scenario's variable, so that one need not be set.
  const overridden = await runCli(['check', '--scenario', file, '--secret-env', 'SHOP_SECRET', '--grep', 'confirms-known', '--reporter', 'json'], {
    env: { NO_COLOR: '1', SHOP_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  });
  assert.equal(overridden.code, 1, overridden.stderr);
  assert.equal((JSON.parse(overridden.stdout) as { target: { secret: string } }).target.secret, 'whsec_****');
});
