import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { UsageError } from '../util/errors.js';
import { newLatencyHistogram, emptyBuckets, recordLatency, summarizeLatency } from './latency.js';
import { OUTCOME_NAMES } from './outcomes.js';
import { TimelineBuilder } from './timeline.js';
import type { TimelineOutcome } from './timeline.js';
import type { LedgerEntry } from './ledger.js';
import { PAYMENT_STATE_NAMES, type BuyerFinding, type PaymentStateName } from './completion-tally.js';
import { EXAMPLES_PER_FINDING } from '../oracle/stock-oracle.js';
import type { BurstTimeline, LatencySummary } from './report.js';

export const LEDGER_SUMMARY_KIND = 'confirm-sim.ledger';

/**
 * What a `--ledger` file says on its own, aggregated as the burst report is (the same timeline, the same
 * latency histogram), for `confirm-sim report run.ndjson`. A ledger holds requests, not the run's settings,
 * so there is no verdict here; `stock` is what the reader was told, if anything.
 */
export interface LedgerSummary {
  kind: typeof LEDGER_SUMMARY_KIND;
  /** The file read, as given. */
  source: string;
  requests: number;
  /** Distinct buyers. */
  buyers: number;
  duplicates: number;
  /** Requests per outcome (accepted, refused, timeout, connection-error, not-sent, aborted). */
  outcomes: Record<string, number>;
  /** Distinct buyers with a 200 in time. */
  acceptedBuyers: number;
  statusCodes: Record<string, number>;
  errorKinds: Record<string, number>;
  /** Late 200s: the merchant kept stock for a payment the gateway failed. */
  stranded: number;
  refusalReasons: Array<{ status: number; detail: string | null; failReason: string | null; count: number; examples: string[] }>;
  latencyMs: LatencySummary;
  /** Paced (--ramp/--rate) when intended send times differ; latency then counts from the intended time. */
  paced: boolean;
  /** The run's start to the last outcome, ms. */
  durationMs: number;
  stock: number | null;
  timeline: BurstTimeline;
  /** A manual-confirm run's ledger (its lines carry `payment`): what the gateway held for each buyer; null otherwise. */
  manualConfirm: LedgerManualConfirm | null;
}

/** Per buyer (a buyer's two posts carry the same truth), from the ledger's `payment` and `findings`. */
export interface LedgerManualConfirm {
  /** Buyers per payment state after the settle; `unknown` when the gateway could not be asked. */
  payments: Record<PaymentStateName | 'unknown', number>;
  /** Charged and not fully cancelled: paid, partially-cancelled, confirmed-twice. */
  confirmed: number;
  /** Per finding: how many buyers count toward it, and a few of their merchant_uids. */
  findings: Record<BuyerFinding, { count: number; examples: string[] }>;
  examples: { confirmed: string[]; declined: string[] };
}

const PAYMENT_NAMES: readonly string[] = Object.values(PAYMENT_STATE_NAMES);
const CONFIRMED_STATES: readonly string[] = [PAYMENT_STATE_NAMES.P, PAYMENT_STATE_NAMES.X, PAYMENT_STATE_NAMES.D];
const BUYER_FINDINGS: readonly BuyerFinding[] = ['charged-refused', 'charged-unanswered', 'told-paid-unconfirmed', 'double-confirm'];

function emptyLedgerManualConfirm(): LedgerManualConfirm {
  const payments = Object.fromEntries([...PAYMENT_NAMES, 'unknown'].map((name) => [name, 0])) as LedgerManualConfirm['payments'];
  const findings = Object.fromEntries(BUYER_FINDINGS.map((finding) => [finding, { count: 0, examples: [] }])) as unknown as LedgerManualConfirm['findings'];
  return { payments, confirmed: 0, findings, examples: { confirmed: [], declined: [] } };
}

function addExample(list: string[], uid: unknown): void {
  if (list.length < EXAMPLES_PER_FINDING && typeof uid === 'string') list.push(uid);
}

function countTruth(tally: LedgerManualConfirm, entry: LedgerEntry): void {
  const payment = entry.payment ?? 'unknown';
  tally.payments[payment]++;
  if (CONFIRMED_STATES.includes(payment)) {
    tally.confirmed++;
    addExample(tally.examples.confirmed, entry.merchant_uid);
  }
  if (payment === PAYMENT_STATE_NAMES.F) addExample(tally.examples.declined, entry.merchant_uid);
  for (const finding of entry.findings ?? []) {
    tally.findings[finding].count++;
    addExample(tally.findings[finding].examples, entry.merchant_uid);
  }
}

/** Distinct refusal reasons kept, as the load engine keeps them: a merchant can write the buyer into every one. */
const MAX_REASONS = 1000;
const OUTCOME_CODES = new Map<string, number>(OUTCOME_NAMES.map((name, code) => [name, code]));

