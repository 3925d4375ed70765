import { randomBytes, timingSafeEqual } from 'node:crypto';
import { badRequest, unauthorized } from './errors.js';

export const DEFAULT_TOKEN_TTL_SECONDS = 30 * 60;
// The gateway hands back the live token when asked again before it expires; asked in its last minute, it
// also pushes the expiry five minutes out.
const EXTEND_WITHIN_SECONDS = 60;
const EXTEND_BY_SECONDS = 5 * 60;

export interface IssuedToken {
  access_token: string;
  now: number;
  expired_at: number;
}

export interface Credentials {
  impKey: string;
  impSecret: string;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** One live access token per gateway, as one REST API key has one at a time. */
export class TokenIssuer {
  #current: { token: string; expiresAt: number } | undefined;

  constructor(
    private readonly credentials: Credentials,
    private readonly ttlSeconds: number,
    private readonly nowSeconds: () => number,
  ) {}

  issue(impKey: string | undefined, impSecret: string | undefined): IssuedToken {
    if (impKey === undefined || impSecret === undefined) throw badRequest('imp_key and imp_secret are required');
    if (!sameText(impKey, this.credentials.impKey) || !sameText(impSecret, this.credentials.impSecret)) {
      throw unauthorized('imp_key or imp_secret is wrong');
    }
    const now = this.nowSeconds();
    const current = this.#current;
    if (current && now < current.expiresAt) {
      if (current.expiresAt - now <= EXTEND_WITHIN_SECONDS) current.expiresAt += EXTEND_BY_SECONDS;
      return { access_token: current.token, now, expired_at: current.expiresAt };
    }
    const fresh = { token: randomBytes(20).toString('hex'), expiresAt: now + this.ttlSeconds };
    this.#current = fresh;
    return { access_token: fresh.token, now, expired_at: fresh.expiresAt };
  }

  /**
   * Checks the token a request carries: `Authorization: Bearer <token>`, the bare token in Authorization, or
   * the older `X-ImpTokenHeader` that clients written for the first API version still send.
   */
  authorize(authorization: string | undefined, impTokenHeader: string | undefined): void {
    const presented = (authorization?.replace(/^Bearer\s+/i, '') ?? impTokenHeader)?.trim();
    if (!presented) throw unauthorized('no access token; send Authorization: Bearer <access_token> from POST /users/getToken');
    const current = this.#current;
    if (!current || !sameText(presented, current.token)) {
      throw unauthorized('the access token is not valid; get one from POST /users/getToken');
    }
    if (this.nowSeconds() >= current.expiresAt) {
      throw unauthorized('the access token has expired; get a new one from POST /users/getToken');
    }
  }
}
