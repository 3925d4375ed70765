import { createRequire } from 'node:module';

/**
 * Node's own HTTP/1.1 parser (llhttp, the one `http.request` uses), strict as Node runs it by default. The
 * load engine parses answers with it so that burst judges an answer by the same rules as fire and the hooks,
 * whose undici client runs llhttp too: a status of `2000`, bare LF line endings, a NUL in a header or
 * Content-Length beside Transfer-Encoding is invalid HTTP everywhere, not a 200 here and an error there.
 *
 * It is reached through `_http_common`, the module Node's http client takes it from: stable across Node 18
 * to 24, with the callback slots and `execute`/`finish` API that http-parser-js was written to mimic.
 */
interface NativeParserClass {
  new (): NativeParser;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
}

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(data: Buffer): number | ParseError;
  finish(): number | ParseError | undefined;
  close(): void;
  [slot: number]: unknown;
}

/** llhttp's error: `code` is HPE_..., `reason` says what it choked on. */
export interface ParseError extends Error {
  code: string;
  reason?: string;
}

const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser: NativeParserClass };

export interface ResponseParserCallbacks {
  /** A new answer starts on the connection (its first byte was parsed). */
  onMessageBegin(): void;
  /** Status line and headers are in; `keepAlive` is false when the connection must close after this answer. */
  onHeadersComplete(status: number, keepAlive: boolean): void;
  onBody(chunk: Buffer): void;
  onMessageComplete(): void;
}

/** A strict response parser for one connection. Callbacks run synchronously inside `execute`. */
export class ResponseParser {
  readonly #native: NativeParser;
  #closed = false;

  constructor(callbacks: ResponseParserCallbacks) {
    const parser = new HTTPParser();
    // 0: Node's default header size limit (16 KiB, --max-http-header-size); 0: no lenient flags.
    parser.initialize(HTTPParser.RESPONSE, {}, 0, 0);
    parser[HTTPParser.kOnMessageBegin] = () => callbacks.onMessageBegin();
    parser[HTTPParser.kOnHeadersComplete] = (
      _major: number,
      _minor: number,
      _headers: string[],
      _method: unknown,
      _url: unknown,
      status: number,
      _reason: string,
      _upgrade: boolean,
      keepAlive: boolean,
    ) => {
      callbacks.onHeadersComplete(status, keepAlive);
      return 0;
    };
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => callbacks.onBody(chunk);
    parser[HTTPParser.kOnMessageComplete] = () => callbacks.onMessageComplete();
    this.#native = parser;
  }

  /** Parses bytes as they arrive; an error means the stream is not valid HTTP and the connection is unusable. */
  execute(data: Buffer): ParseError | null {
    if (this.#closed) return null;
    const result = this.#native.execute(data);
    return result instanceof Error ? result : null;
  }

  /** The connection ended: delivers an answer delimited by the close, or says it was cut short. */
  finish(): ParseError | null {
    if (this.#closed) return null;
    const result = this.#native.finish();
    return result instanceof Error ? result : null;
  }

  /** Frees the native parser; later calls are no-ops. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }
}
