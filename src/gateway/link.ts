import { Pool } from 'undici';
import { UsageError } from '../util/errors.js';
import { parseHttpUrl } from '../util/url.js';
import { GatewayApiError } from './errors.js';
import type { PaymentPage, PaymentTimeline } from './gateway.js';
import type { SaleSummary } from './runs.js';
import {
  MAX_ANSWER_BATCH,
  MAX_SALE_CHUNK,
  type AnswersResult,
  type ConfirmAnswerReport,
  type RegistrationResult,
  type SaleRegistration,
  type SaleStatuses,
} from './sim/sales.js';

/** A gateway base URL, or a running gateway from startGateway (its `url` is used, so both work the same). */
export type GatewayTarget = string | URL | { readonly url: string };

export interface GatewayLinkOptions {
  /** How long an answer may wait to be sent with others; default 5 ms. */
  batchMs?: number;
  /** Answers sent together at most (and at once when this many wait); default 2,000. */
  batchSize?: number;
  /** Keep-alive connections to the gateway; default 4. */
  connections?: number;
  /** Deadline for one call to the gateway; default 30 s. */
  timeoutMs?: number;
}

/**
 * Everything a run needs from the simulated gateway, over HTTP to its base URL, so worker threads and other
 * processes use it alike: registering the sale before the timed part, reporting the merchant's confirm
 * answers as they arrive (batched), and reading the sale's truth afterwards.
 */
export interface GatewayLink {
  /** The REST API base URL the merchant is configured with. */
  readonly url: string;
  /**
   * Registers every payment of a sale as ready (chunked); refused as a whole chunk on a taken or repeated id.
   * A manual-confirm sale's answer carries each payment's token, in the order of the payments.
   */
  register(sale: SaleRegistration, signal?: AbortSignal): Promise<RegistrationResult>;
  /** One confirm answer as it arrives (status null = no answer in time); sent with others within `batchMs`. */
  answer(answer: ConfirmAnswerReport): void;
  /** Sends the answers waiting and resolves when the gateway applied every answer given so far. */
  flush(): Promise<AnswersResult>;
  /** The sale's truth: counts of payments, answers and webhooks, with examples. */
  summary(run: string): Promise<SaleSummary>;
  /** Each payment's state, one letter a payment in registration order (R ready, P paid, F failed, C/X cancelled). */
  statuses(run: string): Promise<SaleStatuses>;
  /** Says the run is done (after its summary was read): its payments are the first the gateway forgets. */
  end(run: string): Promise<SaleSummary>;
  /** One payment with its timeline, by imp_uid, paymentId or merchant_uid. */
  payment(id: string, run?: string): Promise<PaymentTimeline>;
  /** A page of the payments the gateway keeps. */
  list(options?: { page?: number; limit?: number; run?: string }): Promise<PaymentPage>;
  /** Sends what waits, then closes the connections; never rejects (call flush first to learn of lost answers). */
  close(): Promise<void>;
}

