import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { ConfirmRequestBuilder, buildConfirmBody, resolveBurstPlan, runBurst } from '../src/index.js';
import type { WarningCode } from '../src/index.js';
import { runToEnd, startFixedAnswerServer } from './children.js';
import { which } from './which.js';
import { median, perSecond } from './figures.js';
import type { BenchContext } from './context.js';
import type { BenchRow, Target } from './table.js';

export interface ThroughputSizes {
  /** Requests per measured run, for burst (buyers) and autocannon (amount) alike. */
  requests: number;
  connections: number[];
  /** Measured runs per tool and connection count; the median counts. */
  rounds: number;
  /** An unmeasured run of each tool first, so neither is judged on cold JIT. */
  warmupRequests: number;
}

export const THROUGHPUT_TARGET: Target = { direction: 'at-least', ratio: 1 };
/** autocannon can only notice that it is done on a sample tick; a short tick keeps its idle tail out of its time. */
const AUTOCANNON_SAMPLE_MS = 10;
/** Burst warnings that make its throughput figure suspect (no-overlap is about fairness, not speed). */
const THROUGHPUT_WARNINGS = new Set<WarningCode>(['generator-saturated', 'cpu-bound', 'event-loop-delay', 'local-errors']);

interface Measured {
  perSec: number;
  /** CPU time (user + system) this process spent per request: how hard the generator worked for each. */
  cpuMicrosPerRequest: number;
  problem: string | null;
}

type Tool = (url: string, connections: number, requests: number) => Promise<Omit<Measured, 'cpuMicrosPerRequest'>>;

/** Both generators run in this process, one at a time, so the process's CPU time is the generator's. */
async function measure(tool: Tool, url: string, connections: number, requests: number): Promise<Measured> {
  const before = process.cpuUsage();
  const measured = await tool(url, connections, requests);
  const spent = process.cpuUsage(before);
  return { ...measured, cpuMicrosPerRequest: (spent.user + spent.system) / requests };
}

const burst: Tool = async (url, connections, requests) => {
  const report = await runBurst({ url, buyers: requests, stock: requests, connections, strandedWaitMs: 0 });
  const answered = report.statusCodes['200'] ?? 0;
  const warnings = report.selfCheck.warnings.map((warning) => warning.code).filter((code) => THROUGHPUT_WARNINGS.has(code));
  const problem =
    answered !== requests
      ? `burst got ${answered} of ${requests} answers (${JSON.stringify(report.errorKinds)})`
      : warnings.length > 0
        ? `burst warned: ${warnings.join(', ')}`
        : null;
  return { perSec: report.throughputPerSec, problem };
};

/** The body every raw reference sends: the same shape and size as a burst buyer's confirm. */
function referenceBody(url: string): string {
  const plan = resolveBurstPlan({ url, buyers: 1, stock: 1 });
  return buildConfirmBody(plan.dialect, new ConfirmRequestBuilder(plan).order(0));
}

function autocannonWith(body: string): Tool {
  return async (url, connections, requests) => {
    const result = await autocannon({
      url,
      connections,
      amount: requests,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'confirm-sim' },
      body,
      sampleInt: AUTOCANNON_SAMPLE_MS,
    });
    const elapsedMs = result.finish.getTime() - result.start.getTime();
    const problem =
      result.errors + result.timeouts + result.non2xx > 0
        ? `autocannon had ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`
        : null;
    return { perSec: elapsedMs > 0 ? (result.requests.total / elapsedMs) * 1000 : 0, problem };
  };
}

/** wrk's own figure with one thread (the load generator's core), POSTing the same body. */
async function wrkRate(wrk: string, url: string, body: string, connections: number, seconds: number): Promise<number | string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'confirm-sim-bench-'));
  try {
    const script = path.join(folder, 'post.lua');
    await writeFile(
      script,
      `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`,
    );
    const run = await runToEnd(wrk, ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, url]);
    const match = /Requests\/sec:\s+([\d.]+)/.exec(run.stdout);
    if (run.code !== 0 || !match) return `wrk failed (exit ${run.code ?? run.signal}): ${run.stderr.trim().split('\n')[0] ?? ''}`;
    return Number(match[1]);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * Closed-loop throughput against the fixed-answer server: burst with a unique body per buyer and every
 * outcome recorded, against autocannon (and wrk, when installed) sending one fixed request, with the same
 * connections and the same number of requests. Rounds alternate which tool goes first so drift (the
 * server's JIT, CPU frequency) favours neither.
 */
export async function benchThroughput(sizes: ThroughputSizes, { log, cpus }: BenchContext): Promise<BenchRow[]> {
  const server = await startFixedAnswerServer(cpus);
  const wrk = which('wrk');
  try {
    const body = referenceBody(server.url);
    const autocannonTool = autocannonWith(body);
    const rows: BenchRow[] = [];
    for (const connections of sizes.connections) {
      log(`throughput: warming up with ${connections} connections`);
      const warmup = Math.max(connections, sizes.warmupRequests);
      await burst(server.url, connections, warmup);
      await autocannonTool(server.url, connections, warmup);
      const ours: Measured[] = [];
      const theirs: Measured[] = [];
      for (let round = 0; round < sizes.rounds; round++) {
        log(`throughput: ${connections} connections, round ${round + 1}/${sizes.rounds}`);
        const burstFirst = round % 2 === 0;
        if (burstFirst) ours.push(await measure(burst, server.url, connections, sizes.requests));
        theirs.push(await measure(autocannonTool, server.url, connections, sizes.requests));
        if (!burstFirst) ours.push(await measure(burst, server.url, connections, sizes.requests));
      }
      const oursPerSec = median(ours.map((run) => run.perSec));
      const autocannonPerSec = median(theirs.map((run) => run.perSec));
      const notes = [...new Set([...ours, ...theirs].flatMap((run) => (run.problem === null ? [] : [run.problem])))];
      const roundRatios = ours.map((run, round) => run.perSec / theirs[round]!.perSec);
      notes.push(
        `per-round ratios ${Math.min(...roundRatios).toFixed(2)}-${Math.max(...roundRatios).toFixed(2)}×; ` +
          `generator CPU per request: burst ${median(ours.map((run) => run.cpuMicrosPerRequest)).toFixed(1)} µs, ` +
          `autocannon ${median(theirs.map((run) => run.cpuMicrosPerRequest)).toFixed(1)} µs`,
      );
      if (wrk === null) {
        notes.push('wrk: not installed (apt-get install wrk)');
      } else {
        log(`throughput: wrk with ${connections} connections`);
        const seconds = Math.max(2, Math.round(sizes.requests / autocannonPerSec));
        const rate = await wrkRate(wrk, server.url, body, connections, seconds);
        notes.push(typeof rate === 'number' ? `wrk -t1: ${perSecond(rate)} (burst = ${(oursPerSec / rate).toFixed(2)}× wrk)` : rate);
      }
      rows.push({
        figure: `throughput, ${connections} conns × ${sizes.requests.toLocaleString('en-US')} req`,
        ours: perSecond(oursPerSec),
        reference: `autocannon ${perSecond(autocannonPerSec)}`,
        ratio: oursPerSec / autocannonPerSec,
        target: THROUGHPUT_TARGET,
        notes,
      });
    }
    return rows;
  } finally {
    await server.stop();
  }
}
