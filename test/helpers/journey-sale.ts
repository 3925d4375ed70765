import type { TestContext } from 'node:test';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../src/gateway/index.js';
import { startMerchant, type MerchantOptions, type RunningMerchant } from '../../src/merchants/index.js';

/**
 * A V1 merchant's reservation deadline: how long it holds the unit of a payment it hears nothing more of
 * (V1 sends no webhook for a decline). Today's sample merchant does not look the payment up before it
 * lets a reservation lapse, so the deadline must outlast the paid webhook even on a busy machine.
 */
export const HOLD_MS = 1_000;

export interface Sale {
  gateway: RunningGateway;
  shop: RunningMerchant;
}

/**
 * A simulated gateway and a sample merchant beside it (no reservation deadline unless given), both closed when
 * the test ends. A function of the gateway's URL makes a merchant that looks payments up there.
 */
export async function startSale(
  t: TestContext,
  merchant: MerchantOptions | ((gatewayUrl: string) => MerchantOptions) = {},
  gateway: GatewayOptions = {},
): Promise<Sale> {
  const runningGateway = await startGateway({ port: 0, ...gateway });
  t.after(() => runningGateway.close());
  const shop = await startMerchant({ openOrders: true, ...(typeof merchant === 'function' ? merchant(runningGateway.url) : merchant) });
  t.after(() => shop.close());
  return { gateway: runningGateway, shop };
}
