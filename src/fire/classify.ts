import { errors } from 'undici';
import type { NoAnswerKind } from '../protocol/index.js';

/** Why no HTTP answer was read, and the one-line detail a merchant can act on. */
export interface NoAnswerCause {
  error: NoAnswerKind;
  message: string;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const REFUSED_CODES = new Set(['ECONNREFUSED']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);
// undici reports "other side closed" as UND_ERR_SOCKET, whether before the status line or mid-body.
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);
/**
 * Answers llhttp rejects in the load engine that undici reports in words of its own. Any llhttp error on an
 * answer with a Content-Length comes out as UND_ERR_RES_CONTENT_LENGTH_MISMATCH: before the headers were
 * delivered it is a framing conflict (Content-Length beside Transfer-Encoding, twice, `2 2`), after them a
 * body cut short by the close (a reset, as the engine counts it). An unasked-for 101 is "bad upgrade".
 */
const LENGTH_MISMATCH_CODE = 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
const INVALID_HTTP_CODES = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  // undici takes a status under 100 for an interim answer, then trips its own assertion: `099 OK` broke it.
  'ERR_ASSERTION',
]);
const INVALID_HTTP_SOCKET_MESSAGES = new Set(['bad upgrade']);
const BODY_TOO_LARGE_CODE = 'CONFIRM_SIM_BODY_TOO_LARGE';
// OpenSSL verification failures arrive as bare codes (DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, ...).
const TLS_CODE_PATTERN = /^(ERR_SSL_|ERR_TLS_|EPROTO$)|CERT|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|SELF_SIGNED/;

interface ErrorFacts {
  code: string | undefined;
  message: string;
  isParserError: boolean;
  /** OpenSSL's short reason ("wrong version number"), where its full message is an unreadable dump. */
  tlsReason: string | undefined;
  /** What the parser choked on, for invalid-http. */
  parserData: string | undefined;
}

function factsOf(error: unknown): ErrorFacts {
  if (!(error instanceof Error)) return { code: undefined, message: String(error), isParserError: false, tlsReason: undefined, parserData: undefined };
  const record = error as Error & { code?: unknown; reason?: unknown; data?: unknown };
  return {
    code: typeof record.code === 'string' ? record.code : undefined,
    message: error.message,
    isParserError: error instanceof errors.HTTPParserError,
    tlsReason: typeof record.reason === 'string' ? record.reason : undefined,
    parserData: error instanceof errors.HTTPParserError && typeof record.data === 'string' ? record.data : undefined,
  };
}

/** The error and everything it wraps: undici and net nest the OS error in `cause` or an AggregateError. */
function errorChain(error: unknown): ErrorFacts[] {
  const chain: ErrorFacts[] = [];
  const pending: unknown[] = [error];
  const seen = new Set<unknown>();
  while (pending.length > 0) {
    const current = pending.shift();
    if (current === undefined || current === null || seen.has(current)) continue;
    seen.add(current);
    chain.push(factsOf(current));
    if (current instanceof Error) {
      pending.push(current.cause);
      if (current instanceof AggregateError) pending.push(...(current.errors as unknown[]));
    }
  }
  return chain;
}

function kindOf(facts: ErrorFacts, afterHeaders: boolean): NoAnswerKind | null {
  const { code } = facts;
  if (code === LENGTH_MISMATCH_CODE) return afterHeaders ? 'reset' : 'invalid-http';
  if (facts.isParserError || code?.startsWith('HPE_') || (code !== undefined && INVALID_HTTP_CODES.has(code))) return 'invalid-http';
  if (code === 'UND_ERR_SOCKET' && INVALID_HTTP_SOCKET_MESSAGES.has(facts.message)) return 'invalid-http';
  if (code === BODY_TOO_LARGE_CODE) return 'body-too-large';
  if (code === undefined) return null;
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (REFUSED_CODES.has(code)) return 'refused';
  if (DNS_CODES.has(code)) return 'dns';
  if (TLS_CODE_PATTERN.test(code)) return 'tls';
  if (RESET_CODES.has(code)) return 'reset';
  return null;
}

// A generic wrapper (a socket error) says less than what it wraps (a TLS alert), so specific kinds win.
const KIND_PRIORITY: readonly NoAnswerKind[] = ['timeout', 'body-too-large', 'invalid-http', 'tls', 'dns', 'refused', 'reset'];

function describe(facts: ErrorFacts): string {
  let text = facts.tlsReason ?? facts.message;
  // Our own codes (CONFIRM_SIM_...) are for classifying; their messages say it all.
  if (facts.code !== undefined && !facts.code.startsWith('CONFIRM_SIM_') && !text.includes(facts.code)) text = `${facts.code}: ${text}`;
  if (facts.parserData !== undefined && facts.parserData.length > 0) {
    text += ` (received ${JSON.stringify(facts.parserData.slice(0, 60))})`;
  }
  return text;
}

/**
 * Classifies why a request to the merchant ended without an HTTP answer, the way undici and net report it.
 * `afterHeaders`: the status line and headers had been delivered when it failed.
 */
export function classifyNoAnswer(error: unknown, afterHeaders = false): NoAnswerCause {
  const chain = errorChain(error);
  const classified = chain.map((facts) => ({ facts, kind: kindOf(facts, afterHeaders) }));
  for (const kind of KIND_PRIORITY) {
    const match = classified.find((entry) => entry.kind === kind);
    if (match) return { error: kind, message: describe(match.facts) };
  }
  const outermost = chain[0];
  return { error: 'other', message: outermost ? describe(outermost) : 'unknown error' };
}
