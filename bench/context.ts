import type { CpuPlan } from './pinning.js';

/** What every section of the bench gets from the runner. */
export interface BenchContext {
  /** A progress line, for the person waiting (stderr). */
  log(line: string): void;
  /** Where the generator and the server run; null when they are not pinned. */
  cpus: CpuPlan | null;
}
