import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { EventLoopUtilization, IntervalHistogram } from 'node:perf_hooks';

/** How busy this thread's event loop was while it drove load: if it was saturated, the generator was the bottleneck. */
export interface LoopHealth {
  /** Fraction of wall time the loop was busy, 0..1. */
  utilization: number;
  delayP99Ms: number;
  delayMaxMs: number;
}

export class LoopMonitor {
  readonly #delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  #utilizationAtStart: EventLoopUtilization | null = null;

  start(): void {
    this.#delay.enable();
    this.#utilizationAtStart = performance.eventLoopUtilization();
  }

  stop(): LoopHealth {
    this.#delay.disable();
    const since = this.#utilizationAtStart ?? performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(since).utilization;
    // The histogram reports nanoseconds; with no samples (very short runs) percentiles are 0, not NaN.
    const count = this.#delay.count;
    return {
      utilization: Number.isFinite(utilization) ? utilization : 0,
      delayP99Ms: count > 0 ? this.#delay.percentile(99) / 1e6 : 0,
      delayMaxMs: count > 0 ? this.#delay.max / 1e6 : 0,
    };
  }
}

/** CPU the whole process used over a stretch of wall time, as a share of one core (2.0 = two cores busy). */
export class CpuMeter {
  readonly #startUsage = process.cpuUsage();
  readonly #startWall = performance.now();

  coresBusy(): number {
    const used = process.cpuUsage(this.#startUsage);
    const wallMs = performance.now() - this.#startWall;
    return wallMs > 0 ? (used.user + used.system) / 1000 / wallMs : 0;
  }
}
