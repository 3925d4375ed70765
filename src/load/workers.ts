import { Worker } from 'node:worker_threads';
import type { BurstPlan } from './options.js';
import type { SliceSpec } from './schedule.js';
import { sliceOf } from './schedule.js';
import type { SliceMeasurements } from './engine.js';
import { COUNTER_SLOTS } from './engine.js';
import { Outcome, OutcomeStore } from './outcomes.js';
import type { OutcomeArrays, RefusalReason } from './outcomes.js';
import { epochNow } from './clock.js';
import { UsageError } from '../util/errors.js';
import type { TokenTableData } from '../protocol/completion.js';

export interface WorkerInput {
  plan: BurstPlan;
  slice: SliceSpec;
  connections: number;
  socketBudget: number;
  counters: SharedArrayBuffer;
  /** manual-confirm: the buyers' payment tokens, in SharedArrayBuffers every thread reads. */
  tokens: TokenTableData | null;
}

export type WorkerCommand = { type: 'go'; atEpochMs: number } | { type: 'abort'; drainMs: number };

export type WorkerReply =
  | { type: 'ready' }
  | {
      type: 'done';
      measurements: SliceMeasurements;
      arrays: OutcomeArrays;
      reasons: RefusalReason[];
      /** Why answers could not be handed to the gateway (a run with --gateway), or null. */
      gatewayError: string | null;
    };

/** Threads get a moment after the last one is ready, so the go message reaches all before the start instant. */
const GO_LEAD_MS = 20;

export interface WorkerPoolRun {
  /** Live counters of each worker, to sum for progress. */
  counters: Int32Array[];
  /** Resolves once every worker is connected and has built its opening wave. */
  ready: Promise<void>;
  /** Releases all workers at the same instant (no earlier than `startAt`, unix ms). */
  go(startAt: number | null): number;
  abort(drainMs: number): void;
  /** Stops every worker at once; for failures, since finished workers exit by themselves. */
  terminate(): Promise<void>;
  /** The workers' outcomes gathered into one store for the whole slice, with their combined measurements. */
  done: Promise<{ store: OutcomeStore; measurements: SliceMeasurements }>;
}

/**
 * Splits a slice over worker threads, each running the same engine on every k-th buyer, and gathers the
 * outcome arrays back into one store so the summary and verdict are computed exactly as for one thread.
 */
export function startWorkers(
  plan: BurstPlan,
  slice: SliceSpec,
  connections: number,
  socketBudget: number,
  threads: number,
  tokens: TokenTableData | null = null,
): WorkerPoolRun {
  const parts = Array.from({ length: threads }, (_, index) => sliceOf(slice, index, threads));
  const counters = parts.map(() => new Int32Array(new SharedArrayBuffer(COUNTER_SLOTS * Int32Array.BYTES_PER_ELEMENT)));
  const workers = parts.map(
    (part, index) =>
      new Worker(new URL('./worker.js', import.meta.url), {
        // Requests are short-lived garbage; a small young generation keeps each thread's footprint down
        // (a million-buyer run stays well under 200 MB) and measured no slower.
        resourceLimits: { maxYoungGenerationSizeMb: 8 },
        workerData: {
          plan,
          slice: part,
          connections: Math.max(1, Math.ceil(connections / threads)),
          socketBudget: Math.max(1, Math.floor(socketBudget / threads)),
          counters: counters[index]!.buffer,
          tokens,
        } satisfies WorkerInput,
      }),
  );
  const watched = workers.map(watch);
  const done = Promise.all(watched.map((worker) => worker.done)).then((replies) => gather(plan, slice, parts, replies));
  // A worker that fails before `ready` rejects both promises; the caller only awaits the first.
  done.catch(() => {});
  return {
    counters,
    ready: Promise.all(watched.map((worker) => worker.ready)).then(() => undefined),
    go(startAt) {
      const atEpochMs = Math.max(startAt ?? 0, epochNow() + GO_LEAD_MS);
      for (const worker of workers) worker.postMessage({ type: 'go', atEpochMs } satisfies WorkerCommand);
      return atEpochMs;
    },
    abort(drainMs) {
      for (const worker of workers) worker.postMessage({ type: 'abort', drainMs } satisfies WorkerCommand);
    },
    async terminate() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
    done,
  };
}

type DoneReply = Extract<WorkerReply, { type: 'done' }>;

function watch(worker: Worker): { ready: Promise<void>; done: Promise<DoneReply> } {
  let onReady: () => void = () => {};
  let onDone: (reply: DoneReply) => void = () => {};
  let failReady: (error: Error) => void = () => {};
  let failDone: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    failReady = reject;
  });
  const done = new Promise<DoneReply>((resolve, reject) => {
    onDone = resolve;
    failDone = reject;
  });
  const fail = (error: Error): void => {
    failReady(error);
    failDone(error);
  };
  worker.on('message', (reply: WorkerReply) => (reply.type === 'ready' ? onReady() : onDone(reply)));
  worker.on('error', fail);
  // Also fires after a normal finish, when both promises are settled and rejecting changes nothing.
  worker.on('exit', (code) => fail(new Error(`load worker exited with code ${code} before reporting`)));
  return { ready, done };
}

