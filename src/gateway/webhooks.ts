import { Agent, request } from 'undici';
import { isV2, signWebhook, type NoAnswerKind, type WebhookSecret } from '../protocol/index.js';
import { classifyNoAnswer } from '../fire/index.js';
import type { PaymentCancellation, PaymentRecord } from './payments.js';

/** The gateway's documented webhook limits: 10 s to connect, 30 s to read the answer. One send, no retries. */
export const WEBHOOK_CONNECT_TIMEOUT_MS = 10_000;
export const WEBHOOK_READ_TIMEOUT_MS = 30_000;
/** Enough of the merchant's answer to show what it said. */
const KEPT_ANSWER_CHARS = 2_000;

/** What happened to a payment that the merchant is told about. */
export type WebhookTrigger =
  | { kind: 'paid' }
  | { kind: 'failed' }
  | { kind: 'cancelled'; cancellation: PaymentCancellation };

export interface WebhookMessage {
  url: string;
  /** V1: the payment status sent; V2: the webhook type. */
  event: string;
  body: string;
  signed: boolean;
  headers: Record<string, string>;
}

export interface WebhookDelivery {
  schemaVersion: 1;
  imp_uid: string;
  url: string;
  event: string;
  body: string;
  signed: boolean;
  /** True when the merchant answered 2xx. */
  delivered: boolean;
  httpStatus: number | null;
  /** Why no HTTP answer was read, when none was. */
  error: NoAnswerKind | null;
  /** One line: the status and the start of the answer, or why there was none. */
  message: string;
  durationMs: number;
}

function v2Type(record: PaymentRecord, trigger: WebhookTrigger): string {
  switch (trigger.kind) {
    case 'paid':
      return 'Transaction.Paid';
    case 'failed':
      return 'Transaction.Failed';
    case 'cancelled':
      return record.payment.status === 'cancelled' ? 'Transaction.Cancelled' : 'Transaction.PartialCancelled';
  }
}

/**
 * The webhook the gateway sends for a change, or null when it sends none: V1 stays silent when an ordinary
 * payment fails (the merchant must release what it reserved on its own), V2 reports every transition.
 */
export function buildWebhook(
  record: PaymentRecord,
  trigger: WebhookTrigger,
  options: { secret: WebhookSecret | undefined; storeId: string | undefined; now: Date },
): WebhookMessage | null {
  if (record.noticeUrl === null) return null;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const cancellationId = trigger.kind === 'cancelled' ? trigger.cancellation.cancellation_id : undefined;
  if (!isV2(record.dialect)) {
    if (trigger.kind === 'failed') return null;
    const { imp_uid, merchant_uid, status } = record.payment;
    const body = JSON.stringify(
      cancellationId === undefined ? { imp_uid, merchant_uid, status } : { imp_uid, merchant_uid, status, cancellation_id: cancellationId },
    );
    return { url: record.noticeUrl, event: status, body, signed: false, headers };
  }
  const type = v2Type(record, trigger);
  const data: Record<string, string> = {};
  if (options.storeId !== undefined) data.storeId = options.storeId;
  data.paymentId = record.payment.merchant_uid;
  data.transactionId = record.transactionId;
  if (cancellationId !== undefined) data.cancellationId = cancellationId;
  const body = JSON.stringify({ type, timestamp: options.now.toISOString(), data });
  if (options.secret) Object.assign(headers, signWebhook(options.secret, body));
  return { url: record.noticeUrl, event: type, body, signed: options.secret !== undefined, headers };
}

/** Sends webhooks over one connection pool, so closing the gateway ends every send still in flight. */
export class WebhookSender {
  readonly #agent = new Agent({ connect: { timeout: WEBHOOK_CONNECT_TIMEOUT_MS } });

  /** Never rejects for what the merchant does: a refusal, a hang or a reset is reported in the delivery. */
  async send(impUid: string, message: WebhookMessage): Promise<WebhookDelivery> {
    const started = performance.now();
    const base = { schemaVersion: 1 as const, imp_uid: impUid, url: message.url, event: message.event, body: message.body, signed: message.signed };
    try {
      const response = await request(message.url, {
        method: 'POST',
        headers: message.headers,
        body: message.body,
        dispatcher: this.#agent,
        headersTimeout: WEBHOOK_READ_TIMEOUT_MS,
        bodyTimeout: WEBHOOK_READ_TIMEOUT_MS,
      });
      const answer = (await response.body.text()).slice(0, KEPT_ANSWER_CHARS).replace(/\s+/g, ' ').trim();
      const delivered = response.statusCode >= 200 && response.statusCode < 300;
      return {
        ...base,
        delivered,
        httpStatus: response.statusCode,
        error: null,
        message: answer.length > 0 ? `HTTP ${response.statusCode}: ${answer}` : `HTTP ${response.statusCode}`,
        durationMs: performance.now() - started,
      };
    } catch (error) {
      const cause = classifyNoAnswer(error);
      return {
        ...base,
        delivered: false,
        httpStatus: null,
        error: cause.error,
        message: cause.message,
        durationMs: performance.now() - started,
      };
    }
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }
}
