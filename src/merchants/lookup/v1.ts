import { Pool } from 'undici';

/** What the merchant reads of a V1 payment (`GET /payments/{imp_uid}`); the gateway sends many more fields. */
export interface V1Payment {
  imp_uid: string;
  merchant_uid: string;
  amount: number;
  currency: string;
  status: string;
}

export interface V1LookupOptions {
  /** The REST API's base URL, e.g. http://127.0.0.1:4000 (the gateway's). */
  baseUrl: string;
  impKey: string;
  impSecret: string;
  /** Each REST call's deadline: well inside the gateway's 5 s confirm timeout. */
  timeoutMs: number;
  /** Sockets kept open to the gateway. */
  connections: number;
}

/** The REST API answered, but not with what the merchant needs: the confirm or notice cannot be verified. */
export class LookupError extends Error {
  override name = 'LookupError';
}

interface CachedToken {
  accessToken: string;
  /** Local epoch ms after which a fresh token is fetched. */
  refreshAt: number;
}

/** A token is renewed this long before the gateway says it expires, for the clocks' skew and a call in flight. */
const EXPIRY_MARGIN_MS = 30_000;

/**
 * The iamport V1 REST API as a merchant's server calls it: `POST /users/getToken` once, the token cached until
 * shortly before it expires (one refresh at a time, however many confirms arrive at once), then
 * `GET /payments/{imp_uid}` with `Authorization: Bearer <token>`.
 */
export class V1Lookup {
  readonly #options: V1LookupOptions;
  readonly #pool: Pool;
  readonly #basePath: string;
  #token: CachedToken | null = null;
  #refreshing: Promise<CachedToken> | null = null;

  constructor(options: V1LookupOptions) {
    this.#options = options;
    const base = new URL(options.baseUrl);
    this.#pool = new Pool(base.origin, {
      connections: options.connections,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    this.#basePath = base.pathname.replace(/\/+$/, '');
  }

  /** The payment, or null when the gateway has none with that imp_uid (404). */
  async payment(impUid: string): Promise<V1Payment | null> {
    const path = `/payments/${encodeURIComponent(impUid)}`;
    let answer = await this.#get(path, await this.#accessToken());
    // The token may have expired between the cache check and the call, or the gateway restarted: renew once.
    if (answer.status === 401) {
      this.#token = null;
      answer = await this.#get(path, await this.#accessToken());
    }
    if (answer.status === 404) return null;
    const response = unwrap(answer, `GET ${path}`);
    if (!isV1Payment(response)) throw new LookupError(`GET ${path} answered a payment without imp_uid, merchant_uid, amount and status`);
    return response;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  async #accessToken(): Promise<string> {
    const cached = this.#token;
    if (cached !== null && Date.now() < cached.refreshAt) return cached.accessToken;
    this.#refreshing ??= this.#fetchToken().finally(() => {
      this.#refreshing = null;
    });
    return (await this.#refreshing).accessToken;
  }

  async #fetchToken(): Promise<CachedToken> {
    const answer = await this.#call('POST', '/users/getToken', undefined, JSON.stringify({
      imp_key: this.#options.impKey,
      imp_secret: this.#options.impSecret,
    }));
    const response = unwrap(answer, 'POST /users/getToken');
    const { access_token: accessToken, now, expired_at: expiredAt } = (response ?? {}) as Record<string, unknown>;
    if (typeof accessToken !== 'string' || typeof now !== 'number' || typeof expiredAt !== 'number') {
      throw new LookupError('POST /users/getToken answered without access_token, now and expired_at');
    }
    // The gateway's clock may differ from ours: count the lifetime from its `now`, not its absolute expiry.
    const lifetimeMs = (expiredAt - now) * 1000;
    const margin = Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2);
    const token = { accessToken, refreshAt: Date.now() + lifetimeMs - margin };
    this.#token = token;
    return token;
  }

  #get(path: string, token: string): Promise<RestAnswer> {
    return this.#call('GET', path, `Bearer ${token}`);
  }

  async #call(method: 'GET' | 'POST', path: string, authorization?: string, body?: string): Promise<RestAnswer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (authorization !== undefined) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let status: number;
    let text: string;
    try {
      const answer = await this.#pool.request({ method, path: `${this.#basePath}${path}`, headers, body });
      status = answer.statusCode;
      text = await answer.body.text();
    } catch (error) {
      throw new LookupError(`${method} ${path} got no answer: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { status, text };
  }
}

interface RestAnswer {
  status: number;
  text: string;
}

/** The envelope `{code, message, response}`: the response when code is 0, else a LookupError with the message. */
function unwrap(answer: RestAnswer, call: string): unknown {
  let envelope: unknown;
  try {
    envelope = JSON.parse(answer.text);
  } catch {
    throw new LookupError(`${call} answered HTTP ${answer.status} that is not JSON`);
  }
  const { code, message, response } = (envelope ?? {}) as Record<string, unknown>;
  if (answer.status !== 200 || code !== 0) {
    throw new LookupError(`${call} answered HTTP ${answer.status} code ${String(code)}: ${typeof message === 'string' ? message : 'no message'}`);
  }
  return response;
}

function isV1Payment(value: unknown): value is V1Payment {
  if (value === null || typeof value !== 'object') return false;
  const payment = value as Record<string, unknown>;
  return typeof payment.imp_uid === 'string' && typeof payment.merchant_uid === 'string'
    && typeof payment.amount === 'number' && typeof payment.status === 'string';
}
