import { formatMs } from '../util/duration.js';
import {
  EXAMPLES_PER_FINDING,
  runProblems,
  serviceFindings,
  unknownOrdersProblem,
  type JudgeOptions,
  type Problem,
  type StockTally,
  type Verdict,
} from './stock-oracle.js';

/**
 * The manual-confirm oracle: in manual confirm the merchant, not the gateway, decides whom to charge, so the
 * sale's truth is the gateway's record of which payments were confirmed, set against what the merchant told
 * each buyer. Judged from a compact tally (counts and a few examples), like the stock oracle, whose service
 * findings (errors, latency, fairness, interruptions) it shares.
 */

/** Buyers by the gateway's letter for their payment after --settle (GET /sim/sales/{run}/statuses). */
export interface PaymentStatusCounts {
  /** R: never confirmed. */
  ready: number;
  /** P: confirmed (charged). */
  paid: number;
  /** F: the PG declined the confirm. */
  failed: number;
  /** C: confirmed, then fully cancelled. */
  cancelled: number;
  /** X: confirmed, then partly cancelled (still charged). */
  partiallyCancelled: number;
  /** D: confirmed twice (a correct gateway never allows it). */
  doubleConfirmed: number;
}

/** Why buyers whose payment was never confirmed (R) were not: what the merchant answered them. */
export interface UnconfirmedCauses {
  /** A non-success answer below 500: "sold out", "unknown order"... */
  refused: number;
  serverErrors: number;
  /** A success answer: the merchant said paid and never confirmed (told-paid-unconfirmed). */
  toldPaid: number;
  timeouts: number;
  connectionErrors: number;
  notSent: number;
  aborted: number;
}

export interface ManualConfirmExamples {
  chargedRefused: string[];
  toldPaidUnconfirmed: string[];
  doubleConfirm: string[];
  chargedUnanswered: string[];
  /** Confirmed buyers, latest answer first: where an oversell's surplus is. */
  confirmed: string[];
  /** Buyers never confirmed who were not told paid: an undersell's. */
  unconfirmed: string[];
  /** Buyers whose confirm the PG declined. */
  declined: string[];
}

/** Everything the manual-confirm verdict needs. Counts are additive across shards; examples are a few of each. */
export interface ManualConfirmTally {
  statuses: PaymentStatusCounts;
  /** P + X + D: charged and not fully cancelled. */
  confirmed: number;
  /** Buyers the merchant answered with a success status in time (either of a duplicate's requests). */
  toldPaid: number;
  /** Told no (an answer in time, not a success) while their payment is confirmed and was not cancelled. */
  chargedRefused: number;
  /** Told paid while their payment was never confirmed (R) or the PG declined it (F). */
  toldPaidUnconfirmed: number;
  /** Payments confirmed twice (D), or a repeated completion's payment cancelled after its buyer was told paid. */
  doubleConfirm: number;
  /** No answer in time (timeout, connection error) while the payment was confirmed: charged, never told. */
  chargedUnanswered: number;
  unconfirmed: UnconfirmedCauses;
  /** The gateway's counts of POST /payments/{id}/confirm calls for the run. */
  confirmCalls: number;
  confirmsSucceeded: number;
  confirmsRefused: Record<string, number>;
  examples: ManualConfirmExamples;
}

