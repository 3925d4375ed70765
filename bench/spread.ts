import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ConfirmRequestBuilder, readDescriptorBudget, resolveBurstPlan, runBurst } from '../src/index.js';
import { startFixedAnswerServer } from './children.js';
import { median, milliseconds } from './figures.js';
import type { BenchContext } from './context.js';
import type { BenchRow, Target } from './table.js';

export interface SpreadSizes {
  buyers: number;
  /**
   * Measured runs of each, after one unmeasured run apiece; the median counts. A write on loopback runs the
   * receiver's TCP path too, so single runs vary by 2-3× with what the server's core is doing.
   */
  rounds: number;
}

export const SPREAD_TARGET: Target = { direction: 'at-most', ratio: 1.5 };
/** Connects in flight at once in the reference: more overflows the listen backlog and adds 1 s SYN retries. */
const CONNECT_BATCH = 256;
const ANSWERS_WAIT_MS = 10_000;

/** Resolves once the socket is connected; the caller keeps the socket so it is destroyed even on failure. */
function connected(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve();
    });
    socket.once('error', reject);
  });
}

/**
 * The floor for a burst's dispatch: the same connections opened first, then the same pre-built requests
 * written in one synchronous loop, timed like the engine (after the first write to after the last).
 * Waits for the answers so the server is idle again before the next measurement.
 */
async function bareLoopSpreadMs(url: string, requests: Buffer[]): Promise<number> {
  const target = new URL(url);
  const port = Number(target.port);
  const sockets: net.Socket[] = [];
  try {
    while (sockets.length < requests.length) {
      const batch = Math.min(CONNECT_BATCH, requests.length - sockets.length);
      const opening = Array.from({ length: batch }, () => net.connect({ host: target.hostname, port, noDelay: true }));
      sockets.push(...opening);
      await Promise.all(opening.map(connected));
    }
    let answered = 0;
    const allAnswered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`bare loop: ${answered} of ${requests.length} answers after ${ANSWERS_WAIT_MS} ms`)),
        ANSWERS_WAIT_MS,
      );
      for (const socket of sockets) {
        socket.once('data', () => {
          if (++answered === requests.length) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
    });
    let firstWritten = Number.NaN;
    let lastWritten = Number.NaN;
    for (let index = 0; index < requests.length; index++) {
      sockets[index]!.write(requests[index]!);
      lastWritten = performance.now();
      if (index === 0) firstWritten = lastWritten;
    }
    await allAnswered;
    return lastWritten - firstWritten;
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

interface BurstSpread {
  spreadMs: number;
  problem: string | null;
}

async function burstSpread(url: string, buyers: number): Promise<BurstSpread> {
  const report = await runBurst({ url, buyers, stock: buyers, strandedWaitMs: 0 });
  const answered = report.statusCodes['200'] ?? 0;
  const problem =
    report.config.connections !== buyers
      ? `burst used ${report.config.connections} connections, not one per buyer (ulimit -n?)`
      : answered !== buyers
        ? `burst got ${answered} of ${buyers} answers (${JSON.stringify(report.errorKinds)})`
        : null;
  return { spreadMs: report.dispatchSpreadMs, problem };
}

/**
 * Burst mode's dispatch spread (every connection open, then every request released at once) against the
 * bare node:net loop doing the same writes with nothing else: what the engine adds per request in the
 * opening wave (outcome bookkeeping, timers, counters).
 */
export async function benchSpread(sizes: SpreadSizes, { log, cpus }: BenchContext): Promise<BenchRow[]> {
  const { buyers } = sizes;
  const figure = `dispatch spread, ${buyers.toLocaleString('en-US')} buyers`;
  const budget = readDescriptorBudget();
  if (budget.sockets < buyers) {
    const notes = [`needs ${buyers} sockets but ulimit -n leaves ${budget.sockets}; raise it (ulimit -n ${buyers + 1000})`];
    return [{ figure, ours: '-', reference: '-', ratio: null, target: SPREAD_TARGET, notes }];
  }
  const server = await startFixedAnswerServer(cpus);
  try {
    const plan = resolveBurstPlan({ url: server.url, buyers, stock: buyers });
    const builder = new ConfirmRequestBuilder(plan);
    const requests = Array.from({ length: buyers }, (_, buyer) => builder.build(buyer));
    log(`spread: warming up with ${buyers} buyers`);
    await burstSpread(server.url, buyers);
    await bareLoopSpreadMs(server.url, requests);
    const ours: number[] = [];
    const theirs: number[] = [];
    const problems = new Set<string>();
    for (let round = 0; round < sizes.rounds; round++) {
      log(`spread: ${buyers} buyers, round ${round + 1}/${sizes.rounds}`);
      const burstFirst = round % 2 === 0;
      if (!burstFirst) theirs.push(await bareLoopSpreadMs(server.url, requests));
      const measured = await burstSpread(server.url, buyers);
      ours.push(measured.spreadMs);
      if (measured.problem !== null) problems.add(measured.problem);
      if (burstFirst) theirs.push(await bareLoopSpreadMs(server.url, requests));
    }
    const oursMs = median(ours);
    const bareMs = median(theirs);
    return [
      {
        figure,
        ours: milliseconds(oursMs),
        reference: `bare node:net ${milliseconds(bareMs)}`,
        ratio: oursMs / bareMs,
        target: SPREAD_TARGET,
        notes: [
          ...problems,
          `rounds: burst ${ours.map((ms) => ms.toFixed(1)).join(' / ')} ms, bare ${theirs.map((ms) => ms.toFixed(1)).join(' / ')} ms`,
        ],
      },
    ];
  } finally {
    await server.stop();
  }
}
