import type { ArrivalMode } from './schedule.js';
import type { BurstReport, BurstWarning } from './report.js';

export const BURST_PHASES = ['setup', 'orders', 'payments', 'connecting', 'waiting', 'running', 'draining', 'settling', 'probing'] as const;
export type BurstPhase = (typeof BURST_PHASES)[number];

export interface BurstProgress {
  elapsedMs: number;
  requests: number;
  sent: number;
  settled: number;
  accepted: number;
  refused: number;
  timeouts: number;
  errors: number;
  inFlight: number;
  stranded: number;
}

/** A set-up step that takes one call per buyer (creating orders, registering payments), as it goes. */
export interface SetupProgress {
  phase: 'orders' | 'payments';
  done: number;
  total: number;
}

export interface BurstStart {
  target: string;
  mode: ArrivalMode;
  buyers: number;
  requests: number;
  connections: number;
  threads: number;
  /** The units on sale at the start: probed (--stock-url) or given (--stock); null when neither says. */
  stock: number | null;
  stockProbed: boolean;
  /** Ramp and rate: the requests per second this process is meant to send (its share of a sharded run); null in burst mode. */
  targetRatePerSec: number | null;
}

/** What a burst tells its reporters while it runs; `done` carries the finished report. */
export type BurstEvents = {
  phase: { phase: BurstPhase; detail: string };
  setup: SetupProgress;
  start: BurstStart;
  progress: BurstProgress;
  warning: BurstWarning;
  done: BurstReport;
};
