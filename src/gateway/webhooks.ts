import { Agent, request } from 'undici';
import { newWebhookId, signWebhook, type WebhookSecret } from '../protocol/index.js';
import { classifyNoAnswer } from '../fire/index.js';
import type { PaymentCancellation, PaymentRecord, WebhookAttempt, WebhookRecord } from './payments.js';

/** V1's documented limits: 10 s to connect, 30 s to read the answer. */
export const V1_WEBHOOK_CONNECT_TIMEOUT_MS = 10_000;
/** V2's documented limits: 30 s each. */
export const V2_WEBHOOK_CONNECT_TIMEOUT_MS = 30_000;
export const WEBHOOK_READ_TIMEOUT_MS = 30_000;

/** V2: "up to 5 retries, exponential backoff 1 → 4 → 16 → 64 → 256 minutes, with jitter" (PortOne's webhook guide). */
export const V2_RETRY_DELAYS_MS = [1, 4, 16, 64, 256].map((minutes) => minutes * 60_000);
/** V1: "retries up to 5, a minute apart, only if the merchant opted in". */
export const V1_RETRY_DELAYS_MS = [1, 1, 1, 1, 1].map((minutes) => minutes * 60_000);
/**
 * The documented schedule times this: V2's 341 minutes of retries become about 2 s, so a run's settle time
 * sees every retry while the schedule keeps its shape (each wait four times the last).
 */
export const DEFAULT_WEBHOOK_RETRY_SCALE = 1 / 10_000;
/** ± this fraction of each wait, as the gateway's jitter. */
const JITTER = 0.2;

/** The most of a merchant's webhook answer that is read; past it the socket is closed (the answer is not needed). */
export const MAX_WEBHOOK_ANSWER_BYTES = 16 * 1024;
/** Enough of the merchant's answer to show what it said. */
const KEPT_ANSWER_CHARS = 200;
/** Deliveries in flight to one notice URL origin; more wait, so one hung merchant never holds up another. */
const PER_ORIGIN_CONCURRENCY = 32;

/** What happened to a payment that the merchant is told about. */
export type WebhookTrigger =
  | { kind: 'paid' }
  | { kind: 'failed' }
  | { kind: 'cancelled'; cancellation: PaymentCancellation };

/** One attempt, as the `webhook` event and a request_pay's result report it. */
export interface WebhookDelivery {
  schemaVersion: 1;
  api: 'v1' | 'v2';
  orderId: string;
  /** V1 payments only. */
  impUid: string | null;
  run: string | null;
  webhookId: string;
  url: string;
  event: string;
  body: string;
  signed: boolean;
  /** 0 for the first send, n for the n-th retry. */
  retry: number;
  /** True when the merchant answered 2xx. */
  delivered: boolean;
  httpStatus: number | null;
  /** Why no HTTP answer was read, or `body-too-large`. */
  error: string | null;
  message: string;
  durationMs: number;
  /** Epoch ms of the next retry; null when this attempt was the last (delivered, or no retry left). */
  nextAttemptAt: number | null;
}

function v2Type(record: PaymentRecord, trigger: WebhookTrigger): { type: string; status: string } {
  switch (trigger.kind) {
    case 'paid':
      return { type: 'Transaction.Paid', status: 'Paid' };
    case 'failed':
      return { type: 'Transaction.Failed', status: 'Failed' };
    case 'cancelled':
      return record.status === 'cancelled'
        ? { type: 'Transaction.Cancelled', status: 'Cancelled' }
        : { type: 'Transaction.PartialCancelled', status: 'PartialCancelled' };
  }
}

/**
 * The webhook the gateway owes for a change, or null when it sends none: V1 stays silent when an ordinary
 * payment fails (the merchant must release what it reserved on its own), V2 reports every transition.
 * V2 bodies follow the payment's webhook version: 2024-04-25 `{type, timestamp, data: {storeId, paymentId,
 * transactionId, cancellationId?}}`, 2024-01-01 the flat `{payment_id, tx_id, status}` of PortOne's guide.
 */
