import { formatMs } from '../util/duration.js';
import { UNKNOWN_ORDER_FIX } from '../protocol/refusals.js';

/**
 * The stock oracle: what a first-come flash sale must look like from the gateway's side, judged from a
 * compact tally of a run (never from per-buyer objects), so the same pure functions judge one process,
 * several worker threads and shards merged from several machines.
 */

export const PROBLEM_KINDS = [
  'oversell',
  'undersell',
  'leak',
  'double-take',
  'stock-mismatch',
  'slow',
  'unfair',
  'stranded',
  'interrupted',
  'missing-shards',
  'unknown-orders',
  'errors',
  // Manual confirm (src/oracle/manual-confirm.ts): the merchant's answers against the payments it confirmed.
  'charged-refused',
  'told-paid-unconfirmed',
  'double-confirm',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

/** Why buyers who were not accepted were not: an undersell's causes. */
export interface NotAcceptedCauses {
  /** Answered in time with a non-200, non-5xx status: the merchant said no. */
  refused: number;
  /** Answered in time with 5xx: the merchant broke. */
  serverErrors: number;
  timeouts: number;
  connectionErrors: number;
  /** Never sent: the run was interrupted first. */
  notSent: number;
  /** In flight when the run was interrupted. */
  aborted: number;
}

/** A few merchant_uids per finding, so a failure can be looked up in the merchant's own logs. */
export interface TallyExamples {
  /** Accepted buyers, latest answer first: where an oversell's surplus is. */
  latestAccepted: string[];
  refused: string[];
  serverErrors: string[];
  timeouts: string[];
  connectionErrors: string[];
  doubleAccepted: string[];
  slow: string[];
  unfairAccepted: string[];
  unfairRefused: string[];
  stranded: string[];
}

export const EXAMPLE_KEYS = [
  'latestAccepted',
  'refused',
  'serverErrors',
  'timeouts',
  'connectionErrors',
  'doubleAccepted',
  'slow',
  'unfairAccepted',
  'unfairRefused',
  'stranded',
] as const satisfies ReadonlyArray<keyof TallyExamples>;

export const EXAMPLES_PER_FINDING = 5;

export interface StockProbe {
  /** The stock at the start of the sale. */
  before: number;
  /** The stock left at the end: after --settle when a gateway took part. */
  after: number;
}

/**
 * What the gateway says became of the sale's money, after --settle: present only when a gateway took part.
 * Then the verdict is about paid payments against stock, not only about 200s.
 */
export interface PaymentTally {
  /** P: payments charged. */
  paid: number;
  /** D: buyers answered 200 in time whose charge the PG declined afterwards. */
  declined: number;
  /**
   * Accepted buyers who arrived after an earlier buyer had been refused (paced runs; null in a burst). With
   * declines, up to D of them are right: a declined buyer's unit came back and was sold again.
   */
  acceptedAfterRefusal: number | null;
  /** A few declined merchant_uids: where a leak's missing units are. */
  declinedExamples: string[];
}

/**
 * The merchant's errors, per request: the `errors` problem. Timeouts are not here (they are `slow`'s), nor
 * failures of this machine's own (EMFILE...: the `local-errors` warning).
 */
export interface ErrorTally {
  /** Requests the error rate is taken over: every one sent, or found the target down. */
  requests: number;
  /** Answered in time with a 5xx status. */
  serverErrors: number;
  /** Got no valid answer, by kind: reset, refused, invalid-http, body-too-large, tls, dns. */
  noAnswer: Record<string, number>;
  /** Answers that came with no request in flight (each closed its connection). */
  strayAnswers: number;
  /** A few merchant_uids of requests that met an error. */
  examples: string[];
}

export function emptyErrorTally(): ErrorTally {
  return { requests: 0, serverErrors: 0, noAnswer: {}, strayAnswers: 0, examples: [] };
}

export function errorCount(errors: ErrorTally): number {
  return errors.serverErrors + Object.values(errors.noAnswer).reduce((sum, count) => sum + count, 0) + errors.strayAnswers;
}

/** Everything the verdict needs. Counts are additive across shards. */
export interface StockTally {
  /** Distinct buyers the verdict covers. */
  buyers: number;
  stock: number;
  /** Distinct buyers who got a 200 within the timeout. */
  accepted: number;
  notAccepted: NotAcceptedCauses;
  /** Of notAccepted.refused, buyers whose refusal said the order is unknown (404, "unknown order"). Absent in older reports. */
  unknownOrders?: number;
  /** Requests answered 200 after the gateway had timed them out. */
  stranded: number;
  /** Buyers whose confirm was answered 200 twice (both requests of a duplicate). */
  doubleAccepted: number;
  /** Requests slower than the p99 budget, timeouts included. */
  overBudget: number;
  /** Requests that timed out. */
  timeouts: number;
  /** p99 over answered and timed-out requests, or null when nothing was answered. */
  latencyP99Ms: number | null;
  /** (refused, accepted after that refusal) pairs; null when arrival order means nothing (a burst). */
  inversions: number | null;
  probe: StockProbe | null;
  /** null when no gateway took part: then only the merchant's answers are judged. */
  payments: PaymentTally | null;
  interrupted: boolean;
  /** Shards of the run that no report was given for. */
  missingShards: number[];
  /** 5xx, dropped connections, invalid HTTP, stray answers (schemaVersion 2; absent, nothing is judged). */
  errors?: ErrorTally;
  examples: TallyExamples;
}

export interface JudgeOptions {
  p99BudgetMs: number;
  timeoutMs: number;
  /** True when a buyer could send twice: then a probe is the only way to see stock taken twice. */
  duplicatesSent: boolean;
  /**
   * False for one shard's tally: a shard sees only its slice of the buyers, so oversell, undersell and the
   * stock probe can only be judged once all shards are merged.
   */
  stockChecks?: boolean;
  /** The share of requests (0..1) that may meet a merchant error before `errors` fails the verdict; default 0. */
  maxErrorRate?: number;
}

export interface Problem {
  kind: ProblemKind;
  count: number;
  message: string;
  examples: string[];
  causes?: NotAcceptedCauses;
}

export interface Verdict {
  pass: boolean;
  /** One line: PASS/FAIL and why. */
  summary: string;
  problems: Problem[];
  /** What could not be checked, and why. */
  notes: string[];
}

export function emptyExamples(): TallyExamples {
  return {
    latestAccepted: [],
    refused: [],
    serverErrors: [],
    timeouts: [],
    connectionErrors: [],
    doubleAccepted: [],
    slow: [],
    unfairAccepted: [],
    unfairRefused: [],
    stranded: [],
  };
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Refusals are "while stock was left" only if the probe does not show the stock gone. */
function causeText(causes: NotAcceptedCauses, tally: StockTally): string {
  const parts: string[] = [];
  const unknown = Math.min(tally.unknownOrders ?? 0, causes.refused);
  const otherRefusals = causes.refused - unknown;
  if (unknown > 0) parts.push(`${unknown} refused as unknown orders`);
  if (otherRefusals > 0) {
    const stockGone = tally.probe !== null && tally.probe.after <= 0;
    parts.push(stockGone ? `${otherRefusals} refused, rightly: the stock probe shows none left` : `${otherRefusals} refused while stock was left`);
  }
  if (causes.serverErrors > 0) parts.push(`${causes.serverErrors} got 5xx`);
  if (causes.timeouts > 0) parts.push(`${causes.timeouts} timed out`);
  if (causes.connectionErrors > 0) parts.push(`${causes.connectionErrors} hit connection errors`);
  return parts.join(', ');
}

function undersellExamples(tally: StockTally): string[] {
  const { examples } = tally;
  return [...examples.refused, ...examples.serverErrors, ...examples.timeouts, ...examples.connectionErrors].slice(
    0,
    EXAMPLES_PER_FINDING,
  );
}

/** At least this share of the answers saying "unknown order" means the orders were never created. */
const UNKNOWN_ORDERS_SHARE = 0.9;

/** PASS only when exactly min(stock, buyers) were accepted and nothing else went wrong. */
export function judgeStock(tally: StockTally, options: JudgeOptions): Verdict {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const allowed = Math.min(tally.stock, tally.buyers);
  const incomplete = tally.interrupted || tally.missingShards.length > 0;
  const stockChecks = options.stockChecks ?? true;

  // Checked first and for a shard too: when the merchant knows none of the orders, every other figure is noise.
  const unknown = unknownOrdersProblem(tally);
  if (unknown) problems.push(unknown);

  if (stockChecks) {
    const oversell = oversold(tally);
    if (oversell) problems.push(oversell);
  }
  if (stockChecks && tally.accepted < allowed) {
    if (incomplete) {
      notes.push(`undersell not judged: ${tally.accepted} accepted of ${allowed}, but not every buyer was sent`);
    } else {
      const count = allowed - tally.accepted;
      const causes = { ...tally.notAccepted };
      const probe = tally.probe;
      const takenByRepeats = probe !== null && probe.after <= 0 && probe.before - probe.after > tally.accepted + tally.stranded;
      const because = takenByRepeats
        ? `; the stock went to repeated confirms taking it again (see double-take), not to buyers`
        : '';
      problems.push({
        kind: 'undersell',
        count,
        message: `${tally.accepted} accepted where ${allowed} should have been (${count} short): ${causeText(causes, tally)}${because}`,
        examples: undersellExamples(tally),
        causes,
      });
    }
  }
  if (!stockChecks) {
    notes.push('stock checks (oversell, undersell, double-take) need every shard: run `confirm-sim merge` on all shard reports');
  } else if (tally.probe) {
    problems.push(...probeProblems(tally, tally.probe));
  } else if (tally.payments) {
    notes.push('leak not checked: give --stock-url so the stock left after --settle can be set against the payments');
  } else if (options.duplicatesSent) {
    notes.push('double-take not checked: give --stock-url so stock can be compared before and after the run');
  }
  serviceFindings(tally, options, problems, notes);
  if (tally.stranded > 0) {
    problems.push({
      kind: 'stranded',
      count: tally.stranded,
      message: `${plural(tally.stranded, 'payment')} answered 200 after the ${formatMs(options.timeoutMs)} timeout: the gateway failed them, but the merchant took stock`,
      examples: tally.examples.stranded.slice(0, EXAMPLES_PER_FINDING),
    });
  }
  problems.push(...runProblems(tally));
  const pass = problems.length === 0;
  return { pass, summary: summarize(pass, tally, problems, stockChecks), problems, notes };
}

/** When the merchant knows (almost) none of the orders, every other figure is noise: said first. */
export function unknownOrdersProblem(tally: StockTally): Problem | null {
  const unknownOrders = tally.unknownOrders ?? 0;
  const answered = tally.accepted + tally.notAccepted.refused + tally.notAccepted.serverErrors;
  if (unknownOrders === 0 || unknownOrders < UNKNOWN_ORDERS_SHARE * answered) return null;
  return {
    kind: 'unknown-orders',
    count: unknownOrders,
    message: `${unknownOrders} of ${plural(answered, 'answer')} said the order is unknown: the merchant was never told about these orders; ${UNKNOWN_ORDER_FIX}`,
    examples: tally.examples.refused.slice(0, EXAMPLES_PER_FINDING),
  };
}

/** How the merchant served the sale, whatever the flow: its errors, its latency and first-come order. */
export function serviceFindings(tally: StockTally, options: JudgeOptions, problems: Problem[], notes: string[]): void {
  const errors = errorFindings(tally.errors ?? emptyErrorTally(), options.maxErrorRate ?? 0);
  if (errors.problem) problems.push(errors.problem);
  if (errors.note) notes.push(errors.note);
  const p99 = tally.latencyP99Ms;
  const p99IsTimeout = p99 !== null && tally.timeouts > 0 && p99 >= options.timeoutMs;
  if (p99 !== null && (p99 > options.p99BudgetMs || p99IsTimeout)) {
    const p99Text = p99IsTimeout ? `at the ${formatMs(options.timeoutMs)} timeout` : formatMs(p99);
    problems.push({
      kind: 'slow',
      count: tally.overBudget,
      message: `p99 latency ${p99Text} is over the ${formatMs(options.p99BudgetMs)} budget (${plural(tally.overBudget, 'request')} slower, ${tally.timeouts} timed out)`,
      examples: tally.examples.slow.slice(0, EXAMPLES_PER_FINDING),
    });
  }
  // A unit any shard's declined payment gives back may rightly go to a later buyer of this shard: with a
  // gateway, first-come order is judged on the merged sale.
  if (options.stockChecks === false && tally.payments !== null) {
    if (tally.inversions !== null && tally.inversions > 0) notes.push(`${tally.inversions} inversions in this shard: first-come order is judged by \`confirm-sim merge\`, where every shard's declines are known`);
  } else if (tally.inversions !== null && tally.inversions > 0) {
    const unfair = unfairness(tally, tally.inversions);
    if (unfair.problem) problems.push(unfair.problem);
    if (unfair.note) notes.push(unfair.note);
  }
}

/** What kept the run from covering every buyer: an interruption, shards without a report. */
export function runProblems(tally: StockTally): Problem[] {
  const problems: Problem[] = [];
  if (tally.interrupted) {
    const count = tally.notAccepted.notSent + tally.notAccepted.aborted;
    problems.push({
      kind: 'interrupted',
      count,
      message: `the run was interrupted: ${tally.notAccepted.notSent} not sent, ${tally.notAccepted.aborted} still in flight`,
      examples: [],
    });
  }
  if (tally.missingShards.length > 0) {
    problems.push({
      kind: 'missing-shards',
      count: tally.missingShards.length,
      message: `no report for ${plural(tally.missingShards.length, 'shard')} (${tally.missingShards.join(', ')}); the stock verdict needs them all`,
      examples: [],
    });
  }
  return problems;
}

function percent(rate: number): string {
  const value = rate * 100;
  return `${value >= 10 || Number.isInteger(value) ? value.toFixed(0) : value.toPrecision(2)}%`;
}

/** "500 ×3, reset ×2, stray answer ×1": each kind of error the merchant made, most frequent first. */
export function errorMix(errors: ErrorTally): string {
  const entries: Array<[string, number]> = [['5xx', errors.serverErrors], ...Object.entries(errors.noAnswer), ['stray answer', errors.strayAnswers]];
  return entries
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${kind} ×${count}`)
    .join(', ');
}

/**
 * 5xx, dropped connections and garbage fail the verdict even when the stock came out right: a merchant that
 * answers 500 to half its buyers once the stock is gone is still broken. `maxErrorRate` tolerates a share.
 */
export function errorFindings(errors: ErrorTally, maxErrorRate: number): { problem: Problem | null; note: string | null } {
  const count = errorCount(errors);
  if (count === 0) return { problem: null, note: null };
  const rate = count / Math.max(1, errors.requests);
  const share = `${plural(count, 'error')} in ${plural(errors.requests, 'request')} (${percent(rate)}: ${errorMix(errors)})`;
  if (rate <= maxErrorRate) {
    return { problem: null, note: `${share} tolerated: --max-error-rate is ${percent(maxErrorRate)}` };
  }
  const allowed = maxErrorRate > 0 ? `, over the ${percent(maxErrorRate)} --max-error-rate allows` : '';
  return {
    problem: {
      kind: 'errors',
      count,
      message: `${share}${allowed}: each is a failed payment the gateway blames on the merchant`,
      examples: errors.examples.slice(0, EXAMPLES_PER_FINDING),
    },
    note: null,
  };
}

/** Paid payments over the stock, or more 200s than the stock and the units declines gave back explain. */
function oversold(tally: StockTally): Problem | null {
  const examples = tally.examples.latestAccepted.slice(0, EXAMPLES_PER_FINDING);
  const payments = tally.payments;
  if (!payments) {
    if (tally.accepted <= tally.stock) return null;
    const count = tally.accepted - tally.stock;
    return {
      kind: 'oversell',
      count,
      message: `${tally.accepted} buyers accepted for ${tally.stock} in stock: ${plural(count, 'item')} sold that do not exist`,
      examples,
    };
  }
  if (payments.paid > tally.stock) {
    const count = payments.paid - tally.stock;
    return {
      kind: 'oversell',
      count,
      message: `${payments.paid} payments charged for ${tally.stock} in stock: ${plural(count, 'buyer')} paid for items that do not exist`,
      examples,
    };
  }
  const explained = tally.stock + payments.declined;
  if (tally.accepted > explained) {
    const count = tally.accepted - explained;
    return {
      kind: 'oversell',
      count,
      message:
        `${tally.accepted} buyers accepted for ${tally.stock} in stock and ${plural(payments.declined, 'declined payment')} ` +
        `that gave a unit back: ${plural(count, 'acceptance')} for items that did not exist (only the PG's declines kept them from being charged)`,
      examples,
    };
  }
  return null;
}

/**
 * The stock probe against the sale. Without a gateway, every 200 should have taken one unit. With one, the
 * units of payments that failed after their confirm must come back: what is left plus what was paid must
 * make the stock at the start again.
 */
function probeProblems(tally: StockTally, probe: StockProbe): Problem[] {
  const problems: Problem[] = [];
  const dropped = probe.before - probe.after;
  const explained = tally.accepted + tally.stranded;
  const change = `${probe.before} → ${probe.after}`;
  if (dropped > explained) {
    const count = dropped - explained;
    const strandedPart = tally.stranded > 0 ? ` and ${tally.stranded} stranded` : '';
    problems.push({
      kind: 'double-take',
      count,
      message:
        `stock fell by ${dropped} (${change}) for ${tally.accepted} accepted${strandedPart}: ` +
        `${plural(count, 'item')} taken without a sale (a repeated confirm took stock again, or a failed request kept its reservation)`,
      examples: tally.examples.doubleAccepted.slice(0, EXAMPLES_PER_FINDING),
    });
  }
  const payments = tally.payments;
  if (!payments) {
    if (dropped < tally.accepted) {
      const count = tally.accepted - dropped;
      problems.push({
        kind: 'stock-mismatch',
        count,
        message: `${tally.accepted} accepted but stock fell only by ${dropped} (${change}): ${plural(count, 'accepted order')} took no stock`,
        examples: tally.examples.latestAccepted.slice(0, EXAMPLES_PER_FINDING),
      });
    }
    return problems;
  }
  const held = Math.min(dropped, explained) - payments.paid;
  if (held > 0) {
    problems.push({
      kind: 'leak',
      count: held,
      message:
        `after --settle ${probe.after} left + ${payments.paid} paid = ${probe.after + payments.paid}, short of the ${probe.before} at the start: ` +
        `${plural(held, 'unit')} of payments that failed after their confirm (${payments.declined} declined by the PG) never came back`,
      examples: payments.declinedExamples.slice(0, EXAMPLES_PER_FINDING),
    });
  } else if (dropped < payments.paid) {
    const count = payments.paid - dropped;
    problems.push({
      kind: 'stock-mismatch',
      count,
      message:
        `${payments.paid} payments charged but stock fell only by ${dropped} (${change}): ` +
        `${plural(count, 'paid order')} took no stock, or stock was given back twice`,
      examples: tally.examples.latestAccepted.slice(0, EXAMPLES_PER_FINDING),
    });
  }
  return problems;
}

/** Inversions are unfair, except those a declined payment's returned unit explains. */
function unfairness(tally: StockTally, inversions: number): { problem: Problem | null; note: string | null } {
  const refusedText = tally.examples.unfairRefused.length > 0 ? ` (refused earlier: ${tally.examples.unfairRefused.slice(0, 3).join(', ')})` : '';
  const examples = tally.examples.unfairAccepted.slice(0, EXAMPLES_PER_FINDING);
  const payments = tally.payments;
  if (payments && payments.declined > 0 && payments.acceptedAfterRefusal !== null) {
    const late = payments.acceptedAfterRefusal;
    const unexplained = late - payments.declined;
    if (unexplained <= 0) {
      return {
        problem: null,
        note: `${plural(late, 'buyer')} accepted after earlier refusals: no more than the ${payments.declined} units that declined payments gave back`,
      };
    }
    return {
      problem: {
        kind: 'unfair',
        count: unexplained,
        message:
          `${plural(late, 'buyer')} accepted after earlier buyers had already been refused, ${unexplained} more than the ` +
          `${payments.declined} units declined payments gave back${refusedText}`,
        examples,
      },
      note: null,
    };
  }
  return {
    problem: {
      kind: 'unfair',
      count: inversions,
      message: `${plural(inversions, 'inversion')}: buyers were accepted after earlier buyers had already been refused${refusedText}`,
      examples,
    },
    note: null,
  };
}

function summarize(pass: boolean, tally: StockTally, problems: Problem[], stockChecks: boolean): string {
  const p99 = tally.latencyP99Ms === null ? '' : `, p99 ${formatMs(tally.latencyP99Ms)}`;
  if (pass && !stockChecks) {
    return `PASS (this shard only) ${tally.accepted} of ${plural(tally.buyers, 'buyer')} accepted${p99}; merge all shards for the stock verdict`;
  }
  if (pass) {
    const probe = tally.probe ? `, stock ${tally.probe.before} → ${tally.probe.after}` : '';
    if (tally.payments) {
      const { paid, declined } = tally.payments;
      const declines = declined > 0 ? `, ${declined} declined by the PG` : '';
      return `PASS ${paid} paid of ${tally.stock} in stock to ${plural(tally.buyers, 'buyer')} (${tally.accepted} accepted${declines})${probe}${p99}`;
    }
    return `PASS ${tally.accepted} of ${tally.stock} in stock sold to ${plural(tally.buyers, 'buyer')}${probe}${p99}`;
  }
  return `FAIL ${problems.map((problem) => `${problem.kind} (${problem.count})`).join(', ')}: ${problems[0]!.message}`;
}
