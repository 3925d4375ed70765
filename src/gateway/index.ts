import { createServer } from 'node:http';
import { listen } from '../util/listen.js';
import { DEFAULT_TIMEOUT_MS, type WebhookSecret } from '../protocol/index.js';
import { UsageError } from '../util/errors.js';
import type { TypedEmitter } from '../util/events.js';
import {
  DEFAULT_MAX_PAYMENTS,
  DEFAULT_PAYMENT_TOKEN_LIFETIME_MS,
  DEFAULT_RETENTION_GRACE_MS,
  Gateway,
  type CancelPaymentRequest,
  type CancelResult,
  type GatewayEvents,
  type ManualPaymentRequest,
  type PaymentAttempt,
  type PaymentPage,
  type PaymentRequest,
  type PaymentTimeline,
  type PrepareRequest,
} from './gateway.js';
import type { PaymentPreparation } from './payments.js';
import type { SaleSummary } from './runs.js';
import type { AnswersResult, ConfirmAnswerReport, PaymentToken, RegistrationResult, SaleRegistration, SaleStatuses } from './sim/sales.js';
import type { GatewayRoute } from './routes.js';
import { createHandler } from './server.js';
import { simRoutes } from './sim/routes.js';
import { v1Routes } from './v1/routes.js';
import { v2Routes } from './v2/routes.js';
import type { V2Store } from './v2/view.js';
import { DEFAULT_WEBHOOK_RETRY_SCALE, WEBHOOK_READ_TIMEOUT_MS } from './webhooks.js';
import { DEFAULT_TOKEN_TTL_SECONDS, TokenIssuer } from './tokens.js';

export {
  DECLINE_PG_CODE,
  DEFAULT_MAX_PAYMENTS,
  DEFAULT_PAYMENT_TOKEN_LIFETIME_MS,
  DEFAULT_RETENTION_GRACE_MS,
  DEFAULT_DECLINE_REASON,
  DEFAULT_PG_PROVIDER,
  OUTCOMES,
  type CancelPaymentRequest,
  type CancelResult,
  type ConfirmReport,
  type GatewayEvents,
  type ManualPaymentRequest,
  type Outcome,
  type PaymentAttempt,
  type PaymentChange,
  type PaymentLine,
  type PaymentPage,
  type PaymentRequest,
  type PaymentTimeline,
  type PrepareRequest,
} from './gateway.js';
export {
  API_VERSIONS,
  PAYMENT_FIELD_LIMITS,
  WEBHOOK_VERSIONS,
  type ApiVersion,
  type FailureKind,
  type ManualConfirmState,
  type PaymentCancellation,
  type PaymentFailure,
  type PaymentPreparation,
  type PaymentRecord,
  type PaymentStatus,
  type TimelineEntry,
  type WebhookAttempt,
  type WebhookRecord,
  type WebhookState,
  type WebhookVersion,
} from './payments.js';
export { COUNTED_CONFIRM_REFUSALS, SUMMARY_EXAMPLES, type CountedConfirmRefusal, type SaleSummary, type StatusLetter } from './runs.js';
export {
  MAX_ANSWER_BATCH,
  MAX_SALE_CHUNK,
  PAYMENT_OUTCOMES,
  SALE_FLOWS,
  type AnswersResult,
  type ConfirmAnswerReport,
  type PaymentOutcome,
  type PaymentToken,
  type RegistrationResult,
  type SaleFlow,
  type SaleRegistration,
  type SalePayment,
  type SaleStatuses,
} from './sim/sales.js';
export { GatewayApiError } from './errors.js';
export { DEFAULT_TOKEN_TTL_SECONDS, type IssuedToken } from './tokens.js';
export {
  DEFAULT_WEBHOOK_RETRY_SCALE,
  MAX_WEBHOOK_ANSWER_BYTES,
  V1_RETRY_DELAYS_MS,
  V1_WEBHOOK_CONNECT_TIMEOUT_MS,
  V2_RETRY_DELAYS_MS,
  V2_WEBHOOK_CONNECT_TIMEOUT_MS,
  WEBHOOK_READ_TIMEOUT_MS,
  type WebhookDelivery,
} from './webhooks.js';
export { connectGateway, type GatewayLink, type GatewayLinkOptions, type GatewayTarget } from './link.js';
export type { GatewayRoute, RouteApi } from './routes.js';
export { MAX_BODY_BYTES } from './server.js';
export { v1PaymentView, type GatewayPayment, type V1Cancellation } from './v1/view.js';
export { v2PaymentView, type V2Payment, type V2PaymentStatus, type V2Store } from './v2/view.js';
export { V2_ERROR_STATUS, type V2ErrorType } from './v2/errors.js';

