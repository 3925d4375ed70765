import { timingSafeEqual } from 'node:crypto';
import { PortOneApiError } from './errors.js';

const SCHEME = /^PortOne\s+/i;

/** Whether a request presents a V2 credential, which is how one port tells V2 calls from V1 ones on shared paths. */
export function presentsApiSecret(authorization: string | undefined): boolean {
  return authorization !== undefined && SCHEME.test(authorization);
}

/** Checks `Authorization: PortOne <API secret>`, the scheme PortOne's server SDK sends on every call. */
export function checkApiSecret(expected: string, authorization: string | undefined): void {
  if (!presentsApiSecret(authorization)) {
    throw new PortOneApiError('UNAUTHORIZED', 'no API secret; send Authorization: PortOne <API secret>');
  }
  const presented = Buffer.from(authorization!.replace(SCHEME, '').trim());
  const wanted = Buffer.from(expected);
  if (presented.length !== wanted.length || !timingSafeEqual(presented, wanted)) {
    throw new PortOneApiError('UNAUTHORIZED', 'the API secret is not valid');
  }
}
