import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { UsageError } from '../util/errors.js';

/** Marks a token as the sample merchant's, so one pasted into the wrong place is easy to recognise. */
const TOKEN_PREFIX = 'csadm_';
const MIN_TOKEN_CHARS = 16;

/** A fresh admin token: 144 random bits, URL- and header-safe. */
export function generateAdminToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(18).toString('base64url')}`;
}

export function checkAdminToken(token: string, flag = 'adminToken'): string {
  if (token.length < MIN_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError(
      `${flag}: give at least ${MIN_TOKEN_CHARS} visible ASCII characters without spaces (leave it out and one is generated)`,
    );
  }
  return token;
}

/** How the token may be shown after the start banner: enough to tell two apart, never enough to use. */
export function maskAdminToken(token: string): string {
  return `${token.startsWith(TOKEN_PREFIX) ? TOKEN_PREFIX : ''}****`;
}

/** The header confirm-sim's hooks send (`--hook-header`), and any HTTP client can. */
export function adminHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Guards the admin routes (/reset, /orders): `Authorization: Bearer <token>`, compared in constant time. */
export class AdminGuard {
  readonly #expected: Buffer;

  constructor(token: string) {
    this.#expected = Buffer.from(`Bearer ${token}`);
  }

  allows(headers: IncomingHttpHeaders): boolean {
    const given = Buffer.from(headers.authorization ?? '');
    return given.length === this.#expected.length && timingSafeEqual(given, this.#expected);
  }
}
