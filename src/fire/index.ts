import { Client, request, errors, type Dispatcher } from 'undici';
import {
  DEFAULT_TIMEOUT_MS,
  MERCHANT_UID_MAX_LENGTH,
  buildConfirmBody,
  decide,
  isV2,
  newImpUid,
  newMerchantUid,
  newTransactionId,
  parseDialect,
  redactHeaderValue,
  signWebhook,
  type ConfirmOrder,
  type Dialect,
  type GatewayDecision,
  type NoAnswerKind,
  type SignOptions,
  type WebhookSecret,
} from '../protocol/index.js';
import { UsageError } from '../util/errors.js';
import { formatMs } from '../util/duration.js';
import { maskUrl, parseHttpUrl } from '../util/url.js';
import { SecretMask } from '../util/secrets.js';
import type { TypedEmitter } from '../util/events.js';
import { classifyNoAnswer, type NoAnswerCause } from './classify.js';
import { readBoundedBody } from '../http/bounded-body.js';
import { isValidStatus } from '../http/answer-rules.js';

export { classifyNoAnswer, type NoAnswerCause } from './classify.js';

const DEFAULT_AMOUNT = 1000;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface FireOptions {
  url: string | URL;
  /** Default 'v1'. */
  dialect?: Dialect;
  /** Missing ids are generated; amount defaults to 1000 and status to "ready". */
  order?: Partial<ConfirmOrder>;
  /** Signs V2 requests the Standard Webhooks way; V1 requests are never signed (a warning says so). */
  secret?: WebhookSecret;
  /** Reuse a webhook id (replay) or an old timestamp (stale). */
  signOptions?: SignOptions;
  /** Exactly these bytes instead of the dialect's body; still signed when a secret is given. */
  body?: string;
  /** Default application/json; null sends no Content-Type header. */
  contentType?: string | null;
  /** Extra headers; they override the defaults and the signature headers (names are case-insensitive). */
  headers?: Record<string, string>;
  /** Deadline for the whole exchange (connect + headers + body); default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /**
   * How much of the answer body to keep; the rest is read and discarded, up to MAX_ANSWER_BODY_BYTES (1 MiB),
   * past which the answer is `body-too-large`. Default 64 KiB.
   */
  maxBodyBytes?: number;
  signal?: AbortSignal;
  /**
   * Sends through this dispatcher (for connection reuse across many calls). By default each call opens its own
   * connection, so the measured time includes connecting, as the gateway's first call to a merchant does.
   */
  dispatcher?: Dispatcher;
  /** Receives the request before it is sent, so a reporter can show it while the answer is awaited. */
  events?: TypedEmitter<FireEvents>;
}

export interface FireRequest {
  url: string;
  method: 'POST';
  dialect: Dialect;
  /** As sent, with signatures and secrets masked. */
  headers: Record<string, string>;
  body: string;
  signed: boolean;
  order: ConfirmOrder;
  timeoutMs: number;
}

export type FireAnswer =
  | {
      kind: 'http';
      status: number;
      headers: Record<string, string>;
      /** The first maxBodyBytes of the body, decoded as UTF-8. */
      body: string;
      bodyTruncated: boolean;
      /** Size of the whole body as received. */
      bodyBytes: number;
      /** Until the status line and headers arrived, counted from before connecting. */
      ttfbMs: number;
      /** Until the body was complete. */
      totalMs: number;
    }
  | { kind: 'no-answer'; error: NoAnswerKind; message: string; totalMs: number };

export interface FireResult {
  schemaVersion: 2;
  request: FireRequest;
  answer: FireAnswer;
  decision: GatewayDecision;
  /** Things about the request the user may not have meant (an unused secret, an unsigned V2 call, ...). */
  warnings: string[];
}

export type FireEvents = {
  request: FireRequest;
};

interface PreparedRequest {
  url: URL;
  /** What this request sent that is secret, to be masked wherever the merchant echoes it back. */
  secrets: SecretMask;
  /** Unredacted, for the wire. */
  wireHeaders: Record<string, string>;
  request: FireRequest;
  warnings: string[];
}

function completeOrder(dialect: Dialect, partial: Partial<ConfirmOrder> = {}): ConfirmOrder {
  const order: ConfirmOrder = {
    merchantUid: partial.merchantUid ?? newMerchantUid(),
    impUid: partial.impUid ?? newImpUid(),
    amount: partial.amount ?? DEFAULT_AMOUNT,
    status: partial.status ?? 'ready',
    transactionId: partial.transactionId ?? newTransactionId(),
  };
  if (partial.storeId !== undefined) order.storeId = partial.storeId;
  // Fixed here rather than inside buildConfirmBody so the reported order matches the bytes sent.
  const timestamp = partial.timestamp ?? (dialect === 'v2-2024-04-25' ? new Date() : undefined);
  if (timestamp !== undefined) order.timestamp = timestamp;
  return order;
}

function checkLimits(timeoutMs: number, maxBodyBytes: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`timeout: ${timeoutMs} ms is not a usable deadline; give more than 0, e.g. 5s`);
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new UsageError(`maxBodyBytes: ${maxBodyBytes} is not a byte count; give a whole number of 0 or more`);
  }
}

