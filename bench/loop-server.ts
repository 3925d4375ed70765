import { startGateway, startMerchant } from '../src/index.js';

/**
 * The gateway section's servers, each in its own process (forked by the bench, as fixed-answer-server is):
 * `merchant <stock>` runs the sample merchant taking any new order (a fast merchant that does real stock
 * work and answers webhooks), `gateway` runs the simulated gateway. Each tells the parent its URLs over
 * the IPC channel and exits when the parent goes away.
 */

const [role, stockText] = process.argv.slice(2);

if (role === 'merchant') {
  const stock = Number(stockText);
  const merchant = await startMerchant({ port: 0, openOrders: true, stock, maxOrders: stock });
  process.send?.({ url: merchant.confirmUrl, webhookUrl: merchant.webhookUrl, resetUrl: merchant.resetUrl, stockUrl: merchant.stockUrl });
} else if (role === 'gateway') {
  const gateway = await startGateway({ port: 0 });
  process.send?.({ url: gateway.url });
} else {
  process.stderr.write(`loop-server: unknown role ${JSON.stringify(role)} (merchant <stock> or gateway)\n`);
  process.exit(2);
}

process.on('disconnect', () => process.exit(0));
