import { performance } from 'node:perf_hooks';
import { TypedEmitter } from '../util/events.js';
import { OutputError, UsageError } from '../util/errors.js';
import { formatMs } from '../util/duration.js';
import type { BurstOptions, BurstPlan } from './options.js';
import { resolveBurstPlan } from './options.js';
import { isV2 } from '../protocol/dialects.js';
import { MerchantUidTemplate, arrivalSchedule, sendsTwice, sliceOf, totalRequests, wholeRun } from './schedule.js';
import type { SliceSpec } from './schedule.js';
import { COUNTER_SLOTS, Counter, SliceEngine } from './engine.js';
import type { SliceMeasurements } from './engine.js';
import type { OutcomeStore } from './outcomes.js';
import { readDescriptorBudget } from './fd-limit.js';
import { CpuMeter } from './self-check.js';
import { createOrders, probeStock, resetStock } from './setup.js';
import { startWorkers } from './workers.js';
import { epochNow, waitUntilEpoch } from './clock.js';
import { summarizeRun } from './summarize.js';
import type { RunFacts } from './summarize.js';
import { writeLedger } from './ledger.js';
import { planSecrets } from './secrets.js';
import { maskError, maskedEmitter } from '../util/secrets.js';
import { ensureWritable } from '../util/files.js';
import type { BurstEvents, BurstPhase, SetupProgress } from './events.js';
import type { BurstReport, BurstWarning, PaymentsSection, StockSection } from './report.js';
import type { GatewayLink } from '../gateway/link.js';
import { answerReporter, flushAnswers, openRunLink, registerSale, settleSale } from './gateway-run.js';
import type { TokenTableData } from '../protocol/completion.js';
import { tallyManualConfirm, type GatewayTruth } from './completion-tally.js';

export interface BurstRunHooks {
  /** Receives phase, start, progress, warning and done events. */
  events?: TypedEmitter<BurstEvents> | undefined;
  /** Abort to stop: dispatch stops, answers in flight get a moment, and the partial report is still returned. */
  signal?: AbortSignal | undefined;
  /** How often progress events fire. */
  progressIntervalMs?: number | undefined;
}

/** Sockets in paced modes: plenty for a slow merchant at thousands of requests/s, few enough to stay warm. */
const DEFAULT_PACED_CONNECTIONS = 1000;
/** After Ctrl-C, answers already on their way get this long (or the timeout, if shorter) to arrive. */
const ABORT_DRAIN_MS = 1000;
/** Set-up counters (orders, payments) are told at most this often, and once more at the end. */
const SETUP_PROGRESS_MS = 100;
/** Start later than this after --start-at and the shards were not really synchronized. */
const LATE_START_TOLERANCE_MS = 50;

/** A set-up step's counter for the reporters: 0 at once, then throttled, and the last count always told. */
function setupCounter(events: TypedEmitter<BurstEvents>, phase: SetupProgress['phase'], total: number): (done: number) => void {
  let toldAt = performance.now();
  events.emit('setup', { phase, done: 0, total });
  return (done) => {
    const now = performance.now();
    if (done < total && now - toldAt < SETUP_PROGRESS_MS) return;
    toldAt = now;
    events.emit('setup', { phase, done, total });
  };
}

/** Ramp and rate: how many requests a second this process is meant to send, its share of the whole run's. */
function targetRate(plan: BurstPlan, requests: number): number | null {
  if (plan.mode === 'burst') return null;
  const schedule = arrivalSchedule(plan.mode, totalRequests(plan.buyers, plan.duplicates), plan.rampMs, plan.ratePerSec);
  if (!(schedule.intervalMs > 0)) return null;
  return (1000 / schedule.intervalMs) * (requests / totalRequests(plan.buyers, plan.duplicates));
}

function requestsIn(slice: SliceSpec, duplicates: number): number {
  let requests = 0;
  for (let j = 0; j < slice.count; j++) requests += sendsTwice(slice.offset + slice.stride * j, duplicates) ? 2 : 1;
  return requests;
}

interface Driven {
  store: OutcomeStore;
  measurements: SliceMeasurements;
}

