import { PassThrough } from 'node:stream';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  stream.isTTY = isTTY;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Runs the CLI in-process, as `confirm-sim ...args`, with captured output and no TTY. */
export async function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; tty?: boolean } = {},
): Promise<CliRun> {
  const out = capture(options.tty ?? false);
  const err = capture(options.tty ?? false);
  const code = await main(['node', 'confirm-sim', ...args], {
    stdout: out.stream,
    stderr: err.stream,
    env: options.env ?? { ...process.env, NO_COLOR: '1' },
    signal: options.signal ?? new AbortController().signal,
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

export const BIN_PATH = fileURLToPath(new URL('../../../bin/confirm-sim.js', import.meta.url));

/** Runs the real binary in a child process, for what only a process shows (signals, exit codes, TTY-less CI). */
export function spawnCli(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    onSpawn?: (child: ReturnType<typeof spawn>) => void;
    /** Runs the CLI under `ulimit -n` of this many open files. */
    openFileLimit?: number;
  } = {},
): Promise<CliRun> {
  const [command, commandArgs] =
    options.openFileLimit === undefined
      ? [process.execPath, [BIN_PATH, ...args]]
      : ['sh', ['-c', `ulimit -n ${options.openFileLimit} && exec "${process.execPath}" "${BIN_PATH}" "$@"`, 'sh', ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      env: options.env ?? { ...process.env, NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    options.onSpawn?.(child);
  });
}
