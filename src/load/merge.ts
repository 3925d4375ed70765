import { UsageError } from '../util/errors.js';
import { countAcceptedAfterRefusal, countInversions, inversionExamples } from '../oracle/fairness.js';
import { emptyManualConfirmTally, type ManualConfirmExamples, type PaymentStatusCounts, type UnconfirmedCauses } from '../oracle/manual-confirm.js';
import { EXAMPLE_KEYS, EXAMPLES_PER_FINDING, emptyErrorTally, emptyExamples } from '../oracle/stock-oracle.js';
import type { ErrorTally, StockTally } from '../oracle/stock-oracle.js';
import { decodeLatencyHistogram, bucketsFromReport, newLatencyHistogram, summarizeLatency } from './latency.js';
import { MerchantUidTemplate, sliceOf, wholeRun } from './schedule.js';
import { decodeTimeline, judgeReport } from './summarize.js';
import { mergeTimelines } from './timeline.js';
import type { BurstReport, ManualConfirmSection, PaymentsSection, RefusalReasonSummary } from './report.js';

/** Run parameters every shard of one run must share, or their reports describe different sales. */
const SHARED_CONFIG = [
  'buyers',
  'stock',
  'dialect',
  'amount',
  'merchantUid',
  'runId',
  'mode',
  'rampMs',
  'ratePerSec',
  'duplicates',
  'timeoutMs',
  'p99BudgetMs',
  'maxErrorRate',
  'fairnessWindowMs',
  'flow',
] as const;

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function addInto(target: Record<string, number>, source: Record<string, number>): void {
  for (const [key, value] of Object.entries(source)) target[key] = (target[key] ?? 0) + value;
}

function present<T>(values: Array<T | null>): T[] {
  return values.filter((value): value is T => value !== null);
}

function mergeErrors(all: ErrorTally[]): ErrorTally {
  const noAnswer: Record<string, number> = {};
  for (const errors of all) addInto(noAnswer, errors.noAnswer);
  return {
    requests: sum(all.map((errors) => errors.requests)),
    serverErrors: sum(all.map((errors) => errors.serverErrors)),
    noAnswer,
    strayAnswers: sum(all.map((errors) => errors.strayAnswers)),
    examples: all.flatMap((errors) => errors.examples).slice(0, EXAMPLES_PER_FINDING),
  };
}

function checkSameRun(reports: BurstReport[]): void {
  const first = reports[0]!;
  if (!first.config.shard) {
    throw new UsageError('merge: the first report is not a shard report; run each shard with burst --shard i/n --json FILE');
  }
  const seen = new Set<number>();
  for (const report of reports) {
    if (!report.config.shard) {
      throw new UsageError(`merge: a report for run ${report.config.runId} is not a shard report; only --shard reports can be merged`);
    }
    for (const key of SHARED_CONFIG) {
      if (report.config[key] !== first.config[key]) {
        throw new UsageError(
          `merge: shards disagree on ${key} (${String(first.config[key])} vs ${String(report.config[key])}); run every shard with the same flags and --run-id`,
        );
      }
    }
    if (report.config.shard.count !== first.config.shard.count) {
      throw new UsageError(`merge: shards disagree on the shard count (${first.config.shard.count} vs ${report.config.shard.count})`);
    }
    if (seen.has(report.config.shard.index)) {
      throw new UsageError(`merge: shard ${report.config.shard.index} is given twice; pass each shard's report once`);
    }
    seen.add(report.config.shard.index);
  }
}

/**
 * Every shard registers and settles its own payments at the gateway, so the sale's are their sum. Waits and
 * stock readings belong to one shard's clock: the longest wait is kept, the readings are not.
 */
function mergePayments(reports: BurstReport[]): PaymentsSection | null {
  const sections = present(reports.map((report) => report.payments ?? null));
  if (sections.length === 0) return null;
  if (sections.length < reports.length) {
    throw new UsageError('merge: some shards ran with --gateway and some without; run every shard with the same flags');
  }
  const first = sections[0]!;
  const total = (pick: (section: PaymentsSection) => number): number => sum(sections.map(pick));
  return {
    ...first,
    registered: total((p) => p.registered),
    paid: total((p) => p.paid),
    declined: total((p) => p.declined),
    failed: total((p) => p.failed),
    cancelled: total((p) => p.cancelled),
    ready: total((p) => p.ready),
    webhooks: {
      sent: total((p) => p.webhooks.sent),
      retried: total((p) => p.webhooks.retried),
      unanswered: total((p) => p.webhooks.unanswered),
      pending: total((p) => p.webhooks.pending),
    },
    settle: { budgetMs: first.settle.budgetMs, waitedMs: Math.max(...sections.map((p) => p.settle.waitedMs)), restoredAfterMs: null, samples: [] },
    examples: {
      declined: sections.flatMap((p) => p.examples.declined).slice(0, EXAMPLES_PER_FINDING),
      failed: sections.flatMap((p) => p.examples.failed).slice(0, EXAMPLES_PER_FINDING),
    },
  };
}

