import { spawnSync } from 'node:child_process';
import { which } from './which.js';

/**
 * Which CPU the load generator and the fixed-answer server each run on. Left to itself, Linux tends to wake
 * the server on the generator's core after each loopback write (wake-affine), so on a 2-core machine the
 * two would often share one core while the other idles, and throughput would flip between two modes from
 * run to run. Pinning each to its own core (taskset, where available) gives both tools the same setting.
 */
export interface CpuPlan {
  taskset: string;
  generator: number;
  server: number;
}

/** "0,2-3" (taskset's list format) as CPU numbers. */
function parseCpuList(text: string): number[] {
  return text.split(',').flatMap((part) => {
    const [from, to] = part.trim().split('-').map(Number);
    if (from === undefined || !Number.isInteger(from)) return [];
    const last = to === undefined ? from : to;
    return Array.from({ length: last - from + 1 }, (_, offset) => from + offset);
  });
}

/** Two CPUs this process may use, or null (no taskset, or one CPU): then the processes are not pinned. */
export function planCpus(): CpuPlan | null {
  const taskset = which('taskset');
  if (taskset === null) return null;
  const current = spawnSync(taskset, ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
  const list = /list:\s*([\d,-]+)/.exec(current.stdout)?.[1];
  const cpus = list === undefined ? [] : parseCpuList(list);
  if (cpus.length < 2) return null;
  return { taskset, generator: cpus[0]!, server: cpus[cpus.length - 1]! };
}

/** Moves every thread of this process (event loop, libuv pool, V8 helpers) onto the generator's CPU; says why not when it fails. */
export function pinThisProcess(plan: CpuPlan): string | null {
  const result = spawnSync(plan.taskset, ['-a', '-c', '-p', String(plan.generator), String(process.pid)], { encoding: 'utf8' });
  return result.status === 0 ? null : `taskset failed: ${(result.stderr ?? '').trim() || `exit ${result.status}`}`;
}

/** The command line running `command args` on the server's CPU (or as is, unpinned); everything else inherits the generator's. */
export function onServerCpu(plan: CpuPlan | null, command: string, args: string[]): [string, string[]] {
  return plan === null ? [command, args] : [plan.taskset, ['-c', String(plan.server), command, ...args]];
}

/** Where a child of the bench runs: beside the server, beside the generator, or wherever the scheduler puts it. */
export type Placement = 'server' | 'generator' | 'either';

/**
 * The command line running `command args` as `placement` says; unpinned runs leave it as is. A child inherits
 * the generator's pinning, so 'either' widens it again to both CPUs.
 */
export function placedOn(plan: CpuPlan | null, placement: Placement, command: string, args: string[]): [string, string[]] {
  if (plan === null || placement === 'generator') return [command, args];
  const cpus = placement === 'server' ? String(plan.server) : `${plan.generator},${plan.server}`;
  return [plan.taskset, ['-c', cpus, command, ...args]];
}
