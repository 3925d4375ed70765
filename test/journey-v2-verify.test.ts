import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCheck, type CaseName } from '../src/contract/index.js';
import { startGateway } from '../src/gateway/index.js';
import { runBurst } from '../src/load/index.js';
import { startMerchant } from '../src/merchants/index.js';
import { parseWebhookSecret } from '../src/protocol/index.js';
import { DOC_WEBHOOK_SECRET } from './helpers/doc-sale.js';

const secret = parseWebhookSecret(DOC_WEBHOOK_SECRET, 'secret');

test('merchant --verify rest, V2: lookups through PortOne\'s SDK pass burst with declines and the gateway cases', async (t) => {
  const gateway = await startGateway({ port: 0, secret });
  t.after(() => gateway.close());
  const shop = await startMerchant({ openOrders: true, secret, verify: 'rest', gateway: { url: gateway.url } });
  t.after(() => shop.close());
  let lookups = 0;
  gateway.events.on('request', (event) => {
    if (event.method === 'GET' && event.path.startsWith('/payments/') && event.status === 200) lookups++;
  });

  const report = await runBurst({
    url: shop.confirmUrl,
    dialect: 'v2-2024-04-25',
    secret,
    buyers: 200,
    stock: 20,
    rampMs: 1_500,
    declineRate: 0.2,
    resetUrl: shop.resetUrl,
    stockUrl: shop.stockUrl,
    gateway,
    webhookUrl: shop.webhookUrl,
    p99BudgetMs: 5_000,
  });
  assert.equal(report.verdict.pass, true, `${report.verdict.summary}\n${JSON.stringify(report.payments)}`);
  assert.equal(report.payments!.api, 'v2');
  assert.ok(report.payments!.declined > 0);
  assert.equal(report.payments!.paid + report.stock.probe!.after, 20);
  assert.ok(lookups >= 200, `every confirm was looked up through the SDK's getPayment (${lookups} lookups)`);

  const result = await runCheck({
    url: shop.confirmUrl,
    dialect: 'v2-2024-04-25',
    secret,
    gateway,
    resetUrl: shop.resetUrl,
    stockUrl: shop.stockUrl,
    webhookUrl: shop.webhookUrl,
    grep: /^(1|5|7|10|11|12|13|14) /,
  });
  const listing = result.cases.map((c) => `${c.id} ${c.status}: ${c.message}`).join('\n');
  assert.equal(result.ok, true, listing);
  const passed = result.cases.filter((c) => c.status === 'passed').map((c) => c.name);
  const wanted: CaseName[] = ['confirms-known-order', 'idempotent-repeat', 'rejects-bad-signatures', 'releases-stock-on-failure', 'refuses-forged-confirm', 'refuses-tampered-amount', 'releases-stock-on-decline', 'webhook-replay'];
  assert.deepEqual(passed, wanted, listing);
});
