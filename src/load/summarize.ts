import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decide } from '../protocol/decision.js';
import { isV2 } from '../protocol/dialects.js';
import { formatMs } from '../util/duration.js';
import { ArrivalState, countAcceptedAfterRefusal, countInversions, inversionExamples } from '../oracle/fairness.js';
import { EXAMPLES_PER_FINDING, emptyErrorTally, emptyExamples, judgeStock } from '../oracle/stock-oracle.js';
import type { ErrorTally, StockTally, TallyExamples } from '../oracle/stock-oracle.js';
import type { BurstPlan } from './options.js';
import type { SliceMeasurements } from './engine.js';
import { Flag, OVERFLOW_REASON, Outcome, OutcomeStore, noAnswerKindOf } from './outcomes.js';
import { arrivalPosition, arrivalSchedule, intendedOffsetMs, MerchantUidTemplate, totalRequests } from './schedule.js';
import type { ArrivalSchedule } from './schedule.js';
import { emptyBuckets, newLatencyHistogram, recordLatency, summarizeLatency } from './latency.js';
import { DECLINED_LETTER, tallyManualConfirm, type GatewayTruth } from './completion-tally.js';
import { judgeManualConfirm } from '../oracle/manual-confirm.js';
import { TimelineBuilder, paymentsTimeline } from './timeline.js';
import type { PaymentsTimelineInput } from './timeline.js';
import { BURST_REPORT_KIND, BURST_REPORT_SCHEMA_VERSION } from './report.js';
import type { BurstReport, BurstWarning, ManualConfirmSection, PaymentsSection, RefusalReasonSummary, StockSection } from './report.js';

export interface RunFacts {
  plan: BurstPlan;
  store: OutcomeStore;
  measurements: SliceMeasurements;
  stock: StockSection;
  connections: number;
  fdLimit: number | null;
  threads: number;
  cpuCoresBusy: number;
  /** Warnings found before or around the run (descriptor cap, probe trouble, late start). */
  warnings: BurstWarning[];
  /** What the gateway made of the sale, after --settle; null without a gateway. */
  payments?: PaymentsSection | null | undefined;
  /** manual-confirm: the gateway's letter for every payment and its confirm counts, after --settle. */
  truth?: GatewayTruth | null | undefined;
  /** The gateway's series and the settle's readings, for `timeline.payments`; null without a gateway. */
  paymentsSeries?: Omit<PaymentsTimelineInput, 'runStartedAt'> | null | undefined;
}

/** Keeps the `limit` largest keys seen, with their values, in a small sorted array. */
class TopN {
  readonly keys: number[] = [];
  readonly values: number[] = [];
  constructor(readonly limit: number) {}

  offer(key: number, value: number): void {
    if (this.keys.length === this.limit && key <= this.keys[this.keys.length - 1]!) return;
    let at = this.keys.length;
    while (at > 0 && this.keys[at - 1]! < key) at--;
    this.keys.splice(at, 0, key);
    this.values.splice(at, 0, value);
    if (this.keys.length > this.limit) {
      this.keys.pop();
      this.values.pop();
    }
  }
}

function pushExample(list: string[], merchantUid: () => string): void {
  if (list.length < EXAMPLES_PER_FINDING) list.push(merchantUid());
}

export function intendedArrival(plan: Pick<BurstPlan, 'mode' | 'buyers' | 'duplicates' | 'rampMs' | 'ratePerSec'>): { schedule: ArrivalSchedule; atMs: (globalBuyer: number) => number } {
  const schedule = arrivalSchedule(plan.mode, totalRequests(plan.buyers, plan.duplicates), plan.rampMs, plan.ratePerSec);
  return { schedule, atMs: (buyer) => intendedOffsetMs(schedule, arrivalPosition(buyer, plan.duplicates)) };
}

/**
 * A shard's fairness data for `merge`: each buyer's state, then its time (ms after this shard's start) as
 * float32, raw-deflated and base64. The states compress to almost nothing; the times to ~3 bytes a buyer.
 */
export function encodeTimeline(states: Uint8Array, times: Float32Array): string {
  return deflateRawSync(Buffer.concat([states, new Uint8Array(times.buffer, times.byteOffset, times.byteLength)])).toString('base64');
}

