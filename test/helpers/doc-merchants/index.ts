import { DEFAULT_API_SECRET, DEFAULT_IMP_KEY, DEFAULT_IMP_SECRET } from '../../../src/gateway/index.js';
import { jsonObject, serveRoutes, type DocAnswer, type DocHandler } from './http.js';
import { iamportClient } from './iamport-client.js';
import { v2Handlers } from './portone-v2.js';
import { restClientClient } from './rest-client.js';
import { MerchantDatabase } from './store.js';
import { v1Handlers } from './v1-shop.js';

/**
 * Merchants nobody on the team wrote: each is a small server whose confirm and notice handlers are written
 * as iamport's and PortOne's docs show them, on the clients merchants really use, pointed at the simulated
 * gateway's base URL. The verdicts of burst, check and fire must be right for them, not only for our own
 * sample merchant.
 *
 * - `iamport`: V1 on the `iamport` npm client;
 * - `iamport-rest-client`: V1 on `iamport-rest-client-nodejs`;
 * - `portone-v2`: V2 on `@portone/server-sdk` (Webhook.verify, then PaymentClient.getPayment).
 *
 * Besides the confirm URL (`/confirm`) and notice URL (`/webhook`), each has the test hooks a shop under
 * test exposes: `POST /orders` {merchant_uid, amount, quantity} (the checkout creating the order), `POST
 * /reset` {stock} and `GET /stock`.
 */
export const DOC_MERCHANT_KINDS = ['iamport', 'iamport-rest-client', 'portone-v2'] as const;
export type DocMerchantKind = (typeof DOC_MERCHANT_KINDS)[number];

/**
 * Mistakes made on top of the documented handlers: `racy` reads the stock and writes it back minus one
 * (oversells), `no-release` never gives back the stock of a payment that failed after the confirm (leaks),
 * `trusting` takes the confirm body on faith instead of looking the payment up (forgeable).
 */
export const DOC_FLAWS = ['racy', 'no-release', 'trusting'] as const;
export type DocFlaw = (typeof DOC_FLAWS)[number];

export interface DocMerchantOptions {
  /** The simulated gateway's base URL (the client's base URL / the SDK's `baseUrl`). */
  gatewayUrl: string;
  stock: number;
  /** V1 REST API key and secret; default the simulated gateway's. */
  impKey?: string;
  impSecret?: string;
  /** V2 API secret; default the simulated gateway's. */
  apiSecret?: string;
  /** V2 webhook secret (`whsec_...`), the gateway's; needed by `portone-v2`. */
  webhookSecret?: string;
  flaw?: DocFlaw;
  /** V1 reservation deadline before the payment is looked up again; default 300 ms. */
  holdMs?: number;
}

export interface DocMerchant {
  kind: DocMerchantKind;
  url: string;
  confirmUrl: string;
  webhookUrl: string;
  orderUrl: string;
  resetUrl: string;
  stockUrl: string;
  stock(): number;
  close(): Promise<void>;
}

const DEFAULT_HOLD_MS = 300;

function adminRoutes(db: MerchantDatabase): Record<string, DocHandler> {
  return {
    'POST /orders': (request): DocAnswer => {
      const { merchant_uid: merchantUid, amount, quantity = 1 } = jsonObject(request) ?? {};
      if (typeof merchantUid !== 'string' || !Number.isSafeInteger(amount) || !Number.isSafeInteger(quantity)) {
        return { status: 400, body: { reason: 'merchant_uid, amount and quantity are required' } };
      }
      const created = db.createOrder(merchantUid, amount as number, quantity as number);
      return created === 'conflict' ? { status: 409, body: { reason: `order ${merchantUid} exists with another amount` } } : { status: 200, body: { merchant_uid: merchantUid } };
    },
    'POST /reset': (request): DocAnswer => {
      const { stock } = jsonObject(request) ?? {};
      if (!Number.isSafeInteger(stock) || (stock as number) < 0) return { status: 400, body: { reason: 'stock is required' } };
      db.reset(stock as number);
      return { status: 200, body: { stock } };
    },
    'GET /stock': (): DocAnswer => ({ status: 200, body: { stock: db.stock } }),
  };
}

export async function startDocMerchant(kind: DocMerchantKind, options: DocMerchantOptions): Promise<DocMerchant> {
  const db = new MerchantDatabase(options.stock);
  const impKey = options.impKey ?? DEFAULT_IMP_KEY;
  const impSecret = options.impSecret ?? DEFAULT_IMP_SECRET;
  let handlers: { confirm: DocHandler; notice: DocHandler };
  if (kind === 'portone-v2') {
    if (options.webhookSecret === undefined) throw new Error('a V2 merchant verifies signatures: give webhookSecret (the gateway\'s whsec_...)');
    handlers = v2Handlers({ db, gatewayUrl: options.gatewayUrl, apiSecret: options.apiSecret ?? DEFAULT_API_SECRET, webhookSecret: options.webhookSecret, flaw: options.flaw });
  } else {
    const client = kind === 'iamport' ? iamportClient(options.gatewayUrl, impKey, impSecret) : restClientClient(options.gatewayUrl, impKey, impSecret);
    handlers = v1Handlers({ db, client, flaw: options.flaw, holdMs: options.holdMs ?? DEFAULT_HOLD_MS });
  }
  const server = await serveRoutes({ 'POST /confirm': handlers.confirm, 'POST /webhook': handlers.notice, ...adminRoutes(db) });
  return {
    kind,
    url: server.url,
    confirmUrl: `${server.url}/confirm`,
    webhookUrl: `${server.url}/webhook`,
    orderUrl: `${server.url}/orders`,
    resetUrl: `${server.url}/reset`,
    stockUrl: `${server.url}/stock`,
    stock: () => db.stock,
    async close() {
      db.close();
      await server.close();
    },
  };
}
