import { EXAMPLES_PER_FINDING } from '../oracle/stock-oracle.js';
import { emptyManualConfirmTally, type ManualConfirmTally } from '../oracle/manual-confirm.js';
import { Flag, Outcome, type OutcomeStore } from './outcomes.js';

/**
 * Sets every buyer's answers against the gateway's letter for its payment (one per buyer, in registration
 * order, which is the store's buyer order: each process, one shard's included, registers its own slice as
 * its own run at the gateway).
 * One pass over the typed arrays; only counts and a few order ids come out.
 */

/** The gateway's truth for a manual-confirm run, as read after --settle. */
export interface GatewayTruth {
  /** One letter per registered payment: R ready, P paid, F failed, C cancelled, X partly cancelled, D confirmed twice. */
  statuses: string;
  confirmCalls: number;
  confirmsSucceeded: number;
  confirmsRefused: Record<string, number>;
}

const P = 0x50;
const X = 0x58;
const D = 0x44;
const C = 0x43;
const F = 0x46;
/** The gateway's letter for a payment whose confirm the PG declined. */
export const DECLINED_LETTER = F;
const R = 0x52;

/** The gateway's letter for a payment in the words a ledger line uses. */
export const PAYMENT_STATE_NAMES = {
  R: 'ready',
  P: 'paid',
  F: 'failed',
  C: 'cancelled',
  X: 'partially-cancelled',
  D: 'confirmed-twice',
} as const;
export type PaymentStateName = (typeof PAYMENT_STATE_NAMES)[keyof typeof PAYMENT_STATE_NAMES];

/** The findings one buyer can count toward (the verdict's problem names); at most one per buyer. */
export type BuyerFinding = 'charged-refused' | 'charged-unanswered' | 'told-paid-unconfirmed' | 'double-confirm';

/** What the buyer heard (from both its posts when it sent twice), and the gateway's letter for its payment. */
interface BuyerView {
  letter: number;
  told: boolean;
  toldNo: boolean;
  twice: boolean;
}

/** The findings a buyer's answers and its payment's truth make (none when they agree), as the tally counts them. */
export function buyerFindings({ letter, told, toldNo, twice }: BuyerView): BuyerFinding[] {
  const findings: BuyerFinding[] = [];
  if (letter === P || letter === X || letter === D) {
    if (toldNo) findings.push('charged-refused');
    else if (!told) findings.push('charged-unanswered');
  } else if (told && letter !== C) {
    findings.push('told-paid-unconfirmed');
  }
  if (letter === D || (twice && told && letter === C)) findings.push('double-confirm');
  return findings;
}

/** Per buyer (its requests adjacent, the original first): what it was told, from the outcome arrays. */
export function buyerAnswers(store: OutcomeStore, first: number): { twice: boolean; told: boolean; toldNo: boolean } {
  const { arrays } = store;
  const twice = first + 1 < store.requests && (arrays.flags[first + 1]! & Flag.Duplicate) !== 0;
  const primary = arrays.outcome[first]!;
  const second = twice ? arrays.outcome[first + 1]! : Outcome.NotSent;
  const told = primary === Outcome.Accepted || second === Outcome.Accepted;
  const toldNo = !told && (primary === Outcome.Refused || second === Outcome.Refused);
  return { twice, told, toldNo };
}

function push(list: string[], uid: () => string): void {
  if (list.length < EXAMPLES_PER_FINDING) list.push(uid());
}

export function tallyManualConfirm(store: OutcomeStore, truth: GatewayTruth, uidOfBuyer: (buyer: number) => string): ManualConfirmTally {
  const tally = emptyManualConfirmTally();
  const { arrays } = store;
  const { statuses, unconfirmed, examples } = tally;
  const latestConfirmed: number[] = [];
  const line = truth.statuses;
  for (let request = 0, buyer = 0; request < store.requests; buyer++) {
    const first = request;
    const { twice, told, toldNo } = buyerAnswers(store, first);
    request += twice ? 2 : 1;
    const primary = arrays.outcome[first]!;
    // A payment missing from the line (registration cut short) was never confirmed.
    const letter = buyer < line.length ? line.charCodeAt(buyer) : R;
    const uid = (): string => uidOfBuyer(buyer);
    if (letter === P) statuses.paid++;
    else if (letter === X) statuses.partiallyCancelled++;
    else if (letter === D) statuses.doubleConfirmed++;
    else if (letter === C) statuses.cancelled++;
    else if (letter === F) {
      statuses.failed++;
      push(examples.declined, uid);
    } else statuses.ready++;
    if (told) tally.toldPaid++;
    if (letter === P || letter === X || letter === D) {
      tally.confirmed++;
      latestConfirmed.push(buyer);
      if (latestConfirmed.length > EXAMPLES_PER_FINDING) latestConfirmed.shift();
    }
    for (const finding of buyerFindings({ letter, told, toldNo, twice })) {
      if (finding === 'charged-refused') {
        tally.chargedRefused++;
        push(examples.chargedRefused, uid);
      } else if (finding === 'charged-unanswered') {
        tally.chargedUnanswered++;
        push(examples.chargedUnanswered, uid);
      } else if (finding === 'told-paid-unconfirmed') {
        tally.toldPaidUnconfirmed++;
        push(examples.toldPaidUnconfirmed, uid);
      } else {
        tally.doubleConfirm++;
        push(examples.doubleConfirm, uid);
      }
    }
    if (letter === R) {
      if (told) unconfirmed.toldPaid++;
      else {
        push(examples.unconfirmed, uid);
        if (primary === Outcome.Refused) {
          if (arrays.status[first]! >= 500) unconfirmed.serverErrors++;
          else unconfirmed.refused++;
        } else if (primary === Outcome.Timeout) unconfirmed.timeouts++;
        else if (primary === Outcome.ConnectionError) unconfirmed.connectionErrors++;
        else if (primary === Outcome.Aborted) unconfirmed.aborted++;
        else if (primary === Outcome.NotSent) unconfirmed.notSent++;
      }
    }
  }
  examples.confirmed = latestConfirmed.reverse().map(uidOfBuyer);
  tally.confirmCalls = truth.confirmCalls;
  tally.confirmsSucceeded = truth.confirmsSucceeded;
  tally.confirmsRefused = { ...truth.confirmsRefused };
  return tally;
}
