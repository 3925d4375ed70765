import { UsageError } from '../util/errors.js';
import { MERCHANT_UID_MAX_LENGTH } from '../protocol/ids.js';

/**
 * The arithmetic that lets every thread and every machine of a run agree on who buyer b is, whether b
 * double-submits and when b arrives, without talking to each other: all of it is a pure function of the
 * run's parameters and b, so shards and workers only need their slice.
 */

export const ARRIVAL_MODES = ['burst', 'ramp', 'rate'] as const;
export type ArrivalMode = (typeof ARRIVAL_MODES)[number];

/** The buyers one thread handles: global buyer b = offset + stride * j for local j in [0, count). */
export interface SliceSpec {
  offset: number;
  stride: number;
  count: number;
}

/** Shard `index` of `shards` takes every shards-th buyer, so each shard's arrivals spread over the whole run. */
export function sliceOf(parent: SliceSpec, index: number, parts: number): SliceSpec {
  const count = index < parent.count ? Math.ceil((parent.count - index) / parts) : 0;
  return { offset: parent.offset + parent.stride * index, stride: parent.stride * parts, count };
}

export function wholeRun(buyers: number): SliceSpec {
  return { offset: 0, stride: 1, count: buyers };
}

/**
 * Whether buyer b sends its confirm twice. Spreading the duplicates evenly (every 1/fraction-th buyer)
 * rather than at random keeps runs reproducible and lets shards decide without coordination.
 */
export function sendsTwice(buyer: number, fraction: number): boolean {
  return Math.floor((buyer + 1) * fraction) > Math.floor(buyer * fraction);
}

/** Position of buyer b's first request in the run's global arrival order (duplicates follow their original). */
export function arrivalPosition(buyer: number, fraction: number): number {
  return buyer + Math.floor(buyer * fraction);
}

export function totalRequests(buyers: number, fraction: number): number {
  return buyers + Math.floor(buyers * fraction);
}

export interface ArrivalSchedule {
  mode: ArrivalMode;
  /** Milliseconds between consecutive requests of the whole run; 0 in burst mode. */
  intervalMs: number;
}

export function arrivalSchedule(
  mode: ArrivalMode,
  requests: number,
  rampMs: number | null,
  ratePerSec: number | null,
): ArrivalSchedule {
  if (mode === 'rate' && ratePerSec !== null) return { mode, intervalMs: 1000 / ratePerSec };
  if (mode === 'ramp' && rampMs !== null) return { mode, intervalMs: requests > 0 ? rampMs / requests : 0 };
  return { mode: 'burst', intervalMs: 0 };
}

/** When the request at global position `position` is meant to leave, in ms after the run's start. */
export function intendedOffsetMs(schedule: ArrivalSchedule, position: number): number {
  return position * schedule.intervalMs;
}

/** A merchant_uid template: `{n}` is the buyer's number (1-based), `{run}` the run id. */
export class MerchantUidTemplate {
  readonly #before: string;
  readonly #after: string;

  constructor(
    readonly template: string,
    runId: string,
    buyers: number,
  ) {
    if (!template.includes('{n}')) {
      throw new UsageError(
        `\`merchantUid\`: "${template}" has no {n}; every buyer needs its own order id, e.g. 'sale-{n}'`,
      );
    }
    if (template.indexOf('{n}') !== template.lastIndexOf('{n}')) {
      throw new UsageError(`\`merchantUid\`: "${template}" has {n} more than once; use it once, e.g. 'sale-{n}'`);
    }
    const resolved = template.replaceAll('{run}', runId);
    const at = resolved.indexOf('{n}');
    this.#before = resolved.slice(0, at);
    this.#after = resolved.slice(at + 3);
    const longest = this.render(Math.max(buyers - 1, 0));
    if (longest.length > MERCHANT_UID_MAX_LENGTH) {
      throw new UsageError(
        `\`merchantUid\`: "${longest}" is ${longest.length} characters; the gateway allows ${MERCHANT_UID_MAX_LENGTH}, so shorten the template`,
      );
    }
  }

  /** The merchant_uid of global buyer b (0-based; shown 1-based because people count buyers from one). */
  render(buyer: number): string {
    return `${this.#before}${buyer + 1}${this.#after}`;
  }
}