function gather(
  plan: BurstPlan,
  slice: SliceSpec,
  parts: SliceSpec[],
  replies: DoneReply[],
): { store: OutcomeStore; measurements: SliceMeasurements } {
  const lost = replies.find((reply) => reply.gatewayError !== null);
  if (lost) {
    throw new UsageError(`\`gateway\`: a load thread could not hand its answers to the gateway at ${plan.gateway?.url ?? '?'} (${lost.gatewayError}); check that confirm-sim gateway is running there`);
  }
  const store = new OutcomeStore(slice, plan.duplicates);
  const target = store.arrays;
  const barrier = Math.min(...replies.map((reply) => reply.measurements.barrierEpochMs));
  const sources = replies.map((reply, index) => ({
    arrays: reply.arrays,
    reasonIds: reply.reasons.map((reason) => store.adoptReason(reason)),
    shiftMs: reply.measurements.barrierEpochMs - barrier,
    next: 0,
    part: parts[index]!,
  }));
  const threads = parts.length;
  for (let request = 0; request < store.requests; ) {
    const buyer = target.buyerOf[request]!;
    const source = sources[buyer % threads]!;
    do {
      const from = source.next++;
      target.outcome[request] = source.arrays.outcome[from]!;
      target.flags[request] = source.arrays.flags[from]!;
      target.status[request] = source.arrays.status[from]!;
      target.latencyMs[request] = source.arrays.latencyMs[from]!;
      target.sentAtMs[request] = source.arrays.sentAtMs[from]! + source.shiftMs;
      const detail = source.arrays.detail[from]!;
      target.detail[request] = target.outcome[request] === Outcome.Refused ? source.reasonIds[detail]! : detail;
      request++;
    } while (request < store.requests && target.buyerOf[request] === buyer);
  }
  return { store, measurements: combine(replies.map((reply) => reply.measurements), barrier) };
}

function combine(all: SliceMeasurements[], barrier: number): SliceMeasurements {
  const shifted = (m: SliceMeasurements, value: number | null): number | null =>
    value === null ? null : value + m.barrierEpochMs - barrier;
  const present = (values: Array<number | null>): number[] => values.filter((value): value is number => value !== null);
  const firsts = present(all.map((m) => shifted(m, m.firstSentMs)));
  const lasts = present(all.map((m) => shifted(m, m.lastSentMs)));
  const waveEnds = present(all.map((m) => (m.waveSpreadMs === null ? null : shifted(m, (m.firstSentMs ?? 0) + m.waveSpreadMs))));
  // 0 means down before the run started (while connecting); no barrier shift applies to that.
  const downs = present(all.map((m) => (m.targetDownAtMs === 0 ? 0 : shifted(m, m.targetDownAtMs))));
  const firstSentMs = firsts.length > 0 ? Math.min(...firsts) : null;
  const examples = all.map((m) => m.localErrorExample).filter((text): text is string => text !== null);
  return {
    barrierEpochMs: barrier,
    firstSentMs,
    lastSentMs: lasts.length > 0 ? Math.max(...lasts) : null,
    waveSpreadMs: waveEnds.length > 0 && firstSentMs !== null ? Math.max(...waveEnds) - firstSentMs : null,
    waveSize: all.reduce((sum, m) => sum + m.waveSize, 0),
    endedMs: Math.max(...all.map((m) => m.endedMs + m.barrierEpochMs - barrier)),
    targetDownAtMs: downs.length > 0 ? Math.min(...downs) : null,
    strandedUnobserved: all.reduce((sum, m) => sum + m.strandedUnobserved, 0),
    localErrors: all.reduce((sum, m) => sum + m.localErrors, 0),
    localErrorExample: examples[0] ?? null,
    connectionsOpened: all.reduce((sum, m) => sum + m.connectionsOpened, 0),
    bytesWritten: all.reduce((sum, m) => sum + m.bytesWritten, 0),
    bytesRead: all.reduce((sum, m) => sum + m.bytesRead, 0),
    // Threads connect at the same time: the slowest one held the barrier.
    connectMs: Math.max(...all.map((m) => m.connectMs)),
    connectTimeouts: all.reduce((sum, m) => sum + m.connectTimeouts, 0),
    strayAnswers: all.reduce((sum, m) => sum + m.strayAnswers, 0),
    interrupted: all.some((m) => m.interrupted),
    loop: {
      // Any saturated thread limited the run, so the worst thread speaks for all.
      utilization: Math.max(...all.map((m) => m.loop.utilization)),
      delayP99Ms: Math.max(...all.map((m) => m.loop.delayP99Ms)),
      delayMaxMs: Math.max(...all.map((m) => m.loop.delayMaxMs)),
    },
  };
}