export function decodeTimeline(encoded: string, buyers: number): { states: Uint8Array; times: Float32Array } | null {
  const bytes = inflateRawSync(Buffer.from(encoded, 'base64'));
  if (bytes.length !== buyers * 5) return null;
  const times = new Float32Array(buyers);
  new Uint8Array(times.buffer).set(bytes.subarray(buyers));
  return { states: new Uint8Array(bytes.subarray(0, buyers)), times };
}

/** The generator's own load is judged only over at least this long a run and this many requests. */
export const SELF_CHECK_MIN_MS = 250;
export const SELF_CHECK_MIN_REQUESTS = 100;

/** The run's self-checks: was the generator, not the target, what limited the figures? */
function selfCheckWarnings(facts: RunFacts, latencyP50: number | null, lagP99: number | null): BurstWarning[] {
  const { measurements, plan } = facts;
  const warnings: BurstWarning[] = [];
  // Busy shares and loop delays over a few milliseconds are start-up noise (a 10-buyer burst is "100% busy"):
  // they say something about the generator only over a run long and large enough to have a steady state.
  const enoughSamples = measurements.endedMs >= SELF_CHECK_MIN_MS && totalRequests(plan.buyers, plan.duplicates) >= SELF_CHECK_MIN_REQUESTS;
  if (enoughSamples && measurements.loop.utilization >= 0.95) {
    warnings.push({
      code: 'generator-saturated',
      message: `the load generator's event loop was busy ${(measurements.loop.utilization * 100).toFixed(0)}% of the run: it, not the target, set the pace, and latencies include its own queueing (try --workers)`,
    });
  }
  if (enoughSamples && measurements.loop.delayP99Ms > 50) {
    warnings.push({
      code: 'event-loop-delay',
      message: `the generator's event loop stalled up to ${formatMs(measurements.loop.delayMaxMs)} (p99 ${formatMs(measurements.loop.delayP99Ms)}); answers waited that long to be read, so latencies are overstated`,
    });
  }
  if (enoughSamples && facts.cpuCoresBusy >= 0.9 * facts.threads) {
    warnings.push({
      code: 'cpu-bound',
      message: `the generator used ${facts.cpuCoresBusy.toFixed(2)} cores for ${facts.threads} thread(s): it was CPU-bound, and so were its measurements`,
    });
  }
  if (plan.mode === 'burst' && measurements.waveSpreadMs !== null && latencyP50 !== null && measurements.waveSize > 1) {
    if (measurements.waveSpreadMs > latencyP50) {
      warnings.push({
        code: 'no-overlap',
        message: `writing the opening wave took ${formatMs(measurements.waveSpreadMs)}, longer than the median answer (${formatMs(latencyP50)}): the target answered requests nearly one at a time, so races had little chance to show`,
      });
    }
  }
  if (plan.mode !== 'burst' && lagP99 !== null && lagP99 > 10) {
    warnings.push({
      code: 'behind-schedule',
      message: `requests left up to ${formatMs(lagP99)} (p99) after their intended time: the generator or --connections (${facts.connections}) could not keep the arrival rate; latencies include that wait`,
    });
  }
  if (measurements.localErrors > 0) {
    warnings.push({
      code: 'local-errors',
      message: `${measurements.localErrors} connection errors were this machine's limits, not the target (${measurements.localErrorExample ?? 'unknown'}); lower --connections or raise ulimit -n`,
    });
  }
  if (measurements.targetDownAtMs !== null) {
    warnings.push({
      code: 'target-down',
      message: `the target refused connections ${measurements.targetDownAtMs <= 0 ? 'before the run started' : `from ${formatMs(measurements.targetDownAtMs)} into the run`}; buyers not yet sent were counted as connection errors`,
    });
  }
  if (plan.mode === 'burst' && (measurements.connectMs > plan.timeoutMs || measurements.connectTimeouts > 0)) {
    const givenUp = measurements.connectTimeouts > 0 ? `, ${measurements.connectTimeouts} of them not through within the ${formatMs(plan.timeoutMs)} timeout` : '';
    warnings.push({
      code: 'slow-connect',
      message: `opening the ${facts.connections} connections took ${formatMs(measurements.connectMs)}${givenUp}: the merchant accepts connections slowly (a small listen backlog?), so the buyers could not all arrive at once and the burst was no burst`,
    });
  }
  if (measurements.strandedUnobserved > 0) {
    warnings.push({
      code: 'stranded-unobserved',
      message: `${measurements.strandedUnobserved} timed-out requests had to be closed at once (socket budget), so a late 200 from them could not be seen`,
    });
  }
  return warnings;
}