/** One slice on this thread: connect, wait for the start instant, run, with Ctrl-C mapped to abort. */
async function driveHere(
  plan: BurstPlan,
  slice: SliceSpec,
  connections: number,
  socketBudget: number,
  signal: AbortSignal | undefined,
  phase: (phase: BurstPhase, detail: string) => void,
  onCounters: (counters: Int32Array[]) => void,
  onStart: () => void,
  link: GatewayLink | null,
  tokens: TokenTableData | null,
): Promise<Driven> {
  // A manual-confirm sale has no answers to hand over: the merchant confirms at the gateway itself.
  const onAnswer = link && plan.flow === 'confirm-process' ? answerReporter(plan, link, () => engine.store) : undefined;
  const engine: SliceEngine = new SliceEngine({ plan, slice, connections, socketBudget, onAnswer, tokens: tokens ?? undefined });
  onCounters([engine.counters]);
  const drainMs = Math.min(ABORT_DRAIN_MS, plan.timeoutMs);
  const onAbort = (): void => engine.abort(drainMs);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  try {
    phase('connecting', `${engine.connections} connections`);
    await engine.prepare();
    if (plan.startAt !== null) {
      phase('waiting', `until ${new Date(plan.startAt).toISOString()}`);
      await waitUntilEpoch(plan.startAt, signal);
    }
    phase('running', plan.mode);
    onStart();
    const measurements = await engine.run();
    if (onAnswer) await flushAnswers(link!, plan.gateway!);
    return { store: engine.store, measurements };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function driveOnWorkers(
  plan: BurstPlan,
  slice: SliceSpec,
  connections: number,
  socketBudget: number,
  signal: AbortSignal | undefined,
  phase: (phase: BurstPhase, detail: string) => void,
  onCounters: (counters: Int32Array[]) => void,
  onStart: () => void,
  tokens: TokenTableData | null,
): Promise<Driven> {
  // Each worker opens its own link to plan.gateway and flushes it before it reports.
  const pool = startWorkers(plan, slice, connections, socketBudget, plan.workers, tokens);
  onCounters(pool.counters);
  const onAbort = (): void => pool.abort(Math.min(ABORT_DRAIN_MS, plan.timeoutMs));
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  try {
    phase('connecting', `${connections} connections on ${plan.workers} threads`);
    await pool.ready;
    if (plan.startAt !== null) phase('waiting', `until ${new Date(plan.startAt).toISOString()}`);
    const atEpochMs = pool.go(plan.startAt);
    await waitUntilEpoch(atEpochMs, signal);
    phase('running', plan.mode);
    onStart();
    return await pool.done;
  } catch (error) {
    await pool.terminate();
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Runs a first-come flash sale against a confirm endpoint and judges it: set-up (reset, stock probe,
 * orders), the burst itself on this thread or on worker threads, the closing probe, the summary with the
 * stock oracle's verdict, and the ledger. Resolves to the report even when interrupted.
 */
export async function runBurst(options: BurstOptions, hooks: BurstRunHooks = {}): Promise<BurstReport> {
  const plan = resolveBurstPlan(options);
  // What the merchant answers may echo a credential the run sent: events, errors and the report are masked.
  const secrets = planSecrets(plan);
  const events = maskedEmitter(hooks.events ?? new TypedEmitter<BurstEvents>(), secrets);
  try {
    return secrets.deep(await runPlan(plan, events, hooks));
  } catch (error) {
    if (error instanceof LedgerWriteError) error.report = secrets.deep(error.report);
    throw maskError(error, secrets);
  }
}

/** The run finished but its --ledger could not be written: the report is still the run's verdict. */
export class LedgerWriteError extends OutputError {
  override name = 'LedgerWriteError';

  constructor(
    message: string,
    public report: BurstReport,
  ) {
    super(message);
  }
}

async function runPlan(plan: BurstPlan, events: TypedEmitter<BurstEvents>, hooks: BurstRunHooks): Promise<BurstReport> {
  const { signal } = hooks;
  const warnings: BurstWarning[] = [];
  const warn = (warning: BurstWarning): void => {
    warnings.push(warning);
    events.emit('warning', warning);
  };
  const phase = (name: BurstPhase, detail: string): void => events.emit('phase', { phase: name, detail });

  if (plan.secretKey !== null && plan.completion !== null) {
    warn({
      code: 'secret-unused',
      message: "the secret was not used: a buyer's completion post is the merchant's own API and is not signed (give credentials with -H)",
    });
  } else if (plan.secretKey !== null && !isV2(plan.dialect)) {
    warn({
      code: 'secret-unused',
      message: `the secret was not used: V1 confirm calls (dialect ${plan.dialect}) are not signed`,
    });
  }

  const slice = plan.shard ? sliceOf(wholeRun(plan.buyers), plan.shard.index, plan.shard.count) : wholeRun(plan.buyers);
  const requests = requestsIn(slice, plan.duplicates);
  const descriptors = readDescriptorBudget();
  const wanted = plan.connections ?? (plan.mode === 'burst' ? requests : Math.min(requests, DEFAULT_PACED_CONNECTIONS));
  let connections = Math.min(wanted, requests);
  if (connections > descriptors.sockets) {
    warn({
      code: 'connections-capped',
      message: `${connections} connections would exceed the open-file limit (${descriptors.limit ?? 'unknown'}, ${descriptors.open} in use); using ${descriptors.sockets}. Raise it with ulimit -n for a wider burst`,
    });
    connections = descriptors.sockets;
  }

  // Only the first shard resets, so shards starting a little apart never reset each other's sales.
  const resets = plan.resetUrl !== null && (plan.shard === null || plan.shard.index === 0);
  if (resets && plan.stock === null) {
    throw new UsageError('`resetUrl`: say what to reset the stock to with `stock`');
  }
  if (plan.ledgerPath !== null) await ensureWritable(plan.ledgerPath, '`ledgerPath`');
  // Set-up listens to the signal too: a probe whose answer never ends must not outlive Ctrl-C. An interrupted
  // set-up still makes a report: every buyer not sent.
  let before: { value: number; at: number } | null = null;
  let setupInterrupted = false;
  try {
    phase('setup', 'stock');
    if (resets) await resetStock(plan.resetUrl!, plan.stock!, plan.hookHeaders, signal);
    if (plan.stockUrl !== null) before = { value: await probeStock(plan.stockUrl, plan.hookHeaders, signal), at: Date.now() };
    if (plan.orderUrl !== null) {
      phase('orders', `${slice.count} orders`);
      const template = new MerchantUidTemplate(plan.merchantUidTemplate, plan.runId, plan.buyers);
      await createOrders(plan.orderUrl, slice, (buyer) => template.render(buyer), plan.amount, signal, plan.hookHeaders, setupCounter(events, 'orders', slice.count));
    }
  } catch (error) {
    if (!signal?.aborted) throw error;
    setupInterrupted = true;
  }
  const stock = plan.stock ?? before?.value ?? 0;
  if (before && plan.stock !== null && before.value !== plan.stock && (plan.shard === null || resets)) {
    warn({
      code: 'stock-differs',
      message: `--stock says ${plan.stock} but the merchant reported ${before.value} before the run; judging against ${plan.stock} (add --reset-url to start from a known stock)`,
    });
  }
  if (setupInterrupted) {
    warn({ code: 'setup-interrupted', message: 'the run was interrupted during set-up (reset, stock probe or orders): no confirm was sent' });
  }
  const link = plan.gateway ? openRunLink(plan.gateway) : null;
  let tokens: TokenTableData | null = null;
  try {
    if (link && !setupInterrupted) {
      phase('payments', `${slice.count} payments at ${link.url}`);
      tokens = (await registerSale(link, plan, slice, signal, setupCounter(events, 'payments', slice.count))).tokens?.data ?? null;
      if (signal?.aborted) {
        setupInterrupted = true;
        warn({ code: 'setup-interrupted', message: "the run was interrupted while the payments were registered at the gateway: no confirm was sent" });
      }
    }
    const prepared = { events, warnings, warn, phase, slice, requests, descriptors, connections, stock, before, resets, link, tokens, setupInterrupted };
    return await runRegistered(plan, hooks, prepared);
  } finally {
    await link?.close();
  }
}

interface Prepared {
  events: TypedEmitter<BurstEvents>;
  warnings: BurstWarning[];
  warn: (warning: BurstWarning) => void;
  phase: (phase: BurstPhase, detail: string) => void;
  slice: SliceSpec;
  requests: number;
  descriptors: ReturnType<typeof readDescriptorBudget>;
  connections: number;
  stock: number;
  before: { value: number; at: number } | null;
  resets: boolean;
  link: GatewayLink | null;
  /** manual-confirm: the buyers' payment tokens; null otherwise, or when set-up was interrupted first. */
  tokens: TokenTableData | null;
  /** Ctrl-C came during set-up: nothing is sent, and nothing after the run is asked of the merchant. */
  setupInterrupted: boolean;
}

/** The timed part and what follows it: the sale, the settle with a gateway, the closing probe, the report. */
async function runRegistered(plan: BurstPlan, hooks: BurstRunHooks, prepared: Prepared): Promise<BurstReport> {
  const { events, warnings, warn, phase, slice, requests, descriptors, connections, stock, before, resets, link, tokens, setupInterrupted } = prepared;
  const { signal } = hooks;

  let counters: Int32Array[] = [];
  let startedPerf = 0;
  let progressTimer: NodeJS.Timeout | null = null;
  const emitProgress = (): void => {
    const sum = new Int32Array(COUNTER_SLOTS);
    for (const block of counters) for (let i = 0; i < COUNTER_SLOTS; i++) sum[i]! += block[i]!;
    events.emit('progress', {
      elapsedMs: performance.now() - startedPerf,
      requests,
      sent: sum[Counter.Sent]!,
      settled: sum[Counter.Settled]!,
      accepted: sum[Counter.Accepted]!,
      refused: sum[Counter.Refused]!,
      timeouts: sum[Counter.Timeouts]!,
      errors: sum[Counter.Errors]!,
      inFlight: sum[Counter.InFlight]!,
      stranded: sum[Counter.Stranded]!,
    });
  };
  const onStart = (): void => {
    startedPerf = performance.now();
    if (plan.startAt !== null && epochNow() - plan.startAt > LATE_START_TOLERANCE_MS) {
      warn({
        code: 'late-start',
        message: `started ${formatMs(epochNow() - plan.startAt)} after --start-at: the set-up took longer than the lead time, so shards did not start together`,
      });
    }
    events.emit('start', {
      target: plan.url,
      mode: plan.mode,
      buyers: slice.count,
      requests,
      connections,
      threads: plan.workers,
      stock: before?.value ?? plan.stock ?? null,
      stockProbed: before !== null,
      targetRatePerSec: targetRate(plan, requests),
    });
    progressTimer = setInterval(emitProgress, hooks.progressIntervalMs ?? 250);
    progressTimer.unref();
  };

  const cpu = new CpuMeter();
  let driven: Driven;
  try {
    const onCounters = (blocks: Int32Array[]): void => {
      counters = blocks;
    };
    // An interrupted set-up needs no threads: the engine, already stopped, only marks every buyer not sent.
    driven =
      plan.workers > 1 && !setupInterrupted
        ? await driveOnWorkers(plan, slice, connections, descriptors.sockets, signal, phase, onCounters, onStart, tokens)
        : await driveHere(plan, slice, connections, descriptors.sockets, signal, phase, onCounters, onStart, link, tokens);
  } finally {
    if (progressTimer) clearInterval(progressTimer);
  }
  if (startedPerf > 0) emitProgress();
  const cpuCoresBusy = cpu.coresBusy();

  const stockSection: StockSection = { stock, resetTo: resets ? plan.stock : null, probeUrl: plan.stockUrl, probe: null };
  let payments: PaymentsSection | null = null;
  let truth: GatewayTruth | null = null;
  let paymentsSeries: RunFacts['paymentsSeries'] = null;
  if (link && !setupInterrupted) {
    phase('settling', `up to ${formatMs(plan.gateway!.settleMs)} for webhooks and stock to come back`);
    const stockUrl = plan.stockUrl;
    const settled = await settleSale({
      link,
      plan,
      probe: stockUrl !== null && before !== null ? () => probeStock(stockUrl, plan.hookHeaders, signal?.aborted ? undefined : signal) : null,
      stockBefore: before?.value ?? null,
      signal,
      // A buyer told no whose payment is confirmed may yet be cancelled by the merchant: wait for that too.
      awaiting:
        plan.completion === null
          ? undefined
          : (line) => tallyManualConfirm(driven.store, { statuses: line, confirmCalls: 0, confirmsSucceeded: 0, confirmsRefused: {} }, () => '').chargedRefused > 0,
    });
    payments = settled.payments;
    if (settled.statuses !== null) {
      const { confirmCalls, confirmsSucceeded, confirmsRefused } = settled.summary;
      truth = { statuses: settled.statuses.statuses, confirmCalls, confirmsSucceeded, confirmsRefused };
    }
    paymentsSeries = { sale: settled.sale, settleStartedAt: settled.startedAt, settle: payments.settle, stockBefore: before?.value ?? null, paid: payments.paid };
    if (before !== null && settled.stockAfter !== null) {
      stockSection.probe = { before: before.value, after: settled.stockAfter.value, beforeAt: before.at, afterAt: settled.stockAfter.at };
    }
  } else if (plan.stockUrl !== null && before !== null && !setupInterrupted) {
    phase('probing', 'stock after the run');
    try {
      // After a Ctrl-C in the run the probe still gets its bounded time; a Ctrl-C during the probe stops it.
      const after = await probeStock(plan.stockUrl, plan.hookHeaders, signal?.aborted ? undefined : signal);
      stockSection.probe = { before: before.value, after, beforeAt: before.at, afterAt: Date.now() };
    } catch (error) {
      const why = signal?.aborted && !(error instanceof UsageError) ? 'interrupted' : (error as Error).message;
      warn({ code: 'probe-failed', message: `stock after the run could not be read, so double-take was not checked: ${why}` });
    }
  }

  const report = summarizeRun({
    plan,
    store: driven.store,
    measurements: driven.measurements,
    stock: stockSection,
    connections,
    fdLimit: descriptors.limit,
    threads: plan.workers,
    cpuCoresBusy,
    warnings,
    payments,
    truth,
    paymentsSeries,
  });
  if (plan.ledgerPath !== null) {
    try {
      await writeLedger(plan.ledgerPath, plan, driven.store, planSecrets(plan), truth?.statuses ?? null);
    } catch (error) {
      if (error instanceof OutputError) throw new LedgerWriteError(error.message, report);
      throw error;
    }
  }
  events.emit('done', report);
  return report;
}