export interface ManualConfirmJudgeOptions extends JudgeOptions {
  /** --settle: how long a confirmed payment of a refused buyer had to be cancelled. */
  settleMs: number;
  /** --success-status as written, for messages. */
  successStatus: string;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function emptyManualConfirmTally(): ManualConfirmTally {
  return {
    statuses: { ready: 0, paid: 0, failed: 0, cancelled: 0, partiallyCancelled: 0, doubleConfirmed: 0 },
    confirmed: 0,
    toldPaid: 0,
    chargedRefused: 0,
    toldPaidUnconfirmed: 0,
    doubleConfirm: 0,
    chargedUnanswered: 0,
    unconfirmed: { refused: 0, serverErrors: 0, toldPaid: 0, timeouts: 0, connectionErrors: 0, notSent: 0, aborted: 0 },
    confirmCalls: 0,
    confirmsSucceeded: 0,
    confirmsRefused: {},
    examples: { chargedRefused: [], toldPaidUnconfirmed: [], doubleConfirm: [], chargedUnanswered: [], confirmed: [], unconfirmed: [], declined: [] },
  };
}

function unconfirmedText(causes: UnconfirmedCauses, tally: StockTally): string {
  const parts: string[] = [];
  const unknown = Math.min(tally.unknownOrders ?? 0, causes.refused);
  if (unknown > 0) parts.push(`${unknown} refused as unknown orders`);
  if (causes.refused - unknown > 0) {
    const stockGone = tally.probe !== null && tally.probe.after <= 0;
    const refused = causes.refused - unknown;
    parts.push(stockGone ? `${refused} refused, rightly: the stock probe shows none left` : `${refused} refused while stock was left`);
  }
  if (causes.toldPaid > 0) parts.push(`${causes.toldPaid} told paid but never confirmed`);
  if (causes.serverErrors > 0) parts.push(`${causes.serverErrors} got 5xx`);
  if (causes.timeouts > 0) parts.push(`${causes.timeouts} timed out`);
  if (causes.connectionErrors > 0) parts.push(`${causes.connectionErrors} hit connection errors`);
  return parts.length > 0 ? parts.join(', ') : 'no buyer was left unconfirmed';
}

/**
 * Undersell: fewer confirmed than min(stock, buyers). A unit whose confirm the PG declined should come back
 * and be sold again, but in a burst every other buyer may already have been turned away by then; so declines
 * explain a shortfall only when the stock probe shows their units back (or, without a probe, say so in a note).
 */
function undersold(tally: StockTally, mc: ManualConfirmTally, notes: string[]): Problem | null {
  const allowed = Math.min(tally.stock, tally.buyers);
  if (mc.confirmed >= allowed) return null;
  const shortfall = allowed - mc.confirmed;
  if (tally.interrupted || tally.missingShards.length > 0) {
    notes.push(`undersell not judged: ${mc.confirmed} confirmed of ${allowed}, but not every buyer was sent`);
    return null;
  }
  const declined = mc.statuses.failed;
  const probe = tally.probe;
  const unitsBack = probe === null ? null : probe.after + mc.confirmed >= probe.before;
  let explained = 0;
  if (declined > 0 && unitsBack !== false) {
    explained = Math.min(shortfall, declined);
    const how =
      unitsBack === true
        ? `the stock probe shows their units back (${probe!.before} → ${probe!.after})`
        : 'give --stock-url to check that their units came back';
    notes.push(
      `${plural(explained, 'unit')} of the ${shortfall} short went to ${plural(declined, 'payment')} the PG declined, after which no buyer took them; ${how}`,
    );
  }
  const count = shortfall - explained;
  if (count <= 0) return null;
  const declines = declined > 0 && unitsBack === false ? `; ${plural(declined, 'declined payment')} never gave ${declined === 1 ? 'its unit' : 'their units'} back (stock ${probe!.before} → ${probe!.after})` : '';
  return {
    kind: 'undersell',
    count,
    message: `${mc.confirmed} payments confirmed where ${allowed} should have been (${count} short): ${unconfirmedText(mc.unconfirmed, tally)}${declines}`,
    examples: mc.examples.unconfirmed.slice(0, EXAMPLES_PER_FINDING),
    causes: {
      refused: mc.unconfirmed.refused + mc.unconfirmed.toldPaid,
      serverErrors: mc.unconfirmed.serverErrors,
      timeouts: mc.unconfirmed.timeouts,
      connectionErrors: mc.unconfirmed.connectionErrors,
      notSent: mc.unconfirmed.notSent,
      aborted: mc.unconfirmed.aborted,
    },
  };
}

/** The stock probe against the confirmed payments: every confirmed payment takes one unit, nothing else does. */
function probeProblems(tally: StockTally, mc: ManualConfirmTally): Problem[] {
  const probe = tally.probe;
  if (probe === null) return [];
  const dropped = probe.before - probe.after;
  const change = `${probe.before} → ${probe.after}`;
  if (dropped > mc.confirmed) {
    const count = dropped - mc.confirmed;
    return [
      {
        kind: 'leak',
        count,
        message:
          `stock fell by ${dropped} (${change}) for ${plural(mc.confirmed, 'confirmed payment')}: ${plural(count, 'unit')} held without a payment ` +
          `(a declined confirm's unit not given back, a refused buyer's reservation kept, or a repeated completion taking stock again)`,
        examples: [...mc.examples.declined, ...mc.examples.unconfirmed].slice(0, EXAMPLES_PER_FINDING),
      },
    ];
  }
  if (dropped < mc.confirmed) {
    const count = mc.confirmed - dropped;
    return [
      {
        kind: 'stock-mismatch',
        count,
        message: `${plural(mc.confirmed, 'payment')} confirmed but stock fell only by ${dropped} (${change}): ${plural(count, 'confirmed order')} took no stock`,
        examples: mc.examples.confirmed.slice(0, EXAMPLES_PER_FINDING),
      },
    ];
  }
  return [];
}

/**
 * PASS only when exactly min(stock, buyers) payments are confirmed (declines allowing), every buyer told paid
 * was charged, every buyer charged was told paid, nothing was confirmed twice, and the merchant served well.
 */
export function judgeManualConfirm(tally: StockTally, mc: ManualConfirmTally, options: ManualConfirmJudgeOptions): Verdict {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const unknown = unknownOrdersProblem(tally);
  if (unknown) problems.push(unknown);
  // One shard's payments are a slice of the sale's: the counts against the stock wait for `merge`.
  const stockChecks = options.stockChecks ?? true;
  if (stockChecks && mc.confirmed > tally.stock) {
    const count = mc.confirmed - tally.stock;
    problems.push({
      kind: 'oversell',
      count,
      message: `${mc.confirmed} payments confirmed for ${tally.stock} in stock: ${plural(count, 'buyer')} charged for items that do not exist`,
      examples: mc.examples.confirmed.slice(0, EXAMPLES_PER_FINDING),
    });
  }
  const under = stockChecks ? undersold(tally, mc, notes) : null;
  if (under) problems.push(under);
  if (mc.chargedRefused > 0) {
    problems.push({
      kind: 'charged-refused',
      count: mc.chargedRefused,
      message:
        `${plural(mc.chargedRefused, 'buyer')} told no (an answer outside ${options.successStatus}) while the merchant had confirmed their payment ` +
        `and did not cancel it within the ${formatMs(options.settleMs)} settle: charged and told "sold out"`,
      examples: mc.examples.chargedRefused.slice(0, EXAMPLES_PER_FINDING),
    });
  }
  if (mc.toldPaidUnconfirmed > 0) {
    problems.push({
      kind: 'told-paid-unconfirmed',
      count: mc.toldPaidUnconfirmed,
      message:
        `${plural(mc.toldPaidUnconfirmed, 'buyer')} told paid (${options.successStatus}) whose payment the gateway never confirmed: ` +
        `they expect an order that was never charged (a refused or declined confirm answered as success)`,
      examples: mc.examples.toldPaidUnconfirmed.slice(0, EXAMPLES_PER_FINDING),
    });
  }
  if (mc.doubleConfirm > 0) {
    problems.push({
      kind: 'double-confirm',
      count: mc.doubleConfirm,
      message: `${plural(mc.doubleConfirm, 'payment')} of repeated completions confirmed twice, or cancelled after the buyer was told paid`,
      examples: mc.examples.doubleConfirm.slice(0, EXAMPLES_PER_FINDING),
    });
  }
  if (!stockChecks) {
    notes.push('stock checks (oversell, undersell, leak) need every shard: run `confirm-sim merge` on all shard reports');
  } else if (tally.probe === null) {
    notes.push('leak not checked: give --stock-url so the stock left after --settle can be set against the confirmed payments');
  } else {
    problems.push(...probeProblems(tally, mc));
  }
  if (mc.chargedUnanswered > 0) {
    notes.push(
      `${plural(mc.chargedUnanswered, 'buyer')} got no answer in time although the merchant confirmed their payment: charged while their page showed an error (see slow and errors)`,
    );
  }
  serviceFindings(tally, options, problems, notes);
  problems.push(...runProblems(tally));
  const pass = problems.length === 0;
  return { pass, summary: summary(pass, tally, mc, problems, stockChecks), problems, notes };
}

function summary(pass: boolean, tally: StockTally, mc: ManualConfirmTally, problems: Problem[], stockChecks: boolean): string {
  if (!pass) return `FAIL ${problems.map((problem) => `${problem.kind} (${problem.count})`).join(', ')}: ${problems[0]!.message}`;
  const p99 = tally.latencyP99Ms === null ? '' : `, p99 ${formatMs(tally.latencyP99Ms)}`;
  if (!stockChecks) {
    return `PASS (this shard only) ${mc.confirmed} confirmed for ${plural(tally.buyers, 'buyer')} (${mc.toldPaid} told paid)${p99}; merge all shards for the stock verdict`;
  }
  const probe = tally.probe ? `, stock ${tally.probe.before} → ${tally.probe.after}` : '';
  const declines = mc.statuses.failed > 0 ? `, ${mc.statuses.failed} declined by the PG` : '';
  return `PASS ${mc.confirmed} confirmed of ${tally.stock} in stock to ${plural(tally.buyers, 'buyer')} (${mc.toldPaid} told paid${declines})${probe}${p99}`;
}