/** Turns one process's outcomes into the report: counts, latency, the tally and the oracle's verdict. */
export function summarizeRun(facts: RunFacts): BurstReport {
  const { plan, store, measurements } = facts;
  const { arrays } = store;
  const template = new MerchantUidTemplate(plan.merchantUidTemplate, plan.runId, plan.buyers);
  const uidOf = (request: number): string => template.render(store.globalBuyer(request));
  const arrival = intendedArrival(plan);
  const paced = plan.mode !== 'burst';

  const histogram = newLatencyHistogram();
  const buckets = emptyBuckets();
  const lagHistogram = newLatencyHistogram();
  let lagMaxMs = 0;
  const statusCodes: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  const reasonCounts = new Float64Array(store.reasons.length);
  const reasonExamples: string[][] = store.reasons.map(() => []);
  const examples: TallyExamples = emptyExamples();
  const slowest = new TopN(EXAMPLES_PER_FINDING);
  const latestAccepted = new TopN(EXAMPLES_PER_FINDING);
  let sent = 0;
  let overBudget = 0;
  let timeoutRequests = 0;
  let stranded = 0;
  let httpAnswers = 0;
  let lastAnswerMs = Number.NEGATIVE_INFINITY;
  const errors: ErrorTally = { ...emptyErrorTally(), strayAnswers: measurements.strayAnswers };
  const answeredAt = (request: number): number => {
    const startMs = paced ? Math.min(arrays.sentAtMs[request]!, arrival.atMs(store.globalBuyer(request))) : arrays.sentAtMs[request]!;
    return startMs + arrays.latencyMs[request]!;
  };
  const timeline = new TimelineBuilder(measurements.endedMs, facts.stock.stock, store.requests);
  // Buyers never sent because the target was down count as connection errors from the moment it went down.
  const unsentErrorAtMs = measurements.targetDownAtMs ?? 0;

  for (let request = 0; request < store.requests; request++) {
    const outcome = arrays.outcome[request]!;
    const flags = arrays.flags[request]!;
    const sentAt = arrays.sentAtMs[request]!;
    if (!Number.isNaN(sentAt)) {
      sent++;
      timeline.sent(sentAt);
      if (paced) {
        const duplicate = (flags & Flag.Duplicate) !== 0 ? 1 : 0;
        const intended = intendedOffsetMs(arrival.schedule, arrivalPosition(store.globalBuyer(request), plan.duplicates) + duplicate);
        const lag = Math.max(0, sentAt - intended);
        lagHistogram.recordValue(Math.max(1, Math.round(lag * 1000)));
        if (lag > lagMaxMs) lagMaxMs = lag;
      }
    }
    const latency = arrays.latencyMs[request]!;
    if (outcome === Outcome.Accepted || outcome === Outcome.Refused || outcome === Outcome.Timeout) {
      recordLatency(histogram, buckets, latency);
      if (latency > plan.p99BudgetMs || outcome === Outcome.Timeout) {
        overBudget++;
        slowest.offer(latency, request);
      }
    }
    if (outcome === Outcome.Accepted || outcome === Outcome.Refused) {
      httpAnswers++;
      const status = String(arrays.status[request]);
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      const at = answeredAt(request);
      if (at > lastAnswerMs) lastAnswerMs = at;
      if (outcome === Outcome.Accepted) latestAccepted.offer(at, request);
    }
    if (outcome !== Outcome.NotSent && outcome !== Outcome.Aborted) errors.requests++;
    if (outcome === Outcome.Refused && arrays.status[request]! >= 500) {
      errors.serverErrors++;
      pushExample(errors.examples, () => uidOf(request));
    }
    if (outcome === Outcome.Refused) {
      const reason = arrays.detail[request]!;
      reasonCounts[reason]!++;
      const list = reasonExamples[reason]!;
      if (list.length < 3) list.push(uidOf(request));
    }
    if (outcome === Outcome.Timeout) {
      timeoutRequests++;
      errorKinds.timeout = (errorKinds.timeout ?? 0) + 1;
    }
    if (outcome === Outcome.ConnectionError) {
      const kind = noAnswerKindOf(arrays.detail[request]!);
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      // 'other' is this machine's limits (EMFILE...), the local-errors warning's, not the merchant's.
      if (kind !== 'other') {
        errors.noAnswer[kind] = (errors.noAnswer[kind] ?? 0) + 1;
        pushExample(errors.examples, () => uidOf(request));
      }
      timeline.settled('error', Number.isNaN(sentAt) ? unsentErrorAtMs : answeredAt(request), { errorKind: kind });
    } else if (outcome === Outcome.Accepted || outcome === Outcome.Refused || outcome === Outcome.Timeout) {
      const kind = outcome === Outcome.Accepted ? 'accepted' : outcome === Outcome.Refused ? 'refused' : 'timeout';
      const status = outcome === Outcome.Timeout ? undefined : arrays.status[request]!;
      timeline.settled(kind, answeredAt(request), { status, latencyMs: latency });
    }
    if ((flags & Flag.Stranded) !== 0) {
      stranded++;
      pushExample(examples.stranded, () => uidOf(request));
    }
  }

  // Buyer-level view: a buyer's requests are adjacent, the original first.
  const states = new Uint8Array(store.slice.count);
  const confirmTruth = plan.completion === null ? null : (facts.truth?.statuses ?? null);
  const declinedAtConfirm = (buyer: number): boolean => confirmTruth !== null && confirmTruth.charCodeAt(buyer) === DECLINED_LETTER;
  // Fairness needs when each accepted buyer arrived and when each refused one was turned away.
  const times = paced ? new Float32Array(store.slice.count) : null;
  const causes = { refused: 0, serverErrors: 0, timeouts: 0, connectionErrors: 0, notSent: 0, aborted: 0 };
  let acceptedBuyers = 0;
  let doubleAccepted = 0;
  let unknownOrders = 0;
  for (let request = 0, buyer = 0; request < store.requests; buyer++) {
    const first = request;
    const twice = request + 1 < store.requests && (arrays.flags[request + 1]! & Flag.Duplicate) !== 0;
    request += twice ? 2 : 1;
    const primary = arrays.outcome[first]!;
    const secondAccepted = twice && arrays.outcome[first + 1] === Outcome.Accepted;
    if (primary === Outcome.Accepted || secondAccepted) {
      acceptedBuyers++;
      states[buyer] = ArrivalState.Accepted;
      if (times) times[buyer] = arrays.sentAtMs[primary === Outcome.Accepted ? first : first + 1]!;
      if (primary === Outcome.Accepted && secondAccepted) {
        doubleAccepted++;
        pushExample(examples.doubleAccepted, () => uidOf(first));
      }
      continue;
    }
    if (primary === Outcome.Refused) {
      // Manual confirm: a buyer told no because the PG declined its confirm was sold to, not turned away.
      if (!declinedAtConfirm(buyer)) {
        states[buyer] = ArrivalState.Refused;
        if (times) times[buyer] = answeredAt(first);
      }
      if (arrays.status[first]! >= 500) {
        causes.serverErrors++;
        pushExample(examples.serverErrors, () => uidOf(first));
      } else {
        causes.refused++;
        if (store.reasons[arrays.detail[first]!]?.unknownOrder === true) unknownOrders++;
        pushExample(examples.refused, () => uidOf(first));
      }
    } else if (primary === Outcome.Timeout) {
      causes.timeouts++;
      pushExample(examples.timeouts, () => uidOf(first));
    } else if (primary === Outcome.ConnectionError) {
      causes.connectionErrors++;
      pushExample(examples.connectionErrors, () => uidOf(first));
    } else if (primary === Outcome.Aborted) {
      causes.aborted++;
    } else {
      causes.notSent++;
    }
  }
  examples.latestAccepted = latestAccepted.values.map(uidOf);
  examples.slow = slowest.values.map(uidOf);

  let inversions: number | null = null;
  if (times) {
    inversions = countInversions(states, times, plan.fairnessWindowMs);
    if (inversions > 0) {
      const found = inversionExamples(states, times, plan.fairnessWindowMs, EXAMPLES_PER_FINDING);
      const uidOfBuyer = (buyer: number): string => template.render(store.slice.offset + store.slice.stride * buyer);
      examples.unfairAccepted = found.acceptedLate.map(uidOfBuyer);
      examples.unfairRefused = found.refusedEarly.map(uidOfBuyer);
    }
  }

  const latency = summarizeLatency(histogram, buckets);
  const probe = facts.stock.probe;
  const payments = facts.payments ?? null;
  const tally: StockTally & { errors: ErrorTally } = {
    buyers: store.slice.count,
    stock: facts.stock.stock,
    accepted: acceptedBuyers,
    notAccepted: causes,
    unknownOrders,
    stranded,
    doubleAccepted,
    overBudget,
    timeouts: timeoutRequests,
    latencyP99Ms: latency.p99,
    inversions,
    probe: probe ? { before: probe.before, after: probe.after } : null,
    payments: payments && {
      paid: payments.paid,
      declined: payments.declined,
      acceptedAfterRefusal: times ? countAcceptedAfterRefusal(states, times, plan.fairnessWindowMs) : null,
      declinedExamples: payments.examples.declined.slice(0, EXAMPLES_PER_FINDING),
    },
    interrupted: measurements.interrupted,
    missingShards: [],
    errors,
    examples,
  };
  const truth = facts.truth ?? null;
  const manualConfirm =
    plan.completion !== null && truth !== null
      ? {
          body: plan.completion.template,
          successStatus: plan.completion.success.text,
          tokenLifetimeMs: plan.completion.tokenLifetimeMs,
          ...tallyManualConfirm(store, truth, (buyer) => template.render(store.slice.offset + store.slice.stride * buyer)),
        }
      : null;
  const verdict = judgeReport(plan, tally, manualConfirm === null ? null : { section: manualConfirm, settleMs: plan.gateway?.settleMs ?? 0 });
  const lagP99 = paced && lagHistogram.totalCount > 0 ? lagHistogram.getValueAtPercentile(99) / 1000 : null;
  const barrier = measurements.barrierEpochMs;
  const firstSentMs = measurements.firstSentMs;
  const activeMs = firstSentMs !== null && Number.isFinite(lastAnswerMs) ? lastAnswerMs - firstSentMs : 0;
  const refusalReasons: RefusalReasonSummary[] = [];
  store.reasons.forEach((reason, id) => {
    const count = reasonCounts[id]!;
    if (count === 0) return;
    // In manual confirm no gateway records a fail reason: the merchant's answer goes to its own front end.
    const failReason =
      id === OVERFLOW_REASON || plan.completion !== null ? null : decide(plan.dialect, { kind: 'http', status: reason.status, body: reason.body }).failReason;
    refusalReasons.push({ status: reason.status, detail: reason.detail, failReason, count, examples: reasonExamples[id]! });
  });
  refusalReasons.sort((a, b) => b.count - a.count);

  return {
    schemaVersion: BURST_REPORT_SCHEMA_VERSION,
    kind: BURST_REPORT_KIND,
    interrupted: measurements.interrupted,
    target: plan.url,
    config: reportConfig(plan, facts.stock.stock, facts.connections),
    shards: plan.shard ? [plan.shard.index] : null,
    verdict,
    counts: {
      buyers: store.slice.count,
      requests: store.requests,
      sent,
      accepted: acceptedBuyers,
      refused: causes.refused + causes.serverErrors,
      errors: causes.connectionErrors,
      timeouts: causes.timeouts,
      notSent: causes.notSent,
      aborted: causes.aborted,
    },
    statusCodes,
    errorKinds,
    refusalReasons,
    latencyMs: latency,
    throughputPerSec: activeMs > 0 ? (httpAnswers / activeMs) * 1000 : 0,
    dispatchSpreadMs:
      measurements.firstSentMs !== null && measurements.lastSentMs !== null
        ? measurements.lastSentMs - measurements.firstSentMs
        : 0,
    dispatch: {
      firstSentAt: measurements.firstSentMs === null ? null : barrier + measurements.firstSentMs,
      lastSentAt: measurements.lastSentMs === null ? null : barrier + measurements.lastSentMs,
      waveSpreadMs: measurements.waveSpreadMs,
      waveSize: measurements.waveSize,
      lagP99Ms: lagP99,
      lagMaxMs: paced && sent > 0 ? lagMaxMs : null,
    },
    timing: { startedAt: barrier, endedAt: barrier + measurements.endedMs, durationMs: measurements.endedMs },
    stock: facts.stock,
    payments,
    ...(plan.completion === null ? {} : { manualConfirm }),
    fairness:
      inversions === null
        ? null
        : {
            windowMs: plan.fairnessWindowMs,
            inversions,
            timeline: plan.shard && times ? encodeTimeline(states, times) : null,
          },
    tally,
    transport: {
      connections: facts.connections,
      connectionsOpened: measurements.connectionsOpened,
      bytesWritten: measurements.bytesWritten,
      bytesRead: measurements.bytesRead,
      connectMs: measurements.connectMs,
      strayAnswers: measurements.strayAnswers,
    },
    selfCheck: {
      fdLimit: facts.fdLimit,
      threads: facts.threads,
      eventLoopUtilization: measurements.loop.utilization,
      eventLoopDelayP99Ms: measurements.loop.delayP99Ms,
      eventLoopDelayMaxMs: measurements.loop.delayMaxMs,
      cpuCoresBusy: facts.cpuCoresBusy,
      warnings: [...facts.warnings, ...selfCheckWarnings(facts, latency.p50, lagP99)],
    },
    ledger: plan.ledgerPath,
    timeline: timeline.finish(facts.paymentsSeries ? paymentsTimeline({ ...facts.paymentsSeries, runStartedAt: barrier }) : null),
  };
}

