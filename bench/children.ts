import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { onServerCpu } from './pinning.js';
import type { CpuPlan } from './pinning.js';

/**
 * Every process the bench starts goes through here, so that none outlives it: on a normal exit, an
 * uncaught error or Ctrl-C, whatever is still running is killed.
 */
const running = new Set<ChildProcess>();

function track<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.once('error', () => running.delete(child));
  return child;
}

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

const SERVER_START_TIMEOUT_MS = 10_000;
const SERVER_SCRIPT = fileURLToPath(new URL('./fixed-answer-server.js', import.meta.url));
const LOOP_SERVER_SCRIPT = fileURLToPath(new URL('./loop-server.js', import.meta.url));

export interface ChildServer<T> {
  /** What the child sent once it was listening. */
  ready: T;
  /** CPU time (user + system) the child has used so far, in µs; null where /proc cannot tell. */
  cpuMicros(): Promise<number | null>;
  stop(): Promise<void>;
}

/** Linux counts a process's CPU time in clock ticks of 10 ms (USER_HZ is 100 on every architecture node runs on). */
const MICROS_PER_TICK = 10_000;

async function cpuMicrosOf(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = fields === undefined ? Number.NaN : Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks * MICROS_PER_TICK : null;
}

/**
 * Starts a node script that listens and sends its URLs over the IPC channel, with `command args` deciding
 * where it runs (see pinning.ts); `check` turns the message into the caller's type or says what is wrong.
 */
function startChildServer<T>(name: string, [command, args]: [string, string[]], check: (message: unknown) => T | string): Promise<ChildServer<T>> {
  const child = track(spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      void stop();
      reject(new Error(`the ${name} did not start: ${why}`));
    };
    const timer = setTimeout(() => fail(`no port after ${SERVER_START_TIMEOUT_MS} ms`), SERVER_START_TIMEOUT_MS);
    const exitedEarly = (code: number | null, signal: NodeJS.Signals | null): void => fail(`it exited (${signal ?? code})`);
    child.once('error', (error) => fail(error.message));
    child.once('exit', exitedEarly);
    child.once('message', (message: unknown) => {
      const ready = check(message);
      if (typeof ready === 'string') return fail(ready);
      clearTimeout(timer);
      child.removeListener('exit', exitedEarly);
      resolve({ ready, stop, cpuMicros: () => cpuMicrosOf(child.pid) });
    });
  });
}

export interface FixedAnswerServer {
  /** A confirm URL on the server; it answers 200 `{}` on every path. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the node:http 200 `{}` server in its own process, on the server's CPU when the bench pins. */
export async function startFixedAnswerServer(cpus: CpuPlan | null): Promise<FixedAnswerServer> {
  const server = await startChildServer('fixed-answer server', onServerCpu(cpus, process.execPath, [SERVER_SCRIPT]), (message) => {
    const port = (message as { port?: unknown } | null)?.port;
    return typeof port === 'number' ? port : `unexpected message ${JSON.stringify(message)}`;
  });
  return { url: `http://127.0.0.1:${server.ready}/confirm`, stop: server.stop };
}

export interface LoopMerchantUrls {
  url: string;
  webhookUrl: string;
  resetUrl: string;
  stockUrl: string;
}

function urlsOf<K extends string>(message: unknown, keys: readonly K[]): Record<K, string> | string {
  const record = message as Record<string, unknown> | null;
  const ok = record !== null && typeof record === 'object' && keys.every((key) => typeof record[key] === 'string');
  return ok ? (record as Record<K, string>) : `unexpected message ${JSON.stringify(message)}`;
}

/** The sample merchant taking any new order, with `stock` units and as many orders kept, in its own process. */
export function startLoopMerchant(placed: (command: string, args: string[]) => [string, string[]], stock: number): Promise<ChildServer<LoopMerchantUrls>> {
  return startChildServer('sample merchant', placed(process.execPath, [LOOP_SERVER_SCRIPT, 'merchant', String(stock)]), (message) =>
    urlsOf(message, ['url', 'webhookUrl', 'resetUrl', 'stockUrl'] as const),
  );
}

/** The simulated gateway in its own process, as `confirm-sim gateway` runs beside a merchant. */
export function startLoopGateway(placed: (command: string, args: string[]) => [string, string[]]): Promise<ChildServer<{ url: string }>> {
  return startChildServer('gateway', placed(process.execPath, [LOOP_SERVER_SCRIPT, 'gateway']), (message) => urlsOf(message, ['url'] as const));
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** Runs a command to its end, collecting its output; fails only when it cannot be started. */
export function runToEnd(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Finished> {
  const startedAt = performance.now();
  const child = track(spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, wallMs: performance.now() - startedAt }));
  });
}
