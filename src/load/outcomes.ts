import type { Dialect } from '../protocol/dialects.js';
import { refusalDetail } from '../protocol/decision.js';
import { reasonPattern, saysUnknownOrder } from '../protocol/refusals.js';
import { NO_ANSWER_KINDS } from '../protocol/decision.js';
import type { NoAnswerKind } from '../protocol/decision.js';
import type { SliceSpec } from './schedule.js';
import { sendsTwice } from './schedule.js';

/** What became of one request, as the gateway sees it. Stored as one byte per request. */
export const Outcome = {
  NotSent: 0,
  Accepted: 1,
  Refused: 2,
  Timeout: 3,
  ConnectionError: 4,
  /** Still in flight when the run was interrupted: neither side of the verdict. */
  Aborted: 5,
} as const;
export type OutcomeCode = (typeof Outcome)[keyof typeof Outcome];
export const OUTCOME_NAMES = ['not-sent', 'accepted', 'refused', 'timeout', 'connection-error', 'aborted'] as const;

/** Bits of the per-request flags byte. */
export const Flag = {
  Duplicate: 1,
  /** An HTTP answer arrived after the gateway's timeout. */
  LateAnswer: 2,
  /** ...and it was a 200: the merchant took stock for a payment the gateway already failed. */
  Stranded: 4,
  /** Never attempted: the target had stopped accepting connections. */
  TargetDown: 8,
} as const;

export interface RefusalReason {
  status: number;
  /** The `reason` / `errorMessage` the merchant gave, ids in it replaced by <id>, or null. */
  detail: string | null;
  /** The answer says the merchant does not know the order (404, "unknown order"). */
  unknownOrder: boolean;
  /** The first body seen with this status and detail, cut short, for the gateway's decision text. */
  body: string;
}

/** Distinct refusal reasons kept per thread; a merchant that writes the buyer into every reason would fill memory. */
const MAX_REASONS = 1000;
const MAX_BODY_CACHE = 10_000;
const KEPT_BODY_CHARS = 300;
/** Reason id 0 collects refusals once MAX_REASONS distinct ones are known. */
export const OVERFLOW_REASON = 0;

export interface OutcomeArrays {
  buyerOf: Uint32Array;
  outcome: Uint8Array;
  flags: Uint8Array;
  status: Uint16Array;
  detail: Uint16Array;
  latencyMs: Float32Array;
  /** Float32 keeps a million requests in 4 MB; its ~0.02 ms step at 200 s is far below what is measured. */
  sentAtMs: Float32Array;
}

/**
 * Every request's outcome in typed arrays indexed by request (a buyer's duplicate right after it), so a
 * million buyers cost ~20 MB and no garbage: merchant_uids and bodies are rebuilt from the index on demand.
 */
export class OutcomeStore {
  readonly requests: number;
  readonly arrays: OutcomeArrays;
  readonly reasons: RefusalReason[] = [{ status: 0, detail: '(more distinct reasons than confirm-sim keeps)', body: '', unknownOrder: false }];
  readonly #reasonIds = new Map<string, number>();
  readonly #bodyCache = new Map<string, number>();

  constructor(
    readonly slice: SliceSpec,
    readonly duplicates: number,
    arrays?: OutcomeArrays,
  ) {
    if (arrays) {
      this.arrays = arrays;
      this.requests = arrays.outcome.length;
      return;
    }
    let requests = 0;
    for (let j = 0; j < slice.count; j++) requests += sendsTwice(slice.offset + slice.stride * j, duplicates) ? 2 : 1;
    this.requests = requests;
    const buyerOf = new Uint32Array(requests);
    const flags = new Uint8Array(requests);
    for (let j = 0, r = 0; j < slice.count; j++) {
      buyerOf[r++] = j;
      if (sendsTwice(slice.offset + slice.stride * j, duplicates)) {
        flags[r] = Flag.Duplicate;
        buyerOf[r++] = j;
      }
    }
    const sentAtMs = new Float32Array(requests).fill(Number.NaN);
    this.arrays = {
      buyerOf,
      outcome: new Uint8Array(requests),
      flags,
      status: new Uint16Array(requests),
      detail: new Uint16Array(requests),
      latencyMs: new Float32Array(requests),
      sentAtMs,
    };
  }

  globalBuyer(request: number): number {
    return this.slice.offset + this.slice.stride * this.arrays.buyerOf[request]!;
  }

  /** Files a refusal body under its (status, reason) and returns the id stored for the request. */
  reasonFor(dialect: Dialect, status: number, body: string, detailOf: (body: string) => string | null = (text) => refusalDetail(dialect, text)): number {
    const cacheKey = `${status} ${body}`;
    const cached = this.#bodyCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const given = detailOf(body);
    const detail = given === null ? null : reasonPattern(given);
    const key = `${status} ${detail ?? ''}`;
    let id = this.#reasonIds.get(key);
    if (id === undefined) {
      if (this.reasons.length >= MAX_REASONS) return OVERFLOW_REASON;
      id = this.reasons.length;
      this.reasons.push({ status, detail, body: body.slice(0, KEPT_BODY_CHARS), unknownOrder: saysUnknownOrder(status, given) });
      this.#reasonIds.set(key, id);
    }
    if (this.#bodyCache.size < MAX_BODY_CACHE) this.#bodyCache.set(cacheKey, id);
    return id;
  }

  /** Registers a reason from another store (a worker's) and returns its id here. */
  adoptReason(reason: RefusalReason): number {
    const key = `${reason.status} ${reason.detail ?? ''}`;
    const known = this.#reasonIds.get(key);
    if (known !== undefined) return known;
    if (this.reasons.length >= MAX_REASONS) return OVERFLOW_REASON;
    this.reasons.push(reason);
    this.#reasonIds.set(key, this.reasons.length - 1);
    return this.reasons.length - 1;
  }
}

export function noAnswerKindCode(kind: NoAnswerKind): number {
  return NO_ANSWER_KINDS.indexOf(kind);
}

export function noAnswerKindOf(code: number): NoAnswerKind {
  return NO_ANSWER_KINDS[code] ?? 'other';
}