/**
 * A run's verdict, by its flow's oracle: the stock oracle for the Confirm Process, the gateway's confirmed
 * payments against the buyers' answers for manual confirm. One shard sees only its slice of the buyers, so it
 * cannot tell oversell or undersell: its verdict covers what it can judge alone and is marked partial until
 * `merge` puts the shards together.
 */
export function judgeReport(
  plan: Pick<BurstPlan, 'p99BudgetMs' | 'timeoutMs' | 'duplicates' | 'shard' | 'maxErrorRate'>,
  tally: StockTally,
  manualConfirm: { section: ManualConfirmSection; settleMs: number } | null = null,
): BurstReport['verdict'] {
  const options = {
    p99BudgetMs: plan.p99BudgetMs,
    timeoutMs: plan.timeoutMs,
    duplicatesSent: plan.duplicates > 0,
    maxErrorRate: plan.maxErrorRate,
    stockChecks: !plan.shard,
  };
  const verdict =
    manualConfirm === null
      ? judgeStock(tally, options)
      : judgeManualConfirm(tally, manualConfirm.section, { ...options, settleMs: manualConfirm.settleMs, successStatus: manualConfirm.section.successStatus });
  return { ...verdict, partial: !!plan.shard };
}

export function reportConfig(plan: BurstPlan, stock: number, connections: number): BurstReport['config'] {
  return {
    buyers: plan.buyers,
    stock,
    dialect: plan.dialect,
    amount: plan.amount,
    merchantUid: plan.merchantUidTemplate,
    runId: plan.runId,
    signed: plan.secretKey !== null && isV2(plan.dialect),
    secret: plan.secretMasked,
    mode: plan.mode,
    rampMs: plan.rampMs,
    ratePerSec: plan.ratePerSec,
    connections,
    duplicates: plan.duplicates,
    timeoutMs: plan.timeoutMs,
    strandedWaitMs: plan.strandedWaitMs,
    p99BudgetMs: plan.p99BudgetMs,
    maxErrorRate: plan.maxErrorRate,
    fairnessWindowMs: plan.fairnessWindowMs,
    workers: plan.workers,
    shard: plan.shard,
    startAt: plan.startAt,
    flow: plan.flow,
  };
}
