import { randomBytes } from 'node:crypto';

/**
 * Random ids minted on a sale's hot path (a payment token per buyer, a webhook id per message) come from one
 * pooled CSPRNG draw per few thousand ids rather than a call each: 100,000 payments registered at once, and a
 * webhook per answer while the burst runs, would otherwise pay the call's cost every time.
 */
const POOL_BYTES = 16 * 1024;
let pool = Buffer.alloc(0);
let offset = 0;

/** `bytes` fresh random bytes (at most the pool's size), encoded; no two calls share a byte. */
export function pooledRandom(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const text = pool.toString(encoding, offset, offset + bytes);
  offset += bytes;
  return text;
}
