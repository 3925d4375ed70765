import { writeAtomically } from '../util/files.js';
import { decide } from '../protocol/decision.js';
import type { NoAnswerKind } from '../protocol/decision.js';
import type { BurstPlan } from './options.js';
import { Flag, OUTCOME_NAMES, Outcome, OutcomeStore, noAnswerKindOf } from './outcomes.js';
import { MerchantUidTemplate } from './schedule.js';
import { intendedArrival } from './summarize.js';
import type { SecretMask } from '../util/secrets.js';
import { PAYMENT_STATE_NAMES, buyerAnswers, buyerFindings, type BuyerFinding, type PaymentStateName } from './completion-tally.js';

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
  /**
   * manual-confirm only: the gateway's truth for this buyer's payment after --settle (ready = never confirmed),
   * or null when the gateway could not be asked (set-up interrupted). Both posts of a buyer carry the same.
   */
  payment?: PaymentStateName | null;
  /** manual-confirm only: the verdict's findings this buyer counts toward (empty when answer and truth agree). */
  findings?: BuyerFinding[];
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
export async function writeLedger(path: string, plan: BurstPlan, store: OutcomeStore, secrets: SecretMask, statuses: string | null = null): Promise<void> {
  const { arrays } = store;
  const template = new MerchantUidTemplate(plan.merchantUidTemplate, plan.runId, plan.buyers);
  const arrival = intendedArrival(plan);
  // A reason is the merchant's text, which may echo a credential the run sent.
  const reasonFailures = store.reasons.map((reason) => {
    const failReason = decide(plan.dialect, { kind: 'http', status: reason.status, body: reason.body }).failReason;
    return failReason === null ? null : secrets.text(failReason);
  });
  const reasonDetails = store.reasons.map((reason) => (reason.detail === null ? null : secrets.text(reason.detail)));
  // In manual confirm the merchant's answer decides nothing at the gateway: the gateway's letter says what happened.
  const manual = plan.completion !== null;
  let buyerIndex = -1;
  let truth: Pick<LedgerEntry, 'payment' | 'findings'> = {};
  await writeAtomically(path, '`ledgerPath`', async (file) => {
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
        failReason = manual ? null : (reasonFailures[id] ?? null);
      } else if (outcome === Outcome.Timeout || outcome === Outcome.ConnectionError) {
        const kind: NoAnswerKind = outcome === Outcome.Timeout ? 'timeout' : noAnswerKindOf(arrays.detail[request]!);
        error = kind;
        failReason = manual ? null : decide(plan.dialect, { kind: 'no-answer', error: kind, message: '' }).failReason;
      }
      if (manual && !duplicate) {
        buyerIndex++;
        if (statuses === null) truth = { payment: null, findings: [] };
        else {
          // A payment missing from the line (registration cut short) was never confirmed.
          const letter = buyerIndex < statuses.length ? statuses.charCodeAt(buyerIndex) : 0x52;
          const name = PAYMENT_STATE_NAMES[String.fromCharCode(letter) as keyof typeof PAYMENT_STATE_NAMES] ?? 'ready';
          truth = { payment: name, findings: buyerFindings({ letter, ...buyerAnswers(store, request) }) };
        }
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
        ...truth,
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
