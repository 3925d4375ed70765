import { writeAtomically } from '../util/files.js';
import { decide } from '../protocol/decision.js';
import type { NoAnswerKind } from '../protocol/decision.js';
import type { BurstPlan } from './options.js';
import { Flag, OUTCOME_NAMES, Outcome, OutcomeStore, noAnswerKindOf } from './outcomes.js';
import { MerchantUidTemplate } from './schedule.js';
import { intendedArrival } from './summarize.js';
import type { SecretMask } from '../util/secrets.js';

/** One ledger line: everything the gateway knew about one request. */
export interface LedgerEntry {
  buyer: number;
  merchant_uid: string;
  duplicate: boolean;
  intendedMs: number;
  sentMs: number | null;
  outcome: (typeof OUTCOME_NAMES)[number];
  status: number | null;
  latencyMs: number | null;
  /** Why no answer was read (timeout, refused, reset, invalid-http, other). */
  error: string | null;
  /** The merchant's `reason` / `errorMessage`. */
  reason: string | null;
  /** What the gateway records on the failed payment. */
  failReason: string | null;
  /** Status of an answer that came after the timeout; 200 means a stranded payment. */
  lateStatus: number | null;
}

const LINES_PER_WRITE = 2000;

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * Writes the run's history, one NDJSON line per request in arrival order, a chunk of lines at a time so a
 * million-request ledger never sits in memory at once. The file appears complete or not at all: an
 * interrupted run's ledger covers what ran, and a kill during the write leaves the previous ledger.
 */
export async function writeLedger(path: string, plan: BurstPlan, store: OutcomeStore, secrets: SecretMask): Promise<void> {
  const { arrays } = store;
  const template = new MerchantUidTemplate(plan.merchantUidTemplate, plan.runId, plan.buyers);
  const arrival = intendedArrival(plan);
  // A reason is the merchant's text, which may echo a credential the run sent.
  const reasonFailures = store.reasons.map((reason) => {
    const failReason = decide(plan.dialect, { kind: 'http', status: reason.status, body: reason.body }).failReason;
    return failReason === null ? null : secrets.text(failReason);
  });
  const reasonDetails = store.reasons.map((reason) => (reason.detail === null ? null : secrets.text(reason.detail)));
  await writeAtomically(path, '--ledger', async (file) => {
    let chunk = '';
    for (let request = 0; request < store.requests; request++) {
      const buyer = store.globalBuyer(request);
      const outcome = arrays.outcome[request]! as (typeof Outcome)[keyof typeof Outcome];
      const flags = arrays.flags[request]!;
      const duplicate = (flags & Flag.Duplicate) !== 0;
      const sentAt = arrays.sentAtMs[request]!;
      const answered = outcome === Outcome.Accepted || outcome === Outcome.Refused;
      const measured = answered || outcome === Outcome.Timeout || outcome === Outcome.ConnectionError;
      let error: string | null = null;
      let failReason: string | null = null;
      let reason: string | null = null;
      if (outcome === Outcome.Refused) {
        const id = arrays.detail[request]!;
        reason = reasonDetails[id] ?? null;
        failReason = reasonFailures[id] ?? null;
      } else if (outcome === Outcome.Timeout || outcome === Outcome.ConnectionError) {
        const kind: NoAnswerKind = outcome === Outcome.Timeout ? 'timeout' : noAnswerKindOf(arrays.detail[request]!);
        error = kind;
        failReason = decide(plan.dialect, { kind: 'no-answer', error: kind, message: '' }).failReason;
      }
      const entry: LedgerEntry = {
        buyer: buyer + 1,
        merchant_uid: template.render(buyer),
        duplicate,
        intendedMs: round(arrival.atMs(buyer) + (duplicate ? arrival.schedule.intervalMs : 0)),
        sentMs: Number.isNaN(sentAt) ? null : round(sentAt),
        outcome: OUTCOME_NAMES[outcome],
        status: answered ? arrays.status[request]! : null,
        latencyMs: measured && !Number.isNaN(sentAt) ? round(arrays.latencyMs[request]!) : null,
        error,
        reason,
        failReason,
        lateStatus: (flags & Flag.LateAnswer) !== 0 ? arrays.status[request]! : null,
      };
      chunk += `${JSON.stringify(entry)}\n`;
      if ((request + 1) % LINES_PER_WRITE === 0) {
        await file.write(chunk);
        chunk = '';
      }
    }
    await file.write(chunk);
  });
}
