import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCheck, type CaseName, type CheckOptions, type CheckResult } from '../src/contract/index.js';
import { parseWebhookSecret } from '../src/protocol/index.js';
import type { MerchantOptions } from '../src/merchants/index.js';
import { runCli } from './helpers/cli.js';
import { HOLD_MS, startSale, type Sale } from './helpers/journey-sale.js';

const GATEWAY_CASES: CaseName[] = ['refuses-forged-confirm', 'refuses-tampered-amount', 'releases-stock-on-decline', 'webhook-replay'];
const secret = parseWebhookSecret(`whsec_${Buffer.from('journey-check-secret-32-bytes-ok').toString('base64')}`, 'secret');

function checkOptions(sale: Sale, changes: Partial<CheckOptions> = {}): CheckOptions {
  const { shop } = sale;
  return {
    url: shop.confirmUrl,
    gateway: sale.gateway,
    orderUrl: `${shop.url}/orders`,
    resetUrl: shop.resetUrl,
    stockUrl: shop.stockUrl,
    webhookUrl: shop.webhookUrl,
    grep: /^(1[1-4]) /,
    settleMs: 2 * HOLD_MS,
    ...changes,
  };
}

function statusOf(result: CheckResult, name: CaseName): string {
  return result.cases.find((c) => c.name === name)!.status;
}

function messageOf(result: CheckResult, name: CaseName): string {
  return result.cases.find((c) => c.name === name)!.message;
}

test('without --gateway the gateway cases are skipped with the reason, never passed', async (t) => {
  const sale = await startSale(t);
  const result = await runCheck({ ...checkOptions(sale), gateway: undefined, settleMs: undefined });
  for (const name of GATEWAY_CASES) {
    assert.equal(statusOf(result, name), 'skipped');
    assert.match(messageOf(result, name), /^needs `gateway` <url>/);
  }
  assert.equal(result.gateway, null);
});

/** Each flaw a gateway run reveals, and the case that names it. */
const FLAWS: Array<{ merchant: MerchantOptions; dialect?: CheckOptions['dialect']; caught: Partial<Record<CaseName, RegExp>>; passes: CaseName[] }> = [
  {
    // Today's sample merchant takes the confirm body on faith: exactly the merchant these cases warn about.
    merchant: { holdMs: HOLD_MS },
    caught: {
      'refuses-forged-confirm': /imp_uid "imp_\d{12}", which the gateway never issued; got HTTP 200, so the merchant took the confirm body on faith/,
      'refuses-tampered-amount': /is for 500 while the order and the confirm body say 1000; got HTTP 200/,
    },
    passes: ['releases-stock-on-decline', 'webhook-replay'],
  },
  {
    merchant: {},
    caught: { 'releases-stock-on-decline': /then the PG declined it \(V1: the gateway sends no webhook for a failed payment.*not back to 20/ },
    passes: ['webhook-replay'],
  },
];

for (const flaw of FLAWS) {
  const caught = Object.keys(flaw.caught).join(', ');
  test(`check --gateway catches ${caught} (${JSON.stringify(flaw.merchant)})`, async (t) => {
    const sale = await startSale(t, flaw.merchant);
    const result = await runCheck(checkOptions(sale, { dialect: flaw.dialect }));
    for (const [name, pattern] of Object.entries(flaw.caught) as Array<[CaseName, RegExp]>) {
      assert.equal(statusOf(result, name), 'failed', `${name}: ${messageOf(result, name)}`);
      assert.match(messageOf(result, name), pattern);
    }
    for (const name of flaw.passes) assert.equal(statusOf(result, name), 'passed', `${name}: ${messageOf(result, name)}`);
  });
}

test('V2: a declined payment comes back through Transaction.Failed, and a replayed Transaction.Failed gives nothing back twice', async (t) => {
  const sale = await startSale(t, { secret }, { secret });
  const result = await runCheck(checkOptions(sale, { dialect: 'v2-2024-04-25', secret, grep: /^(1[34]) / }));
  assert.equal(statusOf(result, 'releases-stock-on-decline'), 'passed', messageOf(result, 'releases-stock-on-decline'));
  assert.match(messageOf(result, 'releases-stock-on-decline'), /V2: the gateway sent Transaction.Failed/);
  assert.equal(statusOf(result, 'webhook-replay'), 'passed', messageOf(result, 'webhook-replay'));
  assert.match(messageOf(result, 'webhook-replay'), /replayed Transaction.Paid and Transaction.Failed/);
});

test('check --gateway on the command line: --notice-url is the webhook hook, and every case gets a real payment', async (t) => {
  const sale = await startSale(t, { holdMs: HOLD_MS });
  const { shop } = sale;
  const run = await runCli([
    'check',
    shop.confirmUrl,
    '--gateway',
    sale.gateway.url,
    '--notice-url',
    shop.webhookUrl,
    '--order-url',
    `${shop.url}/orders`,
    '--reset-url',
    shop.resetUrl,
    '--stock-url',
    shop.stockUrl,
    '--settle',
    '2s',
    '--grep',
    '^(1|5|9|10|13) ',
    '--reporter',
    'json',
  ]);
  const result = JSON.parse(run.stdout) as CheckResult;
  assert.equal(result.gateway, sale.gateway.url);
  assert.equal(statusOf(result, 'confirms-known-order'), 'passed');
  assert.equal(statusOf(result, 'idempotent-repeat'), 'passed', messageOf(result, 'idempotent-repeat'));
  assert.equal(statusOf(result, 'first-come-burst'), 'passed', messageOf(result, 'first-come-burst'));
  // With a gateway the failure is real (declined there) before the merchant is told of it.
  assert.equal(statusOf(result, 'releases-stock-on-failure'), 'passed', messageOf(result, 'releases-stock-on-failure'));
  assert.match(messageOf(result, 'releases-stock-on-failure'), /after a V1 webhook with status "failed" \(the gateway shows the payment failed\)/);
  assert.equal(statusOf(result, 'releases-stock-on-decline'), 'passed', messageOf(result, 'releases-stock-on-decline'));
  assert.equal(run.code, 0);
  assert.ok(sale.gateway.payments().length >= 4, 'the cases played their confirms through the gateway');

  const clash = await runCli(['check', shop.confirmUrl, '--webhook-url', 'http://127.0.0.1:1/a', '--notice-url', 'http://127.0.0.1:1/b']);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /--notice-url is another name for --webhook-url and both are given; keep --webhook-url/);
});
