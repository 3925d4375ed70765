import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCheck, type CheckResult } from '../src/contract/index.js';
import { fireThroughGateway } from '../src/fire/gateway.js';
import { runCli } from './helpers/cli.js';
import { docCheckOptions, startDocSale } from './helpers/doc-sale.js';

function listing(result: CheckResult): string {
  return result.cases.map((c) => `${c.id} ${c.name} ${c.status}: ${c.message}`).join('\n');
}

test('check --gateway: the V1 merchant written as iamport documents it (the iamport npm client) passes every case', async (t) => {
  const sale = await startDocSale(t, 'iamport');
  const result = await runCheck(docCheckOptions(sale));
  assert.equal(result.ok, true, listing(result));
  const notPassed = result.cases.filter((c) => c.status !== 'passed').map((c) => `${c.id} ${c.status}`);
  assert.deepEqual(notPassed, ['7 skipped'], `only the V2 signature case may be left out of a V1 run:\n${listing(result)}`);
  const release = result.cases.find((c) => c.name === 'releases-stock-on-failure')!;
  assert.match(release.message, /after a V1 webhook with status "failed" \(the gateway shows the payment failed\)/);
});

test('check --gateway: the V2 merchant on PortOne\'s SDK (Webhook.verify, getPayment) passes every case, signatures included', async (t) => {
  const sale = await startDocSale(t, 'portone-v2');
  const result = await runCheck(docCheckOptions(sale));
  assert.equal(result.ok, true, listing(result));
  assert.deepEqual(result.cases.filter((c) => c.status !== 'passed').map((c) => c.id), [], listing(result));
  const signatures = result.cases.find((c) => c.name === 'rejects-bad-signatures')!;
  assert.match(signatures.message, /^refused unsigned/);
  assert.equal(signatures.details.probes instanceof Array, true);
});

test('check --gateway on the command line against the iamport-rest-client-nodejs merchant: ok, exit 0', async (t) => {
  const sale = await startDocSale(t, 'iamport-rest-client');
  const { merchant } = sale;
  const run = await runCli([
    'check',
    merchant.confirmUrl,
    '--gateway',
    sale.gateway.url,
    '--notice-url',
    merchant.webhookUrl,
    '--order-url',
    merchant.orderUrl,
    '--reset-url',
    merchant.resetUrl,
    '--stock-url',
    merchant.stockUrl,
    '--grep',
    '^(1|2|3|4|5|10|11|12|13|14) ',
    '--reporter',
    'json',
  ]);
  const result = JSON.parse(run.stdout) as CheckResult;
  assert.equal(run.code, 0, listing(result));
  assert.equal(result.summary.passed, 10, listing(result));
});

test('fire --gateway against each doc merchant: proceed, charged, the webhook delivered and the order paid', async (t) => {
  for (const kind of ['iamport', 'portone-v2'] as const) {
    const sale = await startDocSale(t, kind);
    const { merchant } = sale;
    await fetch(merchant.orderUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ merchant_uid: `${kind}-order-1`, amount: 1000, quantity: 1 }) });
    const result = await fireThroughGateway({
      url: merchant.confirmUrl,
      gateway: sale.gateway,
      webhookUrl: merchant.webhookUrl,
      dialect: sale.dialect,
      secret: sale.secret,
      order: { merchantUid: `${kind}-order-1`, amount: 1000 },
    });
    assert.equal(result.decision.proceed, true, `${kind}: ${JSON.stringify(result.answer)}`);
    assert.equal(result.lifecycle.charge, 'approved');
    assert.equal(result.lifecycle.status, 'paid');
    assert.deepEqual(result.lifecycle.webhooks.map((webhook) => webhook.state), ['delivered'], kind);
    assert.equal(merchant.stock(), 19);

    // An order the merchant never created is refused after the lookup, and the gateway records why.
    const unknown = await fireThroughGateway({ url: merchant.confirmUrl, gateway: sale.gateway, dialect: sale.dialect, secret: sale.secret });
    assert.equal(unknown.decision.proceed, false);
    assert.equal(unknown.lifecycle.status, 'failed');
    assert.equal(merchant.stock(), 19);
  }
});
