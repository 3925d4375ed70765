import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
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

export interface FixedAnswerServer {
  /** A confirm URL on the server; it answers 200 `{}` on every path. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the node:http 200 `{}` server in its own process, on the server's CPU when the bench pins. */
export function startFixedAnswerServer(cpus: CpuPlan | null): Promise<FixedAnswerServer> {
  const [command, args] = onServerCpu(cpus, process.execPath, [SERVER_SCRIPT]);
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
      reject(new Error(`the fixed-answer server did not start: ${why}`));
    };
    const timer = setTimeout(() => fail(`no port after ${SERVER_START_TIMEOUT_MS} ms`), SERVER_START_TIMEOUT_MS);
    const exitedEarly = (code: number | null, signal: NodeJS.Signals | null): void => fail(`it exited (${signal ?? code})`);
    child.once('error', (error) => fail(error.message));
    child.once('exit', exitedEarly);
    child.once('message', (message: { port?: unknown }) => {
      if (typeof message.port !== 'number') return fail(`unexpected message ${JSON.stringify(message)}`);
      clearTimeout(timer);
      child.removeListener('exit', exitedEarly);
      resolve({ url: `http://127.0.0.1:${message.port}/confirm`, stop });
    });
  });
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
