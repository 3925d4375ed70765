import type { TestContext } from 'node:test';
import { connectGateway, startGateway, type GatewayLink, type GatewayOptions, type RunningGateway } from '../../src/gateway/index.js';

/** A gateway on a free port with a link to it, both closed when the test ends. */
export async function gatewayWithLink(t: TestContext, options: GatewayOptions = {}): Promise<{ gateway: RunningGateway; link: GatewayLink }> {
  const gateway = await startGateway({ port: 0, ...options });
  const link = connectGateway(gateway);
  t.after(async () => {
    await link.close();
    await gateway.close();
  });
  return { gateway, link };
}
