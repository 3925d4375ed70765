import { MAX_ANSWER_BODY_BYTES } from './answer-rules.js';

/** Thrown when an answer's body goes past the limit; classifyNoAnswer calls it `body-too-large`. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  readonly code = 'CONFIRM_SIM_BODY_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`the body went past ${limit >= 1024 * 1024 ? `${limit / (1024 * 1024)} MiB` : `${limit} bytes`}; confirm-sim stops reading there and closes the connection`);
  }
}

export interface BoundedBody {
  /** The first `keep` bytes, decoded as UTF-8. */
  text: string;
  truncated: boolean;
  /** Size of the whole body as received. */
  bytes: number;
}

/** An undici body (or any byte stream that can be destroyed). */
export interface DestroyableBody extends AsyncIterable<Buffer> {
  destroy(error?: Error): unknown;
}

/**
 * Reads a body, keeping its first `keep` bytes; past `limit` bytes it destroys the stream (closing the
 * connection) and throws BodyTooLargeError, so an answer that never ends costs neither memory nor the run.
 */
export async function readBoundedBody(body: DestroyableBody, keep: number, limit = MAX_ANSWER_BODY_BYTES): Promise<BoundedBody> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > limit) {
      const error = new BodyTooLargeError(limit);
      body.destroy(error);
      throw error;
    }
    if (keptBytes < keep) {
      const part = chunk.subarray(0, keep - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
  }
  const truncated = bytes > keptBytes;
  // stream: true on a cut body drops a half-kept multi-byte character instead of turning it into U+FFFD.
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(Buffer.concat(kept), { stream: truncated });
  return { text, truncated, bytes };
}
