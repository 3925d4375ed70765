import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN_PATH } from './helpers/cli.js';
import { readReadme, shellExamples, isBackgrounded, type ShellExample } from './helpers/readme.js';

/**
 * The README as a walk-through: every `$ command` in its fenced blocks runs in README order, in one shell
 * session (so variables, exports and files carry over as they would for a reader), in a temporary folder,
 * with `npx confirm-sim` meaning this checkout's build. The rules a README example follows to pass:
 *
 * - `# exit N` after a command's output is its exit code; a command shown without one must exit 0.
 * - Every port in a command (`127.0.0.1:P`, `localhost:P`, `--port P`) is moved to a free one, the same
 *   free one for the same README port, so parallel runs and whatever listens on 3000 here do not collide;
 *   so are those URLs in files a command writes (the scenario `init` writes).
 * - A command with `--port P` is a server. Ending in `&`, it runs in the background and the next command
 *   waits until P listens. Shown without `&` (as you would in a second terminal), it runs the same way, its
 *   lines are looked for in everything it printed until the walk-through ends, and it is then stopped with
 *   Ctrl-C (SIGINT) and its exit code checked. A server's output is kept apart from the commands' (as in a
 *   terminal of its own), so its log lines never land inside another command's output. Any other `cmd &` is
 *   waited for when the next command ends.
 * - Every line the README shows must appear in the command's output, in order, compared by shape: runs of
 *   spaces are one, and any word holding a digit (a count, a latency with its unit, an id, a port, a JSON
 *   blob), an HTTP date and a histogram bar is a wildcard. So "PASS 5 idempotent-repeat (9.70 ms)" checks
 *   the verdict and the case, not the timing. `warning ...` lines (the generator's self-check, which depends
 *   on the machine's load) and a latency histogram's `≤ ...` rows may be missing. A line ending in `…` is a
 *   prefix: it matches an output line that begins with it (for a list that can grow on a busy machine, such as
 *   the problems a flawed merchant was caught by), and a line that is only `…` stands for lines left out.
 *
 * `CONFIRM_SIM_README_TRANSCRIPT=file` writes every command with what it printed and its exit code, to copy
 * real output into the README after changing an example.
 */

const COMMAND_TIMEOUT_MS = 120_000;
const PORT_WAIT_MS = 20_000;

const PORT_PATTERNS = [/((?:127\.0\.0\.1|localhost):)(\d{2,5})\b/g, /(--port[ =])(\d{2,5})\b/g];

function readmePorts(examples: ShellExample[]): Set<number> {
  const ports = new Set<number>();
  for (const { command } of examples) {
    for (const pattern of PORT_PATTERNS) {
      for (const match of command.matchAll(pattern)) ports.add(Number(match[2]));
    }
  }
  return ports;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function remapper(ports: Map<number, number>): (text: string) => string {
  return (text) => {
    let result = text;
    for (const pattern of PORT_PATTERNS) {
      result = result.replace(pattern, (whole, prefix: string, port: string) => {
        const real = ports.get(Number(port));
        return real === undefined ? whole : `${prefix}${real}`;
      });
    }
    return result;
  };
}

/** The README port a server command listens on, or null when it is not a server. */
function serverPort(command: string): number | null {
  const match = /--port[ =](\d+)\b/.exec(command);
  if (match === null || Number(match[1]) === 0) return null;
  return Number(match[1]);
}

const UNIT = /^(ms|s|µs|us|B|KB|kB|MB|GB|min)[),.:;]*$/;
const BAR = /^[█▏▎▍▌▋▊▉]+$/;
const HTTP_DATE = /\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} \w{3} \d{4} [\d:]+ GMT\b/g;

/** A line with everything that changes from run to run made a wildcard `#` (see the rules above). */
export function shape(line: string): string {
  const words = line.replace(HTTP_DATE, '#').trim().split(/\s+/);
  const shaped: string[] = [];
  for (const word of words) {
    const wild = /\d/.test(word) || BAR.test(word) || (UNIT.test(word) && shaped.at(-1) === '#');
    if (!wild) shaped.push(word);
    else if (shaped.at(-1) !== '#') shaped.push('#');
  }
  return shaped.join(' ');
}

/** The generator's self-check warnings depend on the machine's load, a histogram's rows on the latencies. */
const OPTIONAL = /^(warning\b|≤ )/;

/** The README lines missing from the output, in order: each must come after the one before it. */
function missingLines(expected: ShellExample['expected'], output: string[]): ShellExample['expected'] {
  const shapes = output.map(shape);
  const missing: ShellExample['expected'] = [];
  let from = 0;
  for (const wanted of expected) {
    const prefix = wanted.text.trimEnd().endsWith('…');
    const want = shape(prefix ? wanted.text.trimEnd().slice(0, -1) : wanted.text);
    if (want === '') continue;
    const found = prefix ? shapes.findIndex((line, at) => at >= from && line.startsWith(want)) : shapes.indexOf(want, from);
    if (found >= 0) from = found + 1;
    else if (!OPTIONAL.test(wanted.text.trim())) missing.push(wanted);
  }
  return missing;
}