export function buildWebhook(
  record: PaymentRecord,
  trigger: WebhookTrigger,
  options: { signed: boolean; storeId: string | undefined; now: Date },
): WebhookRecord | null {
  if (record.noticeUrl === null) return null;
  const cancellationId = trigger.kind === 'cancelled' ? trigger.cancellation.id : undefined;
  const base = { id: newWebhookId(), url: record.noticeUrl, state: 'pending' as const, attempts: [], nextAttemptAt: null };
  if (record.api === 'v1') {
    if (trigger.kind === 'failed') return null;
    const fields: Record<string, string> = { imp_uid: record.impUid ?? '', merchant_uid: record.orderId, status: record.status };
    if (cancellationId !== undefined) fields.cancellation_id = cancellationId;
    return { ...base, event: record.status, body: JSON.stringify(fields), signed: false };
  }
  const { type, status } = v2Type(record, trigger);
  if (record.webhookVersion === '2024-01-01') {
    return { ...base, event: type, body: JSON.stringify({ payment_id: record.orderId, tx_id: record.transactionId, status }), signed: options.signed };
  }
  const data: Record<string, string> = {};
  if (options.storeId !== undefined) data.storeId = options.storeId;
  data.paymentId = record.orderId;
  data.transactionId = record.transactionId;
  if (cancellationId !== undefined) data.cancellationId = cancellationId;
  const body = JSON.stringify({ type, timestamp: options.now.toISOString(), data });
  return { ...base, event: type, body, signed: options.signed };
}

export interface DispatcherOptions {
  /** Multiplies every documented wait; 1 is real time. */
  retryScale: number;
  /** Read timeout for the merchant's answer (headers and body together). */
  readTimeoutMs: number;
  secret: WebhookSecret | undefined;
  nowMs: () => number;
  random: () => number;
  /** Called after every attempt, in order, with the record already updated. */
  onAttempt(record: PaymentRecord, webhook: WebhookRecord, delivery: WebhookDelivery): void;
}

interface Job {
  record: PaymentRecord;
  webhook: WebhookRecord;
  retryDelaysMs: readonly number[];
  firstAttempt?: (delivery: WebhookDelivery) => void;
}

interface OriginQueue {
  active: number;
  waiting: Job[];
}

/**
 * Sends webhooks and retries them on the documented schedule, compressed. Deliveries to one origin are
 * limited so a notice URL that hangs only delays its own webhooks; answers are read up to a size limit and
 * within the read timeout, so no merchant can grow our memory or keep a delivery open forever.
 */
