import { TypedEmitter } from './events.js';
import { maskUrl, maskUrlsInText } from './url.js';

const MASK = '****';

/**
 * The one rule for which headers carry credentials: a name containing auth, token, secret, signature,
 * password, session, cookie or key. That covers Authorization, Proxy-Authorization, Cookie, Set-Cookie,
 * X-Auth, X-Auth-Token, X-Password, X-Hub-Signature, X-Session, X-Api-Key, the gateway's X-ImpTokenHeader
 * and webhook-signature; it also masks a few harmless ones (Idempotency-Key), which costs nothing.
 */
const SENSITIVE_HEADER_NAME = /auth|token|secret|signature|passw|session|cookie|key/i;

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER_NAME.test(name);
}

/**
 * A header value as it may be shown: masked when the name is sensitive (webhook-signature keeps its "v1,"
 * scheme so a reader sees it was signed), otherwise with any whsec_ secret and URL credentials in it masked.
 */
export function maskHeaderValue(name: string, value: string): string {
  const lower = name.toLowerCase();
  if (lower === 'webhook-signature') return value.replace(/(v1,)[A-Za-z0-9+/=]+/g, `$1${MASK}`);
  if (isSensitiveHeader(lower)) return MASK;
  return maskUrlsInText(value.replace(/whsec_[A-Za-z0-9+/=]+/g, `whsec_${MASK}`));
}

/** Shorter values are not masked wherever they occur: "1" or "yes" would blank out half a report. */
const MIN_SECRET_CHARS = 6;

/**
 * The secrets a run sent (webhook secret, API secrets, admin tokens, sensitive header values, URL
 * credentials), so that a merchant echoing one back in its answer's headers or body does not make us print
 * it: every occurrence in text we show or write becomes ****.
 */
export class SecretMask {
  #secrets: string[] = [];

  /** Adds values to mask; short or empty ones are ignored. */
  add(...values: Array<string | null | undefined>): this {
    for (const value of values) {
      if (value === null || value === undefined || value.length < MIN_SECRET_CHARS || this.#secrets.includes(value)) continue;
      this.#secrets.push(value);
    }
    // Longest first, so a secret that contains another is masked whole.
    this.#secrets.sort((a, b) => b.length - a.length);
    return this;
  }

  /** Adds the values of the sensitive headers among these, and the credential after a scheme ("Bearer x" adds x too). */
  addHeaders(headers: Record<string, string> | ReadonlyArray<readonly [string, string]>): this {
    const entries = Array.isArray(headers) ? headers : Object.entries(headers);
    for (const [name, value] of entries) {
      if (!isSensitiveHeader(name)) continue;
      this.add(value, /^\S+\s+(\S+)$/.exec(value)?.[1]);
    }
    return this;
  }

  /** Adds a URL's password or lone user name and its credential-like parameter values, raw and decoded. */
  addUrl(text: string | null | undefined): this {
    if (text === null || text === undefined) return this;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return this;
    }
    const decode = (part: string): string => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    };
    this.add(url.password, decode(url.password));
    if (url.password === '') this.add(url.username, decode(url.username));
    const masked = new URL(maskUrl(url.href));
    for (const [name, value] of url.searchParams) {
      if (masked.searchParams.getAll(name).includes(MASK)) this.add(value, encodeURIComponent(value));
    }
    return this;
  }

  /** The text with every known secret and every URL credential masked. */
  text(text: string): string {
    let masked = text;
    for (const secret of this.#secrets) {
      if (masked.includes(secret)) masked = masked.split(secret).join(MASK);
    }
    return maskUrlsInText(masked);
  }

  /** A JSON-able value with every string in it (keys included) masked as `text` does; other values are kept. */
  deep<T>(value: T): T {
    return this.#walk(value) as T;
  }

  #walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.#walk(item));
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.text(key), this.#walk(item)]));
    }
    return value;
  }
}

/**
 * How a refusal names a malformed "Name: value" header without echoing its value: a header is how tokens
 * travel, and one typo (a missing colon) must not print the Bearer token. A name is shown only when a ":" or
 * "=" follows it (a bare word may be the token itself); the rest is ****.
 */
export function describeBadHeader(text: string): string {
  const match = /^\s*([\x21-\x39\x3b\x3c\x3e-\x7e]{1,64})\s*([:=])/.exec(text);
  if (match === null) return 'a header (not shown: it may hold a credential)';
  const [whole, name, separator] = match;
  return `"${name}${separator === ':' ? ': ' : separator}${text.slice(whole.length).trim() === '' ? '' : MASK}"`;
}

/**
 * An emitter that hands every payload to `target` masked: a run's events carry what the merchant answered
 * (reasons, examples, warnings), which reporters print as it comes.
 */
export function maskedEmitter<Events extends Record<string, unknown>>(target: TypedEmitter<Events>, mask: SecretMask): TypedEmitter<Events> {
  return new (class extends TypedEmitter<Events> {
    override emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
      target.emit(event, mask.deep(payload));
    }
  })();
}

/** The same error with its message masked, for refusals that quote a URL or a merchant's answer. */
export function maskError(error: unknown, mask: SecretMask): unknown {
  if (error instanceof Error) {
    const masked = mask.text(error.message);
    if (masked !== error.message) error.message = masked;
  }
  return error;
}
