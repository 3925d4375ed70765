import type { TestContext } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/gateway/index.js';
import { parseWebhookSecret, type Dialect, type WebhookSecret } from '../../src/protocol/index.js';
import type { BurstOptions } from '../../src/load/index.js';
import type { CheckOptions } from '../../src/contract/index.js';
import { startDocMerchant, type DocFlaw, type DocMerchant, type DocMerchantKind } from './doc-merchants/index.js';

/** The V2 webhook secret the gateway signs with and the V2 doc merchant verifies with, as a console issues it. */
export const DOC_WEBHOOK_SECRET = `whsec_${Buffer.from('journey-doc-merchant-secret-32by').toString('base64')}`;

export interface DocSale {
  gateway: RunningGateway;
  merchant: DocMerchant;
  dialect: Dialect;
  secret: WebhookSecret | undefined;
}

/** A gateway and a doc-written merchant pointed at it, both closed when the test ends. */
export async function startDocSale(
  t: TestContext,
  kind: DocMerchantKind,
  options: { stock?: number; flaw?: DocFlaw; holdMs?: number; gateway?: Parameters<typeof startGateway>[0] } = {},
): Promise<DocSale> {
  const v2 = kind === 'portone-v2';
  const secret = v2 ? parseWebhookSecret(DOC_WEBHOOK_SECRET, 'secret') : undefined;
  const gateway = await startGateway({ port: 0, ...(secret ? { secret } : {}), ...options.gateway });
  t.after(() => gateway.close());
  const merchant = await startDocMerchant(kind, {
    gatewayUrl: gateway.url,
    stock: options.stock ?? 20,
    ...(v2 ? { webhookSecret: DOC_WEBHOOK_SECRET } : {}),
    ...(options.flaw ? { flaw: options.flaw } : {}),
    ...(options.holdMs === undefined ? {} : { holdMs: options.holdMs }),
  });
  t.after(() => merchant.close());
  return { gateway, merchant, dialect: v2 ? 'v2-2024-04-25' : 'v1', secret };
}

/** A burst of `buyers` for `stock` through the gateway, with the merchant's order, reset and stock hooks. */
export function docBurstOptions(sale: DocSale, changes: Partial<BurstOptions> = {}): BurstOptions {
  const { merchant } = sale;
  return {
    url: merchant.confirmUrl,
    dialect: sale.dialect,
    secret: sale.secret,
    buyers: 300,
    stock: 40,
    orderUrl: merchant.orderUrl,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    gateway: sale.gateway,
    webhookUrl: merchant.webhookUrl,
    // Latency is not what these tests judge, and several helpers share two cores.
    p99BudgetMs: 5_000,
    ...changes,
  };
}

export function docCheckOptions(sale: DocSale, changes: Partial<CheckOptions> = {}): CheckOptions {
  const { merchant } = sale;
  return {
    url: merchant.confirmUrl,
    dialect: sale.dialect,
    secret: sale.secret,
    gateway: sale.gateway,
    orderUrl: merchant.orderUrl,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    webhookUrl: merchant.webhookUrl,
    // Case 8 judges latency against a budget meant for production; two shared cores are not that.
    p99BudgetMs: 3_000,
    load: { connections: 4, durationMs: 1_000 },
    ...changes,
  };
}