/** manual confirm: every count of the buyers' answers against their payments adds up across shards. */
function mergeManualConfirm(reports: BurstReport[]): ManualConfirmSection | null {
  const sections = present(reports.map((report) => report.manualConfirm ?? null));
  if (sections.length === 0) return null;
  const merged: ManualConfirmSection = { ...emptyManualConfirmTally(), body: sections[0]!.body, successStatus: sections[0]!.successStatus, tokenLifetimeMs: sections[0]!.tokenLifetimeMs };
  for (const section of sections) {
    for (const key of Object.keys(merged.statuses) as Array<keyof PaymentStatusCounts>) merged.statuses[key] += section.statuses[key];
    for (const key of Object.keys(merged.unconfirmed) as Array<keyof UnconfirmedCauses>) merged.unconfirmed[key] += section.unconfirmed[key];
    for (const key of ['confirmed', 'toldPaid', 'chargedRefused', 'toldPaidUnconfirmed', 'doubleConfirm', 'chargedUnanswered', 'confirmCalls', 'confirmsSucceeded'] as const) {
      merged[key] += section[key];
    }
    addInto(merged.confirmsRefused, section.confirmsRefused);
    for (const key of Object.keys(merged.examples) as Array<keyof ManualConfirmExamples>) {
      merged.examples[key] = [...merged.examples[key], ...section.examples[key]].slice(0, EXAMPLES_PER_FINDING);
    }
  }
  return merged;
}

function mergeReasons(reports: BurstReport[]): RefusalReasonSummary[] {
  const byKey = new Map<string, RefusalReasonSummary>();
  for (const reason of reports.flatMap((report) => report.refusalReasons)) {
    const key = `${reason.status} ${reason.detail ?? ''}`;
    const known = byKey.get(key);
    if (known) {
      known.count += reason.count;
      known.examples = [...known.examples, ...reason.examples].slice(0, 3);
    } else {
      byKey.set(key, { ...reason, examples: [...reason.examples] });
    }
  }
  return [...byKey.values()].sort((a, b) => b.count - a.count);
}

/** The probe before from the shard that reset the stock (else the earliest), the probe after from the latest. */
function mergeProbe(reports: BurstReport[]): BurstReport['stock']['probe'] {
  const probes = reports.flatMap((report) => (report.stock.probe ? [{ report, probe: report.stock.probe }] : []));
  if (probes.length === 0) return null;
  const resetting = probes.find(({ report }) => report.stock.resetTo !== null);
  const earliest = probes.reduce((a, b) => (b.probe.beforeAt < a.probe.beforeAt ? b : a));
  const latest = probes.reduce((a, b) => (b.probe.afterAt > a.probe.afterAt ? b : a));
  const start = (resetting ?? earliest).probe;
  return { before: start.before, beforeAt: start.beforeAt, after: latest.probe.after, afterAt: latest.probe.afterAt };
}

/**
 * Rebuilds the whole run's fairness timeline from every shard's, on one clock (the earliest shard start), so
 * the inversion count covers pairs across shards too. Null when a shard's report carries no timeline.
 */
function mergedTimeline(reports: BurstReport[], startedAt: number): { states: Uint8Array; times: Float32Array } | null {
  const config = reports[0]!.config;
  const states = new Uint8Array(config.buyers);
  const times = new Float32Array(config.buyers);
  for (const report of reports) {
    const encoded = report.fairness?.timeline;
    if (!encoded || !report.config.shard) return null;
    const slice = sliceOf(wholeRun(config.buyers), report.config.shard.index, report.config.shard.count);
    const local = decodeTimeline(encoded, slice.count);
    if (!local) return null;
    const shiftMs = report.timing.startedAt - startedAt;
    for (let j = 0; j < slice.count; j++) {
      states[slice.offset + slice.stride * j] = local.states[j]!;
      times[slice.offset + slice.stride * j] = local.times[j]! + shiftMs;
    }
  }
  return { states, times };
}