export const DEFAULT_GATEWAY_HOST = '127.0.0.1';
export const DEFAULT_GATEWAY_PORT = 4000;
/** Test credentials: a local simulation has nothing to protect, but merchants' code must still present them. */
export const DEFAULT_IMP_KEY = 'confirm_sim_key';
export const DEFAULT_IMP_SECRET = 'confirm_sim_secret';
/** The V2 API secret a local gateway accepts unless given another (`Authorization: PortOne <secret>`). */
export const DEFAULT_API_SECRET = 'confirm_sim_api_secret';
/** The V2 store every simulated V2 payment belongs to, unless given another. */
export const DEFAULT_STORE_ID = 'store-00000000-0000-4000-8000-00000000c0de';
const SIMULATED_MERCHANT_ID = 'merchant-00000000-0000-4000-8000-00000000c0de';

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
  /** The V2 API secret merchants present as `Authorization: PortOne <secret>`; default DEFAULT_API_SECRET. */
  apiSecret?: string;
  /** V2 store id, sent in V2 confirm and webhook data and shown on V2 payments; default DEFAULT_STORE_ID. */
  storeId?: string;
  /** How long the gateway waits for the merchant's confirm answer; default 5 s, the stricter documented one. */
  timeoutMs?: number;
  /** Probability (0 to 1) that the PG declines a payment the merchant said 200 to; default 0. A run may set its own. */
  declineRate?: number;
  /** Multiplies the documented webhook retry schedule (V2 1, 4, 16, 64, 256 min); default DEFAULT_WEBHOOK_RETRY_SCALE. */
  webhookRetryScale?: number;
  /** How long a webhook's answer may take; default 30 s, as documented. */
  webhookTimeoutMs?: number;
  /** V1 webhooks are sent once unless the merchant opted in to retries (5, a minute apart); default false. */
  v1WebhookRetries?: boolean;
  /** The most payments kept (oldest completed forgotten first; run summaries stay exact); default DEFAULT_MAX_PAYMENTS. */
  maxPayments?: number;
  /** How long after its last change a run's payments are protected from forgetting; default 10 minutes. */
  retentionGraceMs?: number;
  /**
   * How long a manual-confirm payment token is valid, counted from its payment's registration; default 10 minutes
   * (DEFAULT_PAYMENT_TOKEN_LIFETIME_MS). A sale may set its own (SaleRegistration.tokenLifetimeMs).
   */
  tokenLifetimeMs?: number;
  /** The gateway's clock in epoch milliseconds; tests move it to expire tokens. Default Date.now. */
  now?: () => number;
  /** Draws for the decline rate and webhook jitter; default Math.random. */
  random?: () => number;
}

export interface RunningGateway {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  impKey: string;
  /** The V2 store id of every V2 payment. */
  storeId: string;
  routes: GatewayRoute[];
  events: TypedEmitter<GatewayEvents>;
  declineRate: number;
  webhookRetryScale: number;
  /** Every payment kept, with its timeline (copies); prefer `list` for big runs. */
  payments(): PaymentTimeline[];
  /** What GET /sim/payments does: a page of the payments kept. */
  list(options?: { page?: number; limit?: number; run?: string }): PaymentPage;
  /** What POST /sim/sales does: registers a run's payments (one chunk) as ready. */
  register(sale: SaleRegistration): RegistrationResult;
  /** What POST /sim/confirm-answers does. */
  answer(answers: ConfirmAnswerReport[], run?: string): AnswersResult;
  /** What GET /sim/sales/{run} does. */
  summary(run: string): SaleSummary;
  /** What GET /sim/sales/{run}/statuses does: one letter per registered payment, in registration order. */
  statuses(run: string): SaleStatuses;
  /** What POST /sim/sales/{run}/end does. */
  end(run: string): SaleSummary;
  /** What GET /sim/payments/{id} does: by imp_uid, paymentId or merchant_uid. */
  payment(id: string, run?: string): PaymentTimeline;
  /** What POST /payments/prepare does. */
  prepare(request: PrepareRequest): PaymentPreparation;
  /** What POST /sim/payments does: IMP.request_pay through confirm, charge and webhook. */
  requestPayment(request: PaymentRequest): Promise<PaymentAttempt>;
  /**
   * What POST /sim/payments with flow manual-confirm does: PortOne.requestPayment on a manual-confirm channel.
   * The payment waits READY; the merchant charges it with POST /payments/{paymentId}/confirm and the token.
   */
  requestManualPayment(request: ManualPaymentRequest): PaymentToken;
  /** What POST /payments/cancel does. */
  cancelPayment(request: CancelPaymentRequest): Promise<CancelResult>;
  close(): Promise<void>;
}