/** Per-request columns, grown as lines arrive: a million-line ledger costs ~17 MB, not a million objects. */
class Columns {
  length = 0;
  outcome = new Uint8Array(1024);
  status = new Uint16Array(1024);
  error = new Uint8Array(1024);
  sentMs = new Float32Array(1024);
  intendedMs = new Float32Array(1024);
  latencyMs = new Float32Array(1024);

  push(outcome: number, status: number, error: number, sentMs: number, intendedMs: number, latencyMs: number): void {
    if (this.length === this.outcome.length) this.#grow();
    const at = this.length++;
    this.outcome[at] = outcome;
    this.status[at] = status;
    this.error[at] = error;
    this.sentMs[at] = sentMs;
    this.intendedMs[at] = intendedMs;
    this.latencyMs[at] = latencyMs;
  }

  #grow(): void {
    const size = this.outcome.length * 2;
    const grow = <T extends Uint8Array | Uint16Array | Float32Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.outcome = grow(this.outcome, (n) => new Uint8Array(n));
    this.status = grow(this.status, (n) => new Uint16Array(n));
    this.error = grow(this.error, (n) => new Uint8Array(n));
    this.sentMs = grow(this.sentMs, (n) => new Float32Array(n));
    this.intendedMs = grow(this.intendedMs, (n) => new Float32Array(n));
    this.latencyMs = grow(this.latencyMs, (n) => new Float32Array(n));
  }
}

function isNumberOrNull(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Number.isFinite(value));
}

/** Checks the fields this reader needs; returns what is wrong, or null. */
function lineProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const entry = value as Partial<LedgerEntry>;
  if (typeof entry.buyer !== 'number' || !Number.isInteger(entry.buyer) || entry.buyer < 1) return '"buyer" is not a buyer number';
  if (typeof entry.outcome !== 'string' || !OUTCOME_CODES.has(entry.outcome)) return `"outcome" is not one of ${OUTCOME_NAMES.join(', ')}`;
  if (typeof entry.intendedMs !== 'number') return '"intendedMs" is missing';
  if (!isNumberOrNull(entry.sentMs) || !isNumberOrNull(entry.status) || !isNumberOrNull(entry.latencyMs)) return 'sentMs, status or latencyMs is not a number or null';
  if (entry.payment !== undefined && entry.payment !== null && !PAYMENT_NAMES.includes(entry.payment)) return `"payment" is not one of ${PAYMENT_NAMES.join(', ')}`;
  if (entry.findings !== undefined && !(Array.isArray(entry.findings) && entry.findings.every((finding) => BUYER_FINDINGS.includes(finding)))) {
    return `"findings" is not a list of ${BUYER_FINDINGS.join(', ')}`;
  }
  return null;
}

/**
 * Reads a `burst --ledger` file line by line (streaming: a million lines never sit in memory as objects)
 * and aggregates it into buckets. A file that is not a ledger is refused in one line naming the first bad line.
 */
