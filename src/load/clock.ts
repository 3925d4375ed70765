import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** Wall-clock now with sub-millisecond resolution, comparable across threads and (NTP-synced) machines. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Timers fire up to a few ms late; the last stretch is spun so several threads or machines open together. */
const SPIN_MS = 3;

/** Resolves at `epochMs` (unix ms), or at once if that has passed or the signal aborts. */
export async function waitUntilEpoch(epochMs: number, signal?: AbortSignal): Promise<void> {
  const sleepMs = epochMs - epochNow() - SPIN_MS;
  if (sleepMs > 0) {
    try {
      await sleep(sleepMs, undefined, { signal });
    } catch {
      return;
    }
  }
  while (epochNow() < epochMs && !signal?.aborted) {
    // Busy-wait: at most SPIN_MS, to hit the start instant more tightly than a timer can.
  }
}