/**
 * Turns the reports of a sharded run (burst --shard i/n, one per machine or pod) into one report with one
 * verdict: counts add up, latency histograms merge, arrival states interleave for fairness, and the stock
 * oracle judges the whole sale.
 */
export function mergeBurstReports(reports: BurstReport[]): BurstReport {
  if (reports.length === 0) throw new UsageError('merge: give at least one shard report');
  checkSameRun(reports);
  const first = reports[0]!;
  const config = first.config;
  const shardCount = config.shard!.count;
  const indices = reports.map((report) => report.config.shard!.index).sort((a, b) => a - b);
  const missingShards = Array.from({ length: shardCount }, (_, index) => index).filter((index) => !indices.includes(index));

  const histogram = newLatencyHistogram();
  const buckets = bucketsFromReport([]);
  for (const report of reports) {
    histogram.add(decodeLatencyHistogram(report.latencyMs.hdr));
    const shardBuckets = bucketsFromReport(report.latencyMs.buckets);
    for (let i = 0; i < buckets.length; i++) buckets[i]! += shardBuckets[i]!;
  }
  const latency = summarizeLatency(histogram, buckets);

  const template = new MerchantUidTemplate(config.merchantUid, config.runId, config.buyers);
  const examples = emptyExamples();
  for (const key of EXAMPLE_KEYS) {
    examples[key] = reports.flatMap((report) => report.tally.examples[key]).slice(0, EXAMPLES_PER_FINDING);
  }
  const paced = config.mode !== 'burst';
  const startedAt = Math.min(...reports.map((r) => r.timing.startedAt));
  let inversions: number | null = null;
  let acceptedAfterRefusal: number | null = null;
  if (paced) {
    const timeline = mergedTimeline(reports, startedAt);
    if (timeline) {
      acceptedAfterRefusal = countAcceptedAfterRefusal(timeline.states, timeline.times, config.fairnessWindowMs);
      inversions = countInversions(timeline.states, timeline.times, config.fairnessWindowMs);
      const found = inversionExamples(timeline.states, timeline.times, config.fairnessWindowMs, EXAMPLES_PER_FINDING);
      examples.unfairAccepted = found.acceptedLate.map((buyer) => template.render(buyer));
      examples.unfairRefused = found.refusedEarly.map((buyer) => template.render(buyer));
    } else {
      inversions = sum(reports.map((report) => report.tally.inversions ?? 0));
    }
  }
  const tallies = reports.map((report) => report.tally);
  const probe = mergeProbe(reports);
  const payments = mergePayments(reports);
  const manualConfirm = mergeManualConfirm(reports);
  const tally: StockTally & { errors: ErrorTally } = {
    buyers: sum(tallies.map((t) => t.buyers)),
    stock: config.stock,
    accepted: sum(tallies.map((t) => t.accepted)),
    notAccepted: {
      refused: sum(tallies.map((t) => t.notAccepted.refused)),
      serverErrors: sum(tallies.map((t) => t.notAccepted.serverErrors)),
      timeouts: sum(tallies.map((t) => t.notAccepted.timeouts)),
      connectionErrors: sum(tallies.map((t) => t.notAccepted.connectionErrors)),
      notSent: sum(tallies.map((t) => t.notAccepted.notSent)),
      aborted: sum(tallies.map((t) => t.notAccepted.aborted)),
    },
    unknownOrders: sum(tallies.map((t) => t.unknownOrders ?? 0)),
    stranded: sum(tallies.map((t) => t.stranded)),
    doubleAccepted: sum(tallies.map((t) => t.doubleAccepted)),
    overBudget: sum(tallies.map((t) => t.overBudget)),
    timeouts: sum(tallies.map((t) => t.timeouts)),
    latencyP99Ms: latency.p99,
    inversions,
    probe: probe ? { before: probe.before, after: probe.after } : null,
    payments: payments && {
      paid: payments.paid,
      declined: payments.declined,
      acceptedAfterRefusal,
      declinedExamples: payments.examples.declined.slice(0, EXAMPLES_PER_FINDING),
    },
    interrupted: tallies.some((t) => t.interrupted),
    missingShards,
    errors: mergeErrors(tallies.map((t) => t.errors ?? emptyErrorTally())),
    examples,
  };

  const counts = { ...first.counts };
  for (const key of Object.keys(counts) as Array<keyof typeof counts>) counts[key] = sum(reports.map((r) => r.counts[key]));
  const statusCodes: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  for (const report of reports) {
    addInto(statusCodes, report.statusCodes);
    addInto(errorKinds, report.errorKinds);
  }
  const firstSentAt = present(reports.map((r) => r.dispatch.firstSentAt));
  const lastSentAt = present(reports.map((r) => r.dispatch.lastSentAt));
  const waveEnds = present(
    reports.map((r) => (r.dispatch.firstSentAt === null || r.dispatch.waveSpreadMs === null ? null : r.dispatch.firstSentAt + r.dispatch.waveSpreadMs)),
  );
  const firstSent = firstSentAt.length > 0 ? Math.min(...firstSentAt) : null;
  const lastSent = lastSentAt.length > 0 ? Math.max(...lastSentAt) : null;
  const endedAt = Math.max(...reports.map((r) => r.timing.endedAt));
  const lagP99 = present(reports.map((r) => r.dispatch.lagP99Ms));
  const lagMax = present(reports.map((r) => r.dispatch.lagMaxMs));
  const fdLimits = present(reports.map((r) => r.selfCheck.fdLimit));
  const mergedConfig = { ...config, shard: null, connections: sum(reports.map((r) => r.config.connections)) };

  return {
    schemaVersion: first.schemaVersion,
    kind: first.kind,
    interrupted: reports.some((r) => r.interrupted),
    target: first.target,
    config: mergedConfig,
    shards: indices,
    verdict: judgeReport({ ...config, shard: null }, tally, manualConfirm && { section: manualConfirm, settleMs: payments?.settle.budgetMs ?? 0 }),
    counts,
    statusCodes,
    errorKinds,
    refusalReasons: mergeReasons(reports),
    latencyMs: latency,
    // Shards run side by side, so their rates add up.
    throughputPerSec: sum(reports.map((r) => r.throughputPerSec)),
    dispatchSpreadMs: firstSent !== null && lastSent !== null ? lastSent - firstSent : 0,
    dispatch: {
      firstSentAt: firstSent,
      lastSentAt: lastSent,
      waveSpreadMs: waveEnds.length > 0 && firstSent !== null ? Math.max(...waveEnds) - firstSent : null,
      waveSize: sum(reports.map((r) => r.dispatch.waveSize)),
      // Per-shard percentiles cannot be combined exactly; the worst shard's is an upper bound.
      lagP99Ms: lagP99.length > 0 ? Math.max(...lagP99) : null,
      lagMaxMs: lagMax.length > 0 ? Math.max(...lagMax) : null,
    },
    timing: { startedAt, endedAt, durationMs: endedAt - startedAt },
    stock: {
      stock: config.stock,
      resetTo: reports.find((r) => r.stock.resetTo !== null)?.stock.resetTo ?? null,
      probeUrl: reports.find((r) => r.stock.probeUrl !== null)?.stock.probeUrl ?? null,
      probe,
    },
    payments,
    ...(manualConfirm === null ? {} : { manualConfirm }),
    fairness: paced && inversions !== null ? { windowMs: config.fairnessWindowMs, inversions, timeline: null } : null,
    tally,
    transport: {
      connections: sum(reports.map((r) => r.transport.connections)),
      connectionsOpened: sum(reports.map((r) => r.transport.connectionsOpened)),
      bytesWritten: sum(reports.map((r) => r.transport.bytesWritten)),
      bytesRead: sum(reports.map((r) => r.transport.bytesRead)),
      connectMs: Math.max(...reports.map((r) => r.transport.connectMs)),
      strayAnswers: sum(reports.map((r) => r.transport.strayAnswers)),
    },
    selfCheck: {
      fdLimit: fdLimits.length > 0 ? Math.min(...fdLimits) : null,
      threads: sum(reports.map((r) => r.selfCheck.threads)),
      eventLoopUtilization: Math.max(...reports.map((r) => r.selfCheck.eventLoopUtilization)),
      eventLoopDelayP99Ms: Math.max(...reports.map((r) => r.selfCheck.eventLoopDelayP99Ms)),
      eventLoopDelayMaxMs: Math.max(...reports.map((r) => r.selfCheck.eventLoopDelayMaxMs)),
      cpuCoresBusy: sum(reports.map((r) => r.selfCheck.cpuCoresBusy)),
      warnings: reports.flatMap((r) =>
        r.selfCheck.warnings.map((warning) => ({ ...warning, message: `shard ${r.config.shard!.index}: ${warning.message}` })),
      ),
    },
    ledger: null,
    timeline: mergeTimelines(
      reports.map((r) => ({ shard: r.config.shard!.index, shiftMs: r.timing.startedAt - startedAt, timeline: r.timeline })),
      endedAt - startedAt,
      config.stock,
    ),
  };
}
