import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fireThroughGateway, type GatewayFireResult } from '../src/fire/gateway.js';
import { runCli } from './helpers/cli.js';
import { startSale } from './helpers/journey-sale.js';

test('fire --gateway registers the payment first and shows the charge and the webhook that followed', async (t) => {
  const sale = await startSale(t);
  const run = await runCli([
    'fire',
    sale.shop.confirmUrl,
    '--gateway',
    sale.gateway.url,
    '--notice-url',
    sale.shop.webhookUrl,
    '--merchant-uid',
    'order-1',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /\nPROCEED {2}HTTP 200/);
  assert.match(run.stdout, new RegExp(`\\ngateway ${sale.gateway.url} · run fire-[a-z0-9]+\\n  charge   approved → paid\\n`));
  assert.match(run.stdout, /\n {2}webhook {2}paid → http:\/\/127\.0\.0\.1:\d+\/webhook {2}delivered\n {4}attempt 1: HTTP 200 in /);
  const paid = sale.gateway.payments().find((payment) => payment.orderId === 'order-1');
  assert.equal(paid?.status, 'paid', 'the payment fire registered is the one the gateway charged');

  const json = await runCli(['fire', sale.shop.confirmUrl, '--gateway', sale.gateway.url, '--merchant-uid', 'order-2', '--decline', '--json', '-']);
  const result = JSON.parse(json.stdout) as GatewayFireResult;
  assert.equal(result.schemaVersion, 2);
  assert.equal(result.decision.proceed, true);
  assert.equal(result.lifecycle.charge, 'declined');
  assert.equal(result.lifecycle.status, 'failed');
  assert.match(result.lifecycle.failReason ?? '', /decline/);
  assert.deepEqual(result.lifecycle.webhooks, [], 'V1 sends no webhook for a failed payment, and there is no notice URL');
  assert.ok(result.lifecycle.timeline.some((entry) => entry.event === 'declined'));
});

test('a refused confirm is not charged, and the gateway records the merchant\'s reason', async (t) => {
  const sale = await startSale(t, { stock: 0 });
  const result = await fireThroughGateway({ url: sale.shop.confirmUrl, gateway: sale.gateway, webhookUrl: sale.shop.webhookUrl });
  assert.equal(result.decision.proceed, false);
  assert.equal(result.lifecycle.charge, 'not-attempted');
  assert.equal(result.lifecycle.status, 'failed');
  assert.match(result.lifecycle.failReason ?? '', /sold out/);
  assert.equal(result.lifecycle.unsettled, false);

  const usage = await runCli(['fire', sale.shop.confirmUrl, '--decline']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--decline needs --gateway <url>/);
});