interface Marker {
  index: number;
  kind: 'start' | 'started' | 'exit' | 'stopped';
  value: number | null;
  /** Position in the output lines. */
  at: number;
}

/** One bash process fed a command at a time; markers it prints tell where each command's output begins and ends. */
class Session {
  readonly lines: string[] = [];
  readonly markers: Marker[] = [];
  #partial = '';
  #waiters: { test: (marker: Marker) => boolean; resolve: (marker: Marker) => void }[] = [];
  readonly #shell;
  #exited = false;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    // Its own process group, so whatever an example leaves running goes with it.
    this.#shell = spawn('bash', ['--noprofile', '--norc'], { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#shell.stdout.setEncoding('utf8').on('data', (chunk: string) => this.#take(chunk));
    this.#shell.stderr.setEncoding('utf8').on('data', (chunk: string) => this.#take(chunk));
    this.#shell.on('exit', () => (this.#exited = true));
    this.send('exec 2>&1');
  }

  #take(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop()!;
    for (const line of parts) {
      const match = /@@WT (\d+) (start|started|exit|stopped)(?: (-?\d+))?\s*$/.exec(line);
      if (match === null) {
        this.lines.push(line);
        continue;
      }
      const before = line.slice(0, match.index);
      if (before.length > 0) this.lines.push(before);
      const marker: Marker = {
        index: Number(match[1]),
        kind: match[2] as Marker['kind'],
        value: match[3] === undefined ? null : Number(match[3]),
        at: this.lines.length,
      };
      this.markers.push(marker);
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!waiter.test(marker)) return true;
        waiter.resolve(marker);
        return false;
      });
    }
  }

  send(script: string): void {
    this.#shell.stdin.write(`${script}\n`);
  }

  marker(index: number, kind: Marker['kind'], timeoutMs: number, what: string): Promise<Marker> {
    const seen = this.markers.find((marker) => marker.index === index && marker.kind === kind);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: no end after ${timeoutMs / 1000} s`)), timeoutMs);
      this.#waiters.push({
        test: (marker) => marker.index === index && marker.kind === kind,
        resolve: (marker) => {
          clearTimeout(timer);
          resolve(marker);
        },
      });
    });
  }

  kill(): void {
    if (this.#exited || this.#shell.pid === undefined) return;
    try {
      process.kill(-this.#shell.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitListening(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await listening(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** Files a command wrote into the session's folder, with the README's ports moved like the commands' (init's scenario). */
function remapWrittenFiles(cwd: string, since: number, remap: (text: string) => string): void {
  for (const name of readdirSync(cwd)) {
    const file = path.join(cwd, name);
    const stat = statSync(file);
    if (!stat.isFile() || stat.mtimeMs < since || stat.size > 1_000_000) continue;
    const text = readFileSync(file, 'utf8');
    const moved = remap(text);
    if (moved !== text) writeFileSync(file, moved);
  }
}

/** What a server printed so far (its output goes to a file of its own, as to a terminal of its own). */
function serverLines(log: string): string[] {
  try {
    return readFileSync(log, 'utf8').split('\n');
  } catch {
    return [];
  }
}

function where(example: ShellExample): string {
  return `README.md:${example.line} \`$ ${example.command}\``;
}

function outputExcerpt(lines: string[]): string {
  const shown = lines.length > 60 ? [...lines.slice(0, 30), `... ${lines.length - 60} lines ...`, ...lines.slice(-30)] : lines;
  return shown.map((line) => `    | ${line}`).join('\n');
}