const DEFAULT_BATCH_MS = 5;
const DEFAULT_BATCH_SIZE = 2_000;
const DEFAULT_CONNECTIONS = 4;
const DEFAULT_TIMEOUT_MS = 30_000;
/** Our own gateway answers far less; a URL that points elsewhere must not fill our memory. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

function baseUrlOf(target: GatewayTarget): string {
  const text = typeof target === 'string' ? target : target instanceof URL ? target.href : target.url;
  const url = parseHttpUrl(text, '`gateway`');
  if (url.pathname !== '/' || url.search !== '') {
    throw new UsageError(`\`gateway\`: give the gateway's base URL (e.g. http://127.0.0.1:4000), without a path`);
  }
  return url.origin;
}

interface Envelope<T> {
  code: number;
  message: string | null;
  response: T;
}

/** Connects to a simulated gateway; nothing is sent until the first call. */
export function connectGateway(target: GatewayTarget, options: GatewayLinkOptions = {}): GatewayLink {
  const url = baseUrlOf(target);
  const batchMs = options.batchMs ?? DEFAULT_BATCH_MS;
  const batchSize = Math.min(options.batchSize ?? DEFAULT_BATCH_SIZE, MAX_ANSWER_BATCH);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const pool = new Pool(url, { connections: options.connections ?? DEFAULT_CONNECTIONS, pipelining: 1 });

  let waiting: ConfirmAnswerReport[] = [];
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();
  const applied: AnswersResult = { accepted: 0, late: 0, unknown: 0 };
  let failure: Error | undefined;
  let closed = false;

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const deadline = AbortSignal.timeout(timeoutMs);
    const response = await pool.request({
      path,
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        response.body.destroy();
        throw new Error(`the gateway at ${url} answered ${method} ${path} with more than ${MAX_ANSWER_BYTES} bytes; is it a confirm-sim gateway?`);
      }
      chunks.push(chunk);
    }
    let envelope: Envelope<T>;
    try {
      envelope = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope<T>;
    } catch {
      throw new Error(`the gateway at ${url} answered ${method} ${path} with HTTP ${response.statusCode} and no JSON; is it a confirm-sim gateway?`);
    }
    if (response.statusCode !== 200 || envelope.code !== 0) {
      throw new GatewayApiError(response.statusCode, envelope.code ?? 1, envelope.message ?? `HTTP ${response.statusCode} from ${method} ${path}`);
    }
    return envelope.response;
  }

  function send(): void {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (waiting.length === 0) return;
    const answers = waiting;
    waiting = [];
    const sending = call<AnswersResult>('POST', '/sim/confirm-answers', { answers })
      .then((result) => {
        applied.accepted += result.accepted;
        applied.late += result.late;
        applied.unknown += result.unknown;
      })
      .catch((error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  }

  async function flush(): Promise<AnswersResult> {
    send();
    while (inFlight.size > 0) await Promise.all(inFlight);
    if (failure) throw failure;
    return { ...applied };
  }

  return {
    url,
    async register(sale, signal) {
      const { payments, ...settings } = sale;
      let result: RegistrationResult = { run: sale.run, registered: 0, total: 0 };
      const tokens: NonNullable<RegistrationResult['tokens']> = [];
      for (let start = 0; start < payments.length || start === 0; start += MAX_SALE_CHUNK) {
        signal?.throwIfAborted();
        const chunk = await call<RegistrationResult>('POST', '/sim/sales', { ...settings, payments: payments.slice(start, start + MAX_SALE_CHUNK) }, signal);
        result = {
          run: chunk.run,
          registered: result.registered + chunk.registered,
          total: chunk.total,
          ...(chunk.impUids ? { impUids: [...(result.impUids ?? []), ...chunk.impUids] } : {}),
          ...(chunk.transactionIds ? { transactionIds: [...(result.transactionIds ?? []), ...chunk.transactionIds] } : {}),
        };
        if (chunk.tokens) {
          for (const token of chunk.tokens) tokens.push(token);
          result.tokens = tokens;
        }
      }
      return result;
    },
    answer(answer) {
      if (closed) throw new Error('the gateway link is closed');
      waiting.push(answer);
      if (waiting.length >= batchSize) send();
      else timer ??= setTimeout(send, batchMs);
    },
    flush,
    summary: (run) => call<SaleSummary>('GET', `/sim/sales/${encodeURIComponent(run)}`),
    statuses: (run) => call<SaleStatuses>('GET', `/sim/sales/${encodeURIComponent(run)}/statuses`),
    end: (run) => call<SaleSummary>('POST', `/sim/sales/${encodeURIComponent(run)}/end`, {}),
    payment: (id, run) =>
      call<PaymentTimeline>('GET', `/sim/payments/${encodeURIComponent(id)}${run === undefined ? '' : `?run=${encodeURIComponent(run)}`}`),
    list: (listOptions = {}) => {
      const query = new URLSearchParams();
      if (listOptions.page !== undefined) query.set('page', String(listOptions.page));
      if (listOptions.limit !== undefined) query.set('limit', String(listOptions.limit));
      if (listOptions.run !== undefined) query.set('run', listOptions.run);
      const text = query.toString();
      return call<PaymentPage>('GET', `/sim/payments${text === '' ? '' : `?${text}`}`);
    },
    async close() {
      if (closed) return;
      closed = true;
      await flush().catch(() => undefined);
      await pool.close();
    },
  };
}