export class WebhookDispatcher {
  readonly #agents = {
    v1: new Agent({ connect: { timeout: V1_WEBHOOK_CONNECT_TIMEOUT_MS }, connections: PER_ORIGIN_CONCURRENCY }),
    v2: new Agent({ connect: { timeout: V2_WEBHOOK_CONNECT_TIMEOUT_MS }, connections: PER_ORIGIN_CONCURRENCY }),
  };
  readonly #origins = new Map<string, OriginQueue>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #closing = new AbortController();
  /** Webhooks queued, in flight or waiting for a retry. */
  #pending = 0;

  constructor(private readonly options: DispatcherOptions) {}

  get pending(): number {
    return this.#pending;
  }

  /** Queues a webhook; resolves with its first attempt (retries go on in the background). */
  deliver(record: PaymentRecord, webhook: WebhookRecord, retryDelaysMs: readonly number[]): Promise<WebhookDelivery> {
    record.webhooks.push(webhook);
    this.#pending += 1;
    return new Promise((resolve) => this.#enqueue({ record, webhook, retryDelaysMs, firstAttempt: resolve }));
  }

  #enqueue(job: Job): void {
    if (this.#closing.signal.aborted) return;
    const origin = new URL(job.webhook.url).origin;
    let queue = this.#origins.get(origin);
    if (!queue) {
      queue = { active: 0, waiting: [] };
      this.#origins.set(origin, queue);
    }
    queue.waiting.push(job);
    this.#drain(origin, queue);
  }

  #drain(origin: string, queue: OriginQueue): void {
    while (queue.active < PER_ORIGIN_CONCURRENCY && queue.waiting.length > 0) {
      const job = queue.waiting.shift()!;
      queue.active += 1;
      void this.#attempt(job).finally(() => {
        queue.active -= 1;
        if (queue.active === 0 && queue.waiting.length === 0) this.#origins.delete(origin);
        else this.#drain(origin, queue);
      });
    }
  }

  async #attempt(job: Job): Promise<void> {
    const { record, webhook } = job;
    const retry = webhook.attempts.length;
    const attempt = await this.#send(record.api, webhook);
    if (this.#closing.signal.aborted) return;
    webhook.attempts.push(attempt);
    const delivered = attempt.httpStatus !== null && attempt.httpStatus >= 200 && attempt.httpStatus < 300;
    const waitMs = delivered ? undefined : job.retryDelaysMs[retry];
    if (delivered) {
      webhook.state = 'delivered';
      webhook.nextAttemptAt = null;
    } else if (waitMs === undefined) {
      webhook.state = 'unanswered';
      webhook.nextAttemptAt = null;
    } else {
      const jittered = waitMs * this.options.retryScale * (1 + JITTER * (2 * this.options.random() - 1));
      webhook.nextAttemptAt = attempt.at + attempt.durationMs + jittered;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#enqueue({ record, webhook, retryDelaysMs: job.retryDelaysMs });
      }, jittered);
      this.#timers.add(timer);
    }
    if (webhook.state !== 'pending') this.#pending -= 1;
    const delivery: WebhookDelivery = {
      schemaVersion: 1,
      api: record.api,
      orderId: record.orderId,
      impUid: record.impUid,
      run: record.run,
      webhookId: webhook.id,
      url: webhook.url,
      event: webhook.event,
      body: webhook.body,
      signed: webhook.signed,
      retry,
      delivered,
      httpStatus: attempt.httpStatus,
      error: attempt.error,
      message: attempt.message,
      durationMs: attempt.durationMs,
      nextAttemptAt: webhook.nextAttemptAt,
    };
    this.options.onAttempt(record, webhook, delivery);
    job.firstAttempt?.(delivery);
  }

  /** One POST; never rejects for what the merchant does: a refusal, a hang or a reset is in the attempt. */
  async #send(api: 'v1' | 'v2', webhook: WebhookRecord): Promise<WebhookAttempt> {
    const at = this.options.nowMs();
    const started = performance.now();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    // The webhook-id stays across retries so a merchant can drop a repeat; the timestamp is the attempt's.
    if (webhook.signed && this.options.secret) Object.assign(headers, signWebhook(this.options.secret, webhook.body, { id: webhook.id }));
    const deadline = AbortSignal.any([AbortSignal.timeout(this.options.readTimeoutMs), this.#closing.signal]);
    try {
      const response = await request(webhook.url, {
        method: 'POST',
        headers,
        body: webhook.body,
        dispatcher: this.#agents[api],
        headersTimeout: this.options.readTimeoutMs,
        bodyTimeout: this.options.readTimeoutMs,
        signal: deadline,
      });
      const { text, truncated } = await readLimited(response.body, MAX_WEBHOOK_ANSWER_BYTES);
      const shown = text.slice(0, KEPT_ANSWER_CHARS).replace(/\s+/g, ' ').trim();
      const status = `HTTP ${response.statusCode}`;
      return {
        at,
        durationMs: performance.now() - started,
        httpStatus: response.statusCode,
        error: truncated ? 'body-too-large' : null,
        message: truncated
          ? `${status}, answer cut off after ${MAX_WEBHOOK_ANSWER_BYTES} bytes`
          : shown.length > 0
            ? `${status}: ${shown}`
            : status,
      };
    } catch (error) {
      const cause = deadline.aborted && !this.#closing.signal.aborted
        ? { error: 'timeout', message: `no complete answer within ${this.options.readTimeoutMs} ms` }
        : classifyNoAnswer(error);
      return { at, durationMs: performance.now() - started, httpStatus: null, error: cause.error, message: cause.message };
    }
  }

  async close(): Promise<void> {
    this.#closing.abort(new Error('the gateway is closing'));
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#origins.clear();
    await Promise.all([this.#agents.v1.destroy(), this.#agents.v2.destroy()]);
  }
}

/** Reads at most `limit` bytes of an answer; past it the rest is not read and the connection is dropped. */
async function readLimited(body: AsyncIterable<Buffer> & { destroy(error?: Error): void }, limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = limit - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      body.destroy();
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}
