import { randomInt, randomUUID } from 'node:crypto';

/** `imp_` followed by 12 digits, the shape of the gateway's payment ids. */
export const IMP_UID_PATTERN = /^imp_\d{12}$/;
/** The gateway stores merchant_uid in a 40-character column. */
export const MERCHANT_UID_MAX_LENGTH = 40;

export function newImpUid(): string {
  // Two draws because randomInt's range is limited to 2^48; each half is 6 zero-padded digits.
  const high = randomInt(0, 1_000_000).toString().padStart(6, '0');
  const low = randomInt(0, 1_000_000).toString().padStart(6, '0');
  return `imp_${high}${low}`;
}

/** Deterministic imp_uid for buyer n of a run: unique within the run, cheap to make by the million. */
export function impUidFor(runSeed: number, buyer: number): string {
  const value = (runSeed * 1_000_003 + buyer) % 1_000_000_000_000;
  return `imp_${value.toString().padStart(12, '0')}`;
}

export function newTransactionId(): string {
  return randomUUID();
}

/** A merchant_uid unique enough for a one-off `fire`: `order-` + time + random, well under 40 chars. */
export function newMerchantUid(prefix = 'order'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomInt(0, 36 ** 6).toString(36).padStart(6, '0')}`;
}

/** A short random id for a run, used in default merchant_uid templates so reruns never collide. */
export function newRunId(): string {
  return randomInt(0, 36 ** 6).toString(36).padStart(6, '0');
}
