import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGateway } from '../src/gateway/index.js';
import { runCli } from './helpers/cli.js';
import { startCompletionSale, type CompletionFlaw, type CompletionMerchant } from './helpers/completion-merchant.js';

// The CLI's --flow manual-confirm: fire shows the completion answer and what the gateway holds afterwards,
// burst and check take the flow's flags, and every misuse is one line and exit 2.

const API_SECRET = 'test-api-secret-mcload-cli';

function rig(t: TestContext, flaw: CompletionFlaw = 'none', stock = 5): Promise<{ gateway: RunningGateway; merchant: CompletionMerchant }> {
  return startCompletionSale(t, { flaw, stock, apiSecret: API_SECRET });
}

test('fire --flow manual-confirm shows the completion, the answer and the payment the gateway holds', async (t) => {
  const { gateway, merchant } = await rig(t);
  const run = await runCli(['fire', merchant.url, '--flow', 'manual-confirm', '--gateway', gateway.url, '--merchant-uid', 'order-42']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /→ POST http:\/\/127\.0\.0\.1:\d+\/payment\/complete/);
  assert.match(run.stdout, /\{"paymentId":"order-42","paymentToken":"ptk_\*\*\*\*","txId":"[0-9a-f-]{36}"\}/);
  assert.match(run.stdout, /← HTTP 200/);
  assert.match(run.stdout, /TOLD PAID {2}HTTP 200 is in --success-status 2xx/);
  assert.match(run.stdout, /payment {2}paid · 1 confirm call, 1 charged/);
  assert.match(run.stdout, /AGREES {2}told the buyer paid and the gateway holds the payment paid/);
  assert.doesNotMatch(run.stdout, /ptk_[A-Za-z0-9_-]{8,}/, 'the real token is never shown');
});

test('fire --flow manual-confirm exits 1 when the merchant says "sold out" to a buyer it charged', async (t) => {
  const { gateway, merchant } = await rig(t, 'confirm-first', 0);
  const run = await runCli(['fire', merchant.url, '--flow', 'manual-confirm', '--gateway', gateway.url, '--settle', '200ms', '--json', '-']);
  assert.equal(run.code, 1, run.stdout);
  const result = JSON.parse(run.stdout) as { verdict: string; told: string; payment: { status: string }; token: { paymentToken: string } };
  assert.equal(result.verdict, 'charged-refused');
  assert.equal(result.told, 'refused');
  assert.equal(result.payment.status, 'paid');
  assert.equal(result.token.paymentToken, 'ptk_****');
});

test('burst --flow manual-confirm from the command line, with its summary lines', async (t) => {
  const { gateway, merchant } = await rig(t);
  const run = await runCli([
    'burst', merchant.url, '--flow', 'manual-confirm', '--gateway', gateway.url, '--buyers', '20', '--stock', '5',
    '--stock-url', merchant.stockUrl, '--reset-url', merchant.resetUrl, '--settle', '300ms', '--p99-budget', '30s',
  ]);
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /^PASS 5 confirmed of 5 in stock to 20 buyers \(5 told paid\)/);
  assert.match(run.stdout, /confirmed {2}5 of 5 in stock {3}told paid 5 \(2xx\) {3}charged-refused 0/);
  assert.match(run.stdout, /statuses {3}P 5 {3}R 15/);
  assert.match(run.stdout, /confirms {3}5 calls: 5 succeeded/);
});

test('manual-confirm misuse is one line and exit 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['burst', 'http://127.0.0.1:9/payment/complete', '--flow', 'manual-confirm', '--stock', '1'], /--flow manual-confirm needs --gateway/],
    [['burst', 'http://127.0.0.1:9/payment/complete', '--flow', 'manual'], /--flow: "manual" is not a flow; use confirm-process or manual-confirm/],
    [['burst', 'http://127.0.0.1:9/confirm', '--stock', '1', '--success-status', '200'], /--success-status is for --flow manual-confirm/],
    [['burst', 'http://127.0.0.1:9/c', '--flow', 'manual-confirm', '--gateway', 'http://127.0.0.1:9', '--stock', '1', '--body', '{"a":{b}}'], /--body: \{b\} is not a placeholder/],
    [['burst', 'http://127.0.0.1:9/c', '--flow', 'manual-confirm', '--gateway', 'http://127.0.0.1:9', '--stock', '1', '--success-status', 'ok'], /--success-status: "ok" is not a set of HTTP statuses/],
    [['check', 'http://127.0.0.1:9/c', '--flow', 'manual-confirm'], /--flow manual-confirm needs --gateway/],
    [['fire', 'http://127.0.0.1:9/c', '--flow', 'manual-confirm'], /--flow manual-confirm needs --gateway/],
    [['fire', 'http://127.0.0.1:9/c', '--body', '{}'], /--body is for --flow manual-confirm/],
    [['fire', 'http://127.0.0.1:9/c', '--flow', 'manual-confirm', '--gateway', 'http://127.0.0.1:9', '--data', '{}'], /--data is for the Confirm Process/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, message, args.join(' '));
    assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
  }
});

test('check --flow manual-confirm --list shows cases 15-20', async () => {
  const run = await runCli(['check', '--list', '--flow', 'manual-confirm']);
  assert.equal(run.code, 0, run.stderr);
  for (const name of ['completes-known-order', 'sold-out-confirms-nothing', 'tampered-amount-not-confirmed', 'replayed-token-confirms-once', 'decline-gives-stock-back', 'burst-confirms-stock']) {
    assert.match(run.stdout, new RegExp(name));
  }
  assert.doesNotMatch(run.stdout, /first-come-burst/);
});
