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

/** What a burst tells its reporters while it runs; `done` carries the finished report. */
export type BurstEvents = {
  phase: { phase: BurstPhase; detail: string };
  start: { target: string; mode: ArrivalMode; buyers: number; requests: number; connections: number; threads: number };
  progress: BurstProgress;
  warning: BurstWarning;
  done: BurstReport;
};