export async function readLedger(path: string, options: { stock?: number | undefined } = {}): Promise<LedgerSummary> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('ready', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new UsageError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); give a file written by burst --ledger FILE`);
  }
  const columns = new Columns();
  const errorNames: string[] = [];
  const reasons = new Map<string, LedgerSummary['refusalReasons'][number]>();
  const statusCodes: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  let acceptedBuyers = new Uint8Array(1024);
  let buyers = 0;
  let duplicates = 0;
  let stranded = 0;
  let manualConfirm: LedgerManualConfirm | null = null;
  let lineNumber = 0;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new UsageError(`${path}:${lineNumber}: is not JSON; give a file written by burst --ledger FILE (or a --json report)`);
      }
      const problem = lineProblem(value);
      if (problem !== null) throw new UsageError(`${path}:${lineNumber}: is not a ledger line (${problem}); give a file written by burst --ledger FILE`);
      const entry = value as LedgerEntry;
      const outcome = OUTCOME_CODES.get(entry.outcome)!;
      outcomes[entry.outcome] = (outcomes[entry.outcome] ?? 0) + 1;
      if (entry.duplicate === true) duplicates++;
      else {
        buyers++;
        if (entry.payment !== undefined) countTruth((manualConfirm ??= emptyLedgerManualConfirm()), entry);
      }
      if (entry.status !== null && (entry.outcome === 'accepted' || entry.outcome === 'refused')) {
        statusCodes[entry.status] = (statusCodes[entry.status] ?? 0) + 1;
      }
      if (entry.outcome === 'accepted') {
        while (entry.buyer >= acceptedBuyers.length) {
          const grown = new Uint8Array(acceptedBuyers.length * 2);
          grown.set(acceptedBuyers);
          acceptedBuyers = grown;
        }
        acceptedBuyers[entry.buyer] = 1;
      }
      let error = 0;
      if (entry.outcome === 'timeout' || entry.outcome === 'connection-error') {
        const kind = typeof entry.error === 'string' ? entry.error : entry.outcome === 'timeout' ? 'timeout' : 'other';
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
        error = errorNames.indexOf(kind);
        if (error < 0) error = errorNames.push(kind) - 1;
      }
      if (entry.outcome === 'refused' && entry.status !== null) {
        const key = `${entry.status} ${entry.reason ?? ''}`;
        let reason = reasons.get(key);
        if (!reason && reasons.size < MAX_REASONS) {
          reason = { status: entry.status, detail: entry.reason ?? null, failReason: entry.failReason ?? null, count: 0, examples: [] };
          reasons.set(key, reason);
        }
        if (reason) {
          reason.count++;
          if (reason.examples.length < 3 && typeof entry.merchant_uid === 'string') reason.examples.push(entry.merchant_uid);
        }
      }
      if (entry.lateStatus === 200) stranded++;
      columns.push(outcome, entry.status ?? 0, error, entry.sentMs ?? Number.NaN, entry.intendedMs, entry.latencyMs ?? Number.NaN);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); give a file written by burst --ledger FILE`);
  } finally {
    lines.close();
    stream.destroy();
  }
  if (columns.length === 0) throw new UsageError(`${path}: holds no ledger lines; give a file written by burst --ledger FILE`);
  return aggregate(path, columns, errorNames, {
    buyers,
    duplicates,
    outcomes,
    acceptedBuyers: acceptedBuyers.reduce((sum, flag) => sum + flag, 0),
    statusCodes,
    errorKinds,
    stranded,
    refusalReasons: [...reasons.values()].sort((a, b) => b.count - a.count),
    stock: options.stock ?? null,
    manualConfirm,
  });
}

type Counted = Pick<
  LedgerSummary,
  'buyers' | 'duplicates' | 'outcomes' | 'acceptedBuyers' | 'statusCodes' | 'errorKinds' | 'stranded' | 'refusalReasons' | 'stock' | 'manualConfirm'
>;

const ACCEPTED = OUTCOME_CODES.get('accepted')!;
const REFUSED = OUTCOME_CODES.get('refused')!;
const TIMEOUT = OUTCOME_CODES.get('timeout')!;
const CONNECTION_ERROR = OUTCOME_CODES.get('connection-error')!;

function aggregate(source: string, columns: Columns, errorNames: string[], counted: Counted): LedgerSummary {
  let paced = false;
  for (let i = 0; i < columns.length && !paced; i++) paced = columns.intendedMs[i] !== 0;
  // As the engine measured: paced latency runs from the intended send time when the request left late.
  const outcomeAt = (i: number): number => {
    const sent = columns.sentMs[i]!;
    if (Number.isNaN(sent)) return Number.NaN;
    return (paced ? Math.min(sent, columns.intendedMs[i]!) : sent) + (Number.isNaN(columns.latencyMs[i]!) ? 0 : columns.latencyMs[i]!);
  };
  let lastEvent = 0;
  for (let i = 0; i < columns.length; i++) {
    const at = outcomeAt(i);
    if (at > lastEvent) lastEvent = at;
  }
  const histogram = newLatencyHistogram();
  const buckets = emptyBuckets();
  const timeline = new TimelineBuilder(Math.max(1, lastEvent), counted.stock ?? 0, columns.length);
  for (let i = 0; i < columns.length; i++) {
    const outcome = columns.outcome[i]!;
    const sent = columns.sentMs[i]!;
    if (!Number.isNaN(sent)) timeline.sent(sent);
    const latency = columns.latencyMs[i]!;
    const at = outcomeAt(i);
    let kind: TimelineOutcome | null = null;
    if (outcome === ACCEPTED) kind = 'accepted';
    else if (outcome === REFUSED) kind = 'refused';
    else if (outcome === TIMEOUT) kind = 'timeout';
    else if (outcome === CONNECTION_ERROR) kind = 'error';
    if (kind === null) continue;
    if (kind !== 'error' && !Number.isNaN(latency)) recordLatency(histogram, buckets, latency);
    timeline.settled(kind, Number.isNaN(at) ? 0 : at, {
      status: kind === 'accepted' || kind === 'refused' ? columns.status[i]! : undefined,
      errorKind: kind === 'error' ? errorNames[columns.error[i]!] : undefined,
      latencyMs: kind === 'error' || Number.isNaN(latency) ? undefined : latency,
    });
  }
  return {
    kind: LEDGER_SUMMARY_KIND,
    source,
    requests: columns.length,
    ...counted,
    latencyMs: summarizeLatency(histogram, buckets),
    paced,
    durationMs: lastEvent,
    timeline: timeline.finish(),
  };
}