function prepareRequest(options: FireOptions): PreparedRequest {
  const url = parseHttpUrl(options.url instanceof URL ? options.url.href : options.url, 'confirm URL');
  const dialect = parseDialect(options.dialect ?? 'v1');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  checkLimits(timeoutMs, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  const order = completeOrder(dialect, options.order);
  const body = options.body ?? buildConfirmBody(dialect, order);
  const warnings: string[] = [];

  const wireHeaders: Record<string, string> = {};
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) wireHeaders['content-type'] = contentType;
  let signed = false;
  if (options.secret && isV2(dialect)) {
    Object.assign(wireHeaders, signWebhook(options.secret, body, options.signOptions));
    signed = true;
  } else if (options.secret) {
    warnings.push(`the secret was not used: V1 confirm calls (dialect ${dialect}) are not signed`);
  } else if (isV2(dialect)) {
    warnings.push(
      'this V2 confirm call is unsigned; a merchant that verifies webhook signatures will refuse it (give the webhook secret to sign it)',
    );
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) wireHeaders[name.toLowerCase()] = value;

  if (order.merchantUid.length > MERCHANT_UID_MAX_LENGTH) {
    warnings.push(
      `merchant_uid is ${order.merchantUid.length} characters; the gateway stores at most ${MERCHANT_UID_MAX_LENGTH}, so it never sends such a confirm`,
    );
  }

  const shownHeaders = Object.fromEntries(
    Object.entries(wireHeaders).map(([name, value]) => [name, redactHeaderValue(name, value)]),
  );
  const secrets = new SecretMask().addUrl(url.href).addHeaders(wireHeaders);
  if (options.secret) secrets.add(options.secret.key.toString('base64'));
  return {
    url,
    secrets,
    wireHeaders,
    warnings,
    request: { url: maskUrl(url.href), method: 'POST', dialect, headers: shownHeaders, body, signed, order, timeoutMs },
  };
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = redactHeaderValue(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return flat;
}

/** Undici's refusals of the request itself: the caller's headers or body are wrong, not the merchant. */
function isRequestMistake(error: unknown): error is Error {
  return (
    error instanceof errors.InvalidArgumentError ||
    error instanceof errors.RequestContentLengthMismatchError ||
    error instanceof errors.NotSupportedError
  );
}

class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded';
}

async function exchange(prepared: PreparedRequest, options: FireOptions): Promise<FireAnswer> {
  options.signal?.throwIfAborted();
  const { timeoutMs } = prepared.request;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // One controller for both stops (not AbortSignal.any, which Node 20 only has from 20.3).
  const stop = new AbortController();
  const deadlineReason = new DeadlineExceeded(`no complete answer within ${formatMs(timeoutMs)}`);
  const timer = setTimeout(() => stop.abort(deadlineReason), timeoutMs);
  const onCallerAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const ownClient = options.dispatcher ? undefined : new Client(prepared.url.origin, { connect: { timeout: timeoutMs } });
  const started = performance.now();
  let headersArrived: { status: number; ttfbMs: number } | undefined;
  try {
    const response = await request(prepared.url, {
      method: 'POST',
      headers: prepared.wireHeaders,
      body: prepared.request.body,
      signal: stop.signal,
      dispatcher: options.dispatcher ?? ownClient,
      // One deadline governs the whole exchange; undici's own phase timeouts would cut it up differently.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    headersArrived = { status: response.statusCode, ttfbMs: performance.now() - started };
    if (!isValidStatus(response.statusCode)) {
      response.body.on('error', () => {}).destroy();
      const message = `status ${response.statusCode} is not an HTTP status (100 to 599)`;
      return { kind: 'no-answer', error: 'invalid-http', message, totalMs: performance.now() - started };
    }
    const body = await readBoundedBody(response.body, maxBodyBytes);
    return {
      kind: 'http',
      status: response.statusCode,
      headers: flattenHeaders(response.headers),
      body: body.text,
      bodyTruncated: body.truncated,
      bodyBytes: body.bytes,
      ttfbMs: headersArrived.ttfbMs,
      totalMs: performance.now() - started,
    };
  } catch (error) {
    const totalMs = performance.now() - started;
    if (options.signal?.aborted) throw options.signal.reason;
    if (isRequestMistake(error)) {
      throw new UsageError(`cannot send this request: ${prepared.secrets.text(error.message)}; check the extra headers and the body`);
    }
    const cause: NoAnswerCause =
      error === deadlineReason ? { error: 'timeout', message: deadlineReason.message } : classifyNoAnswer(error, headersArrived !== undefined);
    const message = headersArrived
      ? `HTTP ${headersArrived.status} headers arrived after ${formatMs(headersArrived.ttfbMs)}, but the body did not complete: ${cause.message}`
      : cause.message;
    return { kind: 'no-answer', error: cause.error, message, totalMs };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
    await ownClient?.destroy();
  }
}

/**
 * Sends one confirm request exactly as the gateway would and reports what the gateway would decide. Never
 * rejects for anything the merchant does (hang, reset, garbage): that is measured and classified in `answer`.
 * Rejects with UsageError for bad options, and with the signal's reason when the caller aborts.
 */
export async function fireConfirm(options: FireOptions): Promise<FireResult> {
  const prepared = prepareRequest(options);
  options.events?.emit('request', prepared.request);
  const answer = await exchange(prepared, options);
  const decision = decide(
    prepared.request.dialect,
    answer.kind === 'http'
      ? { kind: 'http', status: answer.status, body: answer.body }
      : { kind: 'no-answer', error: answer.error, message: answer.message },
  );
  // The merchant's answer may echo a credential we sent (a header, the secret): it is shown masked.
  const shown = prepared.secrets.deep({ answer, decision });
  return { schemaVersion: 2, request: prepared.request, ...shown, warnings: prepared.warnings };
}
