import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { parseScenario, scenarioCheckOptions, scenarioErrors, renderStarterYaml } from '../src/scenario/index.js';
import { UsageError } from '../src/util/errors.js';
import { startGateway } from '../src/gateway/index.js';
import { startCompletionMerchant } from './helpers/completion-merchant.js';
import { runCli } from './helpers/cli.js';

// A scenario file sets the flow and manual confirm's settings (body template, success statuses, token
// lifetime) and the gateway, checked as their flags are: a bad value is one line naming its place, exit 2.

const API_SECRET = 'test-api-secret-mcflow';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'confirm-sim-scenario-mc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const MANUAL = {
  flow: 'manual-confirm',
  target: { url: 'http://127.0.0.1:3000/payment/complete', dialect: 'v2-2024-04-25' },
  gateway: { url: 'http://127.0.0.1:4000', settle: '500ms' },
  manualConfirm: { body: '{"paymentId":"{paymentId}","token":"{paymentToken}","n":{n}}', successStatus: '200,201', tokenLifetime: '90s' },
  cases: [{ name: 'burst-confirms-stock', buyers: 12, stock: 4 }, { name: 'decline-gives-stock-back', skip: 'no webhook here' }],
};

test('flow, gateway and manualConfirm become the check options their flags give', () => {
  const options = scenarioCheckOptions(parseScenario(JSON.stringify(MANUAL), 's.json'), {}, 's.json');
  assert.equal(options.flow, 'manual-confirm');
  assert.equal(options.gateway, 'http://127.0.0.1:4000');
  assert.equal(options.settleMs, 500);
  assert.equal(options.body, MANUAL.manualConfirm.body);
  assert.deepEqual(options.successStatus, { text: '200,201', ranges: [200, 200, 201, 201] });
  assert.equal(options.tokenLifetimeMs, 90_000);
  assert.deepEqual(options.burst, { buyers: 12, stock: 4 });
  assert.deepEqual(options.skipReasons, { 'decline-gives-stock-back': 'no webhook here' });
});

test('a bad flow, template, status list or lifetime in a scenario is one line naming its place', () => {
  const load = (change: Record<string, unknown>): Partial<ReturnType<typeof scenarioCheckOptions>> =>
    scenarioCheckOptions(parseScenario(JSON.stringify({ ...MANUAL, ...change }), 's.json'), {}, 's.json');
  const refused = (change: Record<string, unknown>, pattern: RegExp): void => {
    assert.throws(() => load(change), (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, pattern);
      assert.equal(error.message.split('\n').length, 1, error.message);
      return true;
    });
  };
  refused({ flow: 'manual' }, /^s\.json: \/flow: must be equal to one of the allowed values: confirm-process, manual-confirm$/);
  refused({ manualConfirm: { body: '{"t":"{token}"}' } }, /^s\.json: \/manualConfirm\/body: \{token\} is not a placeholder; use \{paymentId\}/);
  refused({ manualConfirm: { body: '{"paymentToken": {paymentToken}' } }, /^s\.json: \/manualConfirm\/body: /);
  refused({ manualConfirm: { successStatus: 'ok' } }, /^s\.json: \/manualConfirm\/successStatus: "ok" is not a set of HTTP statuses/);
  refused({ manualConfirm: { tokenLifetime: '10' } }, /^s\.json: \/manualConfirm\/tokenLifetime: /);
  refused({ manualConfirm: { tokenLifetime: '0s' } }, /^s\.json: \/manualConfirm\/tokenLifetime: "0s" is not a lifetime above 0/);
  refused({ manualConfirm: { tokenPeriod: '1m' } }, /^s\.json: \/manualConfirm: has no field "tokenPeriod"/);
  refused({ gateway: { url: 'localhost:4000' } }, /^s\.json: \/gateway\/url: must be an http:\/\/ or https:\/\/ URL$/);
  refused({ flow: 'confirm-process' }, /^s\.json: \/manualConfirm: is for flow manual-confirm; set \/flow to manual-confirm/);
  // A --flow flag decides which flow runs, so it decides whether manualConfirm belongs.
  assert.throws(() => scenarioCheckOptions(parseScenario(JSON.stringify(MANUAL), 's.json'), {}, 's.json', { flow: 'confirm-process' }), /is for flow manual-confirm/);
  const { flow: _flow, ...withoutFlow } = MANUAL;
  assert.equal(scenarioCheckOptions(parseScenario(JSON.stringify(withoutFlow), 's.json'), {}, 's.json', { flow: 'manual-confirm' }).tokenLifetimeMs, 90_000);
});

