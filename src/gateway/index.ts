import { createServer } from 'node:http';
import { listen } from '../util/listen.js';
import { DEFAULT_TIMEOUT_MS, type WebhookSecret } from '../protocol/index.js';
import { UsageError } from '../util/errors.js';
import type { TypedEmitter } from '../util/events.js';
import {
  Gateway,
  type CancelPaymentRequest,
  type CancelResult,
  type GatewayEvents,
  type PaymentAttempt,
  type PaymentRequest,
  type PrepareRequest,
} from './gateway.js';
import type { GatewayPayment, PaymentPreparation } from './payments.js';
import { createHandler, type GatewayRoute } from './server.js';
import { DEFAULT_TOKEN_TTL_SECONDS, TokenIssuer } from './tokens.js';

export {
  DEFAULT_DECLINE_REASON,
  DEFAULT_PG_PROVIDER,
  OUTCOMES,
  type CancelPaymentRequest,
  type CancelResult,
  type ConfirmReport,
  type GatewayEvents,
  type Outcome,
  type PaymentAttempt,
  type PaymentChange,
  type PaymentRequest,
  type PrepareRequest,
} from './gateway.js';
export {
  PAYMENT_FIELD_LIMITS,
  type GatewayPayment,
  type PaymentCancellation,
  type PaymentPreparation,
  type PaymentStatus,
} from './payments.js';
export { GatewayApiError } from './errors.js';
export { DEFAULT_TOKEN_TTL_SECONDS, type IssuedToken } from './tokens.js';
export { WEBHOOK_CONNECT_TIMEOUT_MS, WEBHOOK_READ_TIMEOUT_MS, type WebhookDelivery } from './webhooks.js';
export type { GatewayRoute } from './server.js';

export const DEFAULT_GATEWAY_HOST = '127.0.0.1';
export const DEFAULT_GATEWAY_PORT = 4000;
/** Test credentials: a local simulation has nothing to protect, but merchants' code must still present them. */
export const DEFAULT_IMP_KEY = 'confirm_sim_key';
export const DEFAULT_IMP_SECRET = 'confirm_sim_secret';

export interface GatewayOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4000; 0 picks a free port. */
  port?: number;
  /** The REST API key the merchant must present to POST /users/getToken; default DEFAULT_IMP_KEY. */
  impKey?: string;
  /** Default DEFAULT_IMP_SECRET. */
  impSecret?: string;
  /** How long an access token lives; default 1800 (30 minutes), as the gateway's. */
  tokenTtlSeconds?: number;
  /** Signs V2 confirm calls and webhooks; V2 dialects are refused without it. */
  secret?: WebhookSecret;
  /** V2 store id, sent in V2 confirm and webhook data. */
  storeId?: string;
  /** How long the gateway waits for the merchant's confirm answer; default 5 s, the stricter documented one. */
  confirmTimeoutMs?: number;
  /** The gateway's clock in epoch milliseconds; tests move it to expire tokens. Default Date.now. */
  now?: () => number;
}

export interface RunningGateway {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  impKey: string;
  routes: GatewayRoute[];
  events: TypedEmitter<GatewayEvents>;
  /** Every payment so far, as the REST API shows them (copies). */
  payments(): GatewayPayment[];
  /** What POST /payments/prepare does. */
  prepare(request: PrepareRequest): PaymentPreparation;
  /** What POST /sim/payments does: IMP.request_pay through confirm, charge and webhook. */
  requestPayment(request: PaymentRequest): Promise<PaymentAttempt>;
  /** What POST /payments/cancel does. */
  cancelPayment(request: CancelPaymentRequest): Promise<CancelResult>;
  close(): Promise<void>;
}

function checkOptions(options: GatewayOptions): void {
  const { port, tokenTtlSeconds, confirmTimeoutMs } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new UsageError(`port: ${port} is not a TCP port; give a whole number from 0 to 65535 (0 picks a free one)`);
  }
  if (tokenTtlSeconds !== undefined && (!Number.isInteger(tokenTtlSeconds) || tokenTtlSeconds <= 0)) {
    throw new UsageError(`tokenTtlSeconds: ${tokenTtlSeconds} is not a lifetime; give whole seconds above 0, e.g. 1800`);
  }
  if (confirmTimeoutMs !== undefined && (!Number.isFinite(confirmTimeoutMs) || confirmTimeoutMs <= 0)) {
    throw new UsageError(`confirm timeout: ${confirmTimeoutMs} ms is not a usable deadline; give more than 0, e.g. 5s`);
  }
  for (const [name, value] of [['impKey', options.impKey], ['impSecret', options.impSecret]] as const) {
    if (value !== undefined && value.length === 0) throw new UsageError(`${name} is empty; give the credential or leave it out for the default`);
  }
}

/**
 * Starts the simulated gateway: the V1 REST API a merchant calls from its confirm and webhook handlers, and
 * the /sim routes that play the buyer's payment through the merchant's confirm endpoint.
 */
export async function startGateway(options: GatewayOptions = {}): Promise<RunningGateway> {
  checkOptions(options);
  const host = options.host ?? DEFAULT_GATEWAY_HOST;
  const port = options.port ?? DEFAULT_GATEWAY_PORT;
  const server = createServer();
  const address = await listen(server, host, port);
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  const nowMs = options.now ?? Date.now;
  const impKey = options.impKey ?? DEFAULT_IMP_KEY;
  const gateway = new Gateway({
    secret: options.secret,
    storeId: options.storeId,
    confirmTimeoutMs: options.confirmTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    nowMs,
    receiptUrlFor: (impUid) => `${url}/sim/payments/${impUid}`,
  });
  const tokens = new TokenIssuer(
    { impKey, impSecret: options.impSecret ?? DEFAULT_IMP_SECRET },
    options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
    () => Math.floor(nowMs() / 1000),
  );
  const handler = createHandler(gateway, tokens);
  server.on('request', handler.handle);

  let closed: Promise<void> | undefined;
  return {
    url,
    impKey,
    routes: handler.routes,
    events: gateway.events,
    payments: () => gateway.payments(),
    prepare: (request) => gateway.prepare(request),
    requestPayment: (request) => gateway.requestPayment(request),
    cancelPayment: (request) => gateway.cancelPayment(request),
    close() {
      closed ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await gateway.close();
        await serverClosed;
      })();
      return closed;
    },
  };
}