test('every README example works when run in the order written', { timeout: 600_000 }, async (t: TestContext) => {
  const examples = shellExamples(readReadme());
  assert.ok(examples.length > 10, `found only ${examples.length} "$ " examples in README.md`);

  const ports = new Map<number, number>();
  for (const port of readmePorts(examples)) ports.set(port, await freePort());
  const remap = remapper(ports);

  const cwd = mkdtempSync(path.join(tmpdir(), 'confirm-sim-readme-'));
  // `npx confirm-sim` is this checkout's build, as it is in a clone after npm install; any other npx is npm's.
  const binDir = mkdtempSync(path.join(tmpdir(), 'confirm-sim-readme-bin-'));
  const logDir = mkdtempSync(path.join(tmpdir(), 'confirm-sim-readme-servers-'));
  writeFileSync(
    path.join(binDir, 'npx'),
    `#!/bin/sh\nif [ "$1" = confirm-sim ]; then shift; exec "${process.execPath}" "${BIN_PATH}" "$@"; fi\nPATH="${process.env.PATH ?? ''}" exec npx "$@"\n`,
  );
  chmodSync(path.join(binDir, 'npx'), 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ''}`, NO_COLOR: '1' };
  delete env.FORCE_COLOR;

  const session = new Session(cwd, env);
  const failures: string[] = [];
  const transcript: string[] = [`ports ${[...ports].map(([readme, real]) => `${readme}=${real}`).join(' ')}`, ''];
  const durations: { example: ShellExample; ms: number }[] = [];
  const servers: { example: ShellExample; index: number; pid: number; checked: boolean; log: string }[] = [];
  try {
    for (const [index, example] of examples.entries()) {
      const command = remap(example.command);
      const port = serverPort(example.command);
      session.send(`printf '\\n@@WT %d start\\n' ${index}`);
      const start = await session.marker(index, 'start', COMMAND_TIMEOUT_MS, where(example));
      if (port !== null) {
        const background = isBackgrounded(command) ? command : `${command} &`;
        const log = path.join(logDir, `server-${index}.log`);
        session.send(`{ ${background}\n} >'${log}' 2>&1 </dev/null; printf '\\n@@WT %d started %d\\n' ${index} $!`);
        const started = await session.marker(index, 'started', COMMAND_TIMEOUT_MS, where(example));
        servers.push({ example, index, pid: started.value!, checked: !isBackgrounded(command), log });
        if (!(await waitListening(ports.get(port)!, PORT_WAIT_MS))) {
          failures.push(`${where(example)}: nothing listened on its port after ${PORT_WAIT_MS / 1000} s\n${outputExcerpt(serverLines(log))}`);
        }
        continue;
      }
      if (isBackgrounded(command)) {
        session.send(`{ ${command}\n} </dev/null; __wt_bg="$__wt_bg $!"`);
        continue;
      }
      const began = Date.now() - 1000;
      session.send(
        `{ ${command}\n} </dev/null; __wt_rc=$?; if [ -n "$__wt_bg" ]; then wait $__wt_bg; __wt_bg=; fi; printf '\\n@@WT %d exit %d\\n' ${index} "$__wt_rc"`,
      );
      const end = await session.marker(index, 'exit', COMMAND_TIMEOUT_MS, where(example));
      durations.push({ example, ms: Date.now() - began - 1000 });
      remapWrittenFiles(cwd, began, remap);
      const output = session.lines.slice(start.at, end.at);
      const printed = output.join('\n').trim();
      transcript.push(`README.md:${example.line}`, `$ ${example.command}`, ...(printed === '' ? [] : [printed]), `# exit ${end.value}`, '');
      const problems = missingLines(example.expected, output).map(
        (missing) => `README.md:${missing.line} "${missing.text.trim()}" is not in its output`,
      );
      if (end.value !== example.exit) problems.unshift(`exit ${end.value}, the README says ${example.exit ?? 0}`);
      if (problems.length > 0) failures.push(`${where(example)}:\n  ${problems.join('\n  ')}\n  its output:\n${outputExcerpt(output)}`);
    }
  } catch (error) {
    failures.push(`${(error as Error).message}\n${outputExcerpt(session.lines.slice(-60))}`);
  } finally {
    // Stop the servers as a reader would, with Ctrl-C, and judge the ones the README shows running in the foreground.
    for (const server of servers) session.send(`kill -INT ${server.pid} 2>/dev/null`);
    for (const server of servers) session.send(`wait ${server.pid}; printf '\\n@@WT %d stopped %d\\n' ${server.index} $?`);
    const stops = await Promise.allSettled(
      servers.map((server) => session.marker(server.index, 'stopped', 15_000, where(server.example))),
    );
    for (const [position, server] of servers.entries()) {
      const output = serverLines(server.log);
      transcript.push(`README.md:${server.example.line} (server, until stopped)`, `$ ${server.example.command}`, ...output, '');
      if (!server.checked) continue;
      const stop = stops[position]!;
      const problems = missingLines(server.example.expected, output).map(
        (missing) => `README.md:${missing.line} "${missing.text.trim()}" is not in what it printed until stopped`,
      );
      if (stop.status === 'rejected') problems.unshift('did not stop within 15 s of Ctrl-C');
      else if (stop.value.value !== (server.example.exit ?? 0)) {
        problems.unshift(`exit ${stop.value.value} after Ctrl-C, the README says ${server.example.exit ?? 0}`);
      }
      if (problems.length > 0) failures.push(`${where(server.example)}:\n  ${problems.join('\n  ')}\n  what it printed:\n${outputExcerpt(output)}`);
    }
    session.kill();
    if (process.env.CONFIRM_SIM_README_TRANSCRIPT) writeFileSync(process.env.CONFIRM_SIM_README_TRANSCRIPT, transcript.join('\n'));
    const slowest = durations.sort((a, b) => b.ms - a.ms).slice(0, 5);
    t.diagnostic(`slowest: ${slowest.map(({ example, ms }) => `README.md:${example.line} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
    rmSync(cwd, { recursive: true, force: true });
    rmSync(binDir, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
  }
  assert.equal(failures.length, 0, `${failures.length} README examples did not work as written:\n\n${failures.join('\n\n')}`);
});
