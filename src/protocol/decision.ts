import type { Dialect } from './dialects.js';
import { isV2 } from './dialects.js';

/** The two timeouts the gateway documents: 10 s in the developer docs, 5 s in the FAQ. We default to the stricter. */
export const DEFAULT_TIMEOUT_MS = 5_000;
export const DOCUMENTED_TIMEOUT_MS = 10_000;

/** Why no HTTP answer was read. Each maps to a distinct operational fix for the merchant. */
export const NO_ANSWER_KINDS = ['timeout', 'refused', 'reset', 'dns', 'tls', 'invalid-http', 'other', 'body-too-large'] as const;
export type NoAnswerKind = (typeof NO_ANSWER_KINDS)[number];

/** What came back from the merchant's confirm endpoint, as the gateway experienced it. */
export type ConfirmAnswer =
  | {
      kind: 'http';
      status: number;
      /** Raw body text (possibly truncated by the caller); the gateway reads `reason` / `errorMessage` from it. */
      body: string;
    }
  | {
      kind: 'no-answer';
      error: NoAnswerKind;
      message: string;
    };

export interface GatewayDecision {
  /** True only when the gateway would go on to charge the buyer. */
  proceed: boolean;
  /** What the gateway records on the failed payment (V1 `fail_reason`, V2 the `errorMessage` returned to the SDK). */
  failReason: string | null;
  /** One sentence for the user: why the gateway decided so. */
  explanation: string;
}

const V1_REASON_PREFIX = '고객사 요청에 의해 결제를 중단합니다. (상세사유 : ';
export const V1_UNKNOWN_DETAIL = '알 수 없음';

/** The fail_reason V1 records for a refusal carrying `detail` (or none). */
export function v1FailReason(detail: string | null): string {
  return `${V1_REASON_PREFIX}${detail ?? V1_UNKNOWN_DETAIL})`;
}

/** Reads one string field out of a JSON object body; anything else (not JSON, not a string) is null. */
export function readBodyField(body: string, field: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const value = (parsed as Record<string, unknown>)[field];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** The refusal detail the merchant gave, in the field its dialect uses, or null when it gave none. */
export function refusalDetail(dialect: Dialect, body: string): string | null {
  return readBodyField(body, isV2(dialect) ? 'errorMessage' : 'reason');
}

function failReasonFor(dialect: Dialect, detail: string | null): string | null {
  return isV2(dialect) ? detail : v1FailReason(detail);
}

const NO_ANSWER_EXPLANATIONS: Record<NoAnswerKind, string> = {
  timeout: 'no answer within the timeout; the gateway counts it as a 500 and fails the payment',
  refused: 'connection refused: nothing listens at the confirm URL',
  reset: 'the connection was reset or closed before a full answer arrived',
  dns: 'the confirm URL\'s host name does not resolve',
  tls: 'the TLS handshake failed (certificate or protocol)',
  'invalid-http': 'the answer is not valid HTTP',
  other: 'the request failed before an answer arrived',
  'body-too-large': 'the answer\'s body went past 1 MiB; the gateway stops reading there and fails the payment',
};

/**
 * What the gateway does with the merchant's answer: proceed only on exactly HTTP 200. Any other status,
 * including other 2xx and redirects (which the gateway does not follow), and no answer fail the payment.
 */
export function decide(dialect: Dialect, answer: ConfirmAnswer): GatewayDecision {
  if (answer.kind === 'no-answer') {
    return {
      proceed: false,
      failReason: failReasonFor(dialect, null),
      explanation: NO_ANSWER_EXPLANATIONS[answer.error],
    };
  }
  const { status } = answer;
  if (status === 200) {
    return { proceed: true, failReason: null, explanation: 'HTTP 200: the gateway asks the PG to charge the buyer' };
  }
  const detail = refusalDetail(dialect, answer.body);
  const field = isV2(dialect) ? 'errorMessage' : 'reason';
  let explanation: string;
  if (status >= 200 && status < 300) {
    explanation = `HTTP ${status} is not 200: only 200 means "go on", so the gateway fails the payment`;
  } else if (status >= 300 && status < 400) {
    explanation = `HTTP ${status} redirect: the gateway does not follow redirects and fails the payment`;
  } else {
    explanation = `HTTP ${status}: the merchant refused the payment`;
  }
  explanation += detail === null ? ` (the body has no "${field}")` : ` (${field}: ${detail})`;
  return { proceed: false, failReason: failReasonFor(dialect, detail), explanation };
}
