import { request, type Dispatcher } from 'undici';
import { MAX_ANSWER_BODY_BYTES } from './answer-rules.js';
import { readBoundedBody } from './bounded-body.js';

export interface BoundedAnswer {
  status: number;
  /** The whole body, decoded as UTF-8 (at most MAX_ANSWER_BODY_BYTES). */
  text: string;
}

export interface BoundedRequestOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Deadline for the whole exchange, body included. */
  timeoutMs: number;
  /** Aborts the exchange at once (Ctrl-C), whatever phase it is in. */
  signal?: AbortSignal | undefined;
  dispatcher?: Dispatcher;
}

/**
 * One call to a merchant's set-up hook or stock probe: the answer's body is read up to MAX_ANSWER_BODY_BYTES
 * (past it: BodyTooLargeError, the connection closed), the whole exchange has one deadline, and the signal
 * stops it in any phase, reading a body that never ends included. Rejects as undici does otherwise; callers
 * name the failure with classifyNoAnswer.
 */
export async function boundedRequest(url: string | URL, options: BoundedRequestOptions): Promise<BoundedAnswer> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  try {
    const response = await request(url, {
      method: options.method,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.body === undefined ? {} : { body: options.body }),
      signal,
      headersTimeout: 0,
      bodyTimeout: 0,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    const body = await readBoundedBody(response.body, MAX_ANSWER_BODY_BYTES);
    return { status: response.statusCode, text: body.text };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (deadline.aborted) throw new DeadlineError(options.timeoutMs);
    throw error;
  }
}

/** The exchange's deadline passed; classifyNoAnswer calls it a timeout. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
  readonly code = 'ETIMEDOUT';
  constructor(timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
  }
}
