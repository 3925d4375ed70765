import { isV2, type Dialect } from '../protocol/index.js';
import type { FireResult } from '../fire/index.js';
import { formatMs } from '../util/duration.js';
import { escapeControlCharacters } from '../util/text.js';

/** Enough of a merchant's body to recognise it in a one-line failure message. */
const SHOWN_BODY_CHARS = 120;
/** What a report keeps of a request body: all of a real confirm, the start of a deliberately huge one. */
const KEPT_SENT_CHARS = 2_000;

/**
 * A merchant's text flattened to one line for a message, cut to `limit`. Control characters are shown
 * escaped: they could move a terminal's cursor, and XML (the JUnit report) cannot hold them at all.
 */
export function quoteMerchantText(text: string, limit = SHOWN_BODY_CHARS): string {
  const flat = escapeControlCharacters(text.replace(/\s+/g, ' ').trim());
  return flat.length > limit ? `${flat.slice(0, limit)}…` : flat;
}

function shortBody(body: string): string {
  return body.trim().length === 0 ? '(empty body)' : quoteMerchantText(body);
}

/** "HTTP 409 {"reason":"sold out"}" or "no answer (timeout: ...)", as the failure messages quote answers. */
export function describeAnswer(result: FireResult): string {
  const { answer } = result;
  if (answer.kind === 'no-answer') return `no answer after ${formatMs(answer.totalMs)} (${answer.error}: ${answer.message})`;
  return `HTTP ${answer.status} ${shortBody(answer.body)}`;
}

/** The order id under the name the dialect gives it: merchant_uid (V1) or paymentId (V2). */
function orderIdField(dialect: Dialect): string {
  return isV2(dialect) ? 'paymentId' : 'merchant_uid';
}

export function describeOrder(dialect: Dialect, merchantUid: string, amount?: number): string {
  const id = `${orderIdField(dialect)} "${merchantUid}"`;
  return amount === undefined ? id : `${id}, amount ${amount}`;
}

/** The compact, JSON-able record of one exchange that goes into a case's details. */
export function exchangeDetails(result: FireResult): Record<string, unknown> {
  const { answer } = result;
  return {
    sent: {
      body: result.request.body.length > KEPT_SENT_CHARS ? `${result.request.body.slice(0, KEPT_SENT_CHARS)}…` : result.request.body,
      signed: result.request.signed,
    },
    answer:
      answer.kind === 'http'
        ? { status: answer.status, body: shortBody(answer.body), totalMs: answer.totalMs }
        : { noAnswer: answer.error, message: answer.message, totalMs: answer.totalMs },
    proceed: result.decision.proceed,
  };
}