test("the starter's commented gateway and manualConfirm lines, uncommented, make a valid manual-confirm scenario", () => {
  const text = renderStarterYaml('./schema.json');
  const uncommented = text
    .replace(/^flow: confirm-process$/m, 'flow: manual-confirm')
    .replace(/^  dialect: v1$/m, '  dialect: v2-2024-04-25')
    .replace(/^# (gateway:|manualConfirm:|  [a-zA-Z]+: .*)$/gm, '$1');
  const scenario = YAML.parse(uncommented) as Record<string, unknown>;
  assert.deepEqual(scenarioErrors(scenario), []);
  assert.deepEqual(Object.keys(scenario.manualConfirm as object), ['body', 'successStatus', 'tokenLifetime']);
  const options = scenarioCheckOptions(scenario as never, {}, 'starter.yaml');
  assert.equal(options.flow, 'manual-confirm');
  assert.equal(options.gateway, 'http://127.0.0.1:4000');
  assert.equal(options.tokenLifetimeMs, 600_000);
});

test('check --scenario runs manual confirm from the file: its body, success statuses and token lifetime reach the run', async (t) => {
  const gateway = await startGateway({ port: 0, apiSecret: API_SECRET });
  const merchant = await startCompletionMerchant({ gateway: gateway.url, apiSecret: API_SECRET, stock: 20, flaw: 'none' });
  t.after(async () => {
    await merchant.close();
    await gateway.close();
  });
  const dir = tempDir(t);
  const file = join(dir, 'confirm-sim.yaml');
  const write = (manualConfirm: Record<string, string>): void =>
    writeFileSync(
      file,
      YAML.stringify({
        flow: 'manual-confirm',
        target: { url: merchant.url, dialect: 'v2-2024-04-25' },
        hooks: { order: merchant.orderUrl, reset: merchant.resetUrl, stock: merchant.stockUrl },
        gateway: { url: gateway.url, settle: '300ms' },
        manualConfirm,
      }),
    );
  const case15 = async (): Promise<{ code: number; status: string; message: string }> => {
    const run = await runCli(['check', '--scenario', file, '--grep', '^15 ', '--reporter', 'json']);
    assert.notEqual(run.code, 2, run.stderr);
    const result = JSON.parse(run.stdout) as { flow: string; cases: { status: string; message: string }[] };
    assert.equal(result.flow, 'manual-confirm');
    return { code: run.code, ...result.cases[0]! };
  };

  write({ body: '{"paymentId":"{paymentId}","paymentToken":"{paymentToken}","txId":"{txId}","buyer":{n}}', successStatus: '200', tokenLifetime: '10m' });
  assert.deepEqual(await case15().then(({ code, status }) => [code, status]), [0, 'passed']);

  // The merchant answers 200: a success status of 201 turns its paid buyer into one told no while charged.
  write({ successStatus: '201' });
  const strict = await case15();
  assert.equal(strict.status, 'failed', strict.message);

  // A 1 ms lifetime: the token is spent by the time the merchant confirms, so nothing is charged.
  write({ tokenLifetime: '1ms' });
  const expired = await case15();
  assert.equal(expired.status, 'failed', expired.message);
  assert.match(expired.message, /INVALID_PAYMENT_TOKEN.*holds the payment ready/);

  // --list shows the file's flow's cases.
  const listed = await runCli(['check', '--scenario', file, '--list']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /completes-known-order/);
  assert.doesNotMatch(listed.stdout, /confirms-known-order/);

  writeFileSync(file, readFileSync(file, 'utf8').replace('tokenLifetime: 1ms', 'tokenLifetime: 5'));
  const bad = await runCli(['check', '--scenario', file]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /\/manualConfirm\/tokenLifetime: /);
});