function checkOptions(options: GatewayOptions): void {
  const { port, tokenTtlSeconds, timeoutMs, declineRate, webhookRetryScale, webhookTimeoutMs } = options;
  if (declineRate !== undefined && !(declineRate >= 0 && declineRate <= 1)) {
    throw new UsageError(`\`declineRate\`: ${declineRate} is not a fraction; give a number from 0 to 1, e.g. 0.2`);
  }
  if (webhookRetryScale !== undefined && !(webhookRetryScale > 0 && webhookRetryScale <= 1)) {
    throw new UsageError(`\`webhookRetryScale\`: ${webhookRetryScale} is not a factor above 0 and up to 1 (1 = the real schedule, 0.0001 = 341 minutes in 2 s)`);
  }
  if (options.maxPayments !== undefined && !(Number.isInteger(options.maxPayments) && options.maxPayments >= 1)) {
    throw new UsageError(`\`maxPayments\`: ${options.maxPayments} is not a whole number above 0, e.g. 200000`);
  }
  if (options.retentionGraceMs !== undefined && !(Number.isFinite(options.retentionGraceMs) && options.retentionGraceMs >= 0)) {
    throw new UsageError(`\`retentionGraceMs\`: ${options.retentionGraceMs} ms is not a duration of 0 or more`);
  }
  if (options.tokenLifetimeMs !== undefined && !(Number.isSafeInteger(options.tokenLifetimeMs) && options.tokenLifetimeMs > 0)) {
    throw new UsageError(`\`tokenLifetimeMs\`: ${options.tokenLifetimeMs} ms is not a lifetime; give whole milliseconds above 0, e.g. 600000 (10m)`);
  }
  if (webhookTimeoutMs !== undefined && !(Number.isFinite(webhookTimeoutMs) && webhookTimeoutMs > 0)) {
    throw new UsageError(`\`webhookTimeoutMs\`: ${webhookTimeoutMs} ms is not a usable deadline; give more than 0`);
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new UsageError(`\`port\`: ${port} is not a TCP port; give a whole number from 0 to 65535 (0 picks a free one)`);
  }
  if (tokenTtlSeconds !== undefined && (!Number.isInteger(tokenTtlSeconds) || tokenTtlSeconds <= 0)) {
    throw new UsageError(`\`tokenTtlSeconds\`: ${tokenTtlSeconds} is not a lifetime; give whole seconds above 0, e.g. 1800`);
  }
  if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
    throw new UsageError(`\`timeoutMs\`: ${timeoutMs} ms is not a usable deadline; give more than 0, e.g. 5000`);
  }
  const credentials = [['impKey', options.impKey], ['impSecret', options.impSecret], ['apiSecret', options.apiSecret], ['storeId', options.storeId]] as const;
  for (const [name, value] of credentials) {
    if (value !== undefined && value.length === 0) throw new UsageError(`\`${name}\` is empty; give the credential or leave it out for the default`);
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
  const storeId = options.storeId ?? DEFAULT_STORE_ID;
  const gateway = new Gateway({
    secret: options.secret,
    storeId,
    confirmTimeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    declineRate: options.declineRate ?? 0,
    webhookRetryScale: options.webhookRetryScale ?? DEFAULT_WEBHOOK_RETRY_SCALE,
    webhookTimeoutMs: options.webhookTimeoutMs ?? WEBHOOK_READ_TIMEOUT_MS,
    v1WebhookRetries: options.v1WebhookRetries ?? false,
    maxPayments: options.maxPayments ?? DEFAULT_MAX_PAYMENTS,
    retentionGraceMs: options.retentionGraceMs ?? DEFAULT_RETENTION_GRACE_MS,
    paymentTokenLifetimeMs: options.tokenLifetimeMs ?? DEFAULT_PAYMENT_TOKEN_LIFETIME_MS,
    nowMs,
    random: options.random ?? Math.random,
    receiptUrlFor: (record) =>
      record.impUid === null ? `${url}/sim/payments/${encodeURIComponent(record.orderId)}` : `${url}/sim/receipts/${record.impUid}`,
  });
  const tokens = new TokenIssuer(
    { impKey, impSecret: options.impSecret ?? DEFAULT_IMP_SECRET },
    options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
    () => Math.floor(nowMs() / 1000),
  );
  const store: V2Store = {
    merchantId: SIMULATED_MERCHANT_ID,
    storeId,
    channel: {
      type: 'TEST',
      id: 'channel-id-confirm-sim',
      key: 'channel-key-00000000-0000-4000-8000-00000000c0de',
      name: 'confirm-sim test channel',
      pgProvider: 'INICIS_V2',
      pgMerchantId: 'INIpayTest',
    },
  };
  const handler = createHandler(
    gateway.events,
    { v1: v1Routes(gateway, tokens), v2: v2Routes(gateway, store), sim: simRoutes(gateway) },
    { tokens, apiSecret: options.apiSecret ?? DEFAULT_API_SECRET },
  );
  server.on('request', handler.handle);

  let closed: Promise<void> | undefined;
  return {
    url,
    impKey,
    storeId,
    routes: handler.routes,
    events: gateway.events,
    declineRate: gateway.declineRate,
    webhookRetryScale: gateway.webhookRetryScale,
    payments: () => [...gateway.store.all()].map((record) => gateway.timelineOf(record)),
    list: (listOptions) => gateway.list(listOptions),
    register: (sale) => gateway.register(sale),
    answer: (answers, run) => gateway.answer({ run, answers }),
    summary: (run) => gateway.summary(run),
    statuses: (run) => gateway.statuses(run),
    end: (run) => gateway.end(run),
    payment: (id, run) => gateway.timeline(id, run),
    prepare: (request) => gateway.prepare(request),
    requestPayment: (request) => gateway.requestPayment(request),
    requestManualPayment: (request) => gateway.requestManualPayment(request),
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
