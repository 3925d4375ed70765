import { randomBytes, randomUUID } from 'node:crypto';
import { pooledRandom } from '../util/random.js';
import { MERCHANT_UID_MAX_LENGTH, newImpUid, newTransactionId, type Dialect } from '../protocol/index.js';
import { badRequest, businessRefusal, conflict, notFound } from './errors.js';

/**
 * The gateway's one store of payments, V1 and V2 alike. A record is API-neutral (ids, amounts, times in epoch
 * milliseconds, status, failure, cancellations): each REST API version renders its own view of it, so one
 * payment registered by a run is what both the V1 and the V2 routes show.
 */

export const API_VERSIONS = ['v1', 'v2'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

export const WEBHOOK_VERSIONS = ['2024-01-01', '2024-04-25'] as const;
/** The V2 webhook (and confirm body) version a merchant chose in the console. */
export type WebhookVersion = (typeof WEBHOOK_VERSIONS)[number];

/** Partial cancellation keeps `paid` with `cancelledAmount > 0`; V2 views show it as PARTIAL_CANCELLED. */
export type PaymentStatus = 'ready' | 'paid' | 'failed' | 'cancelled';

/**
 * Why a payment failed: the merchant's confirm answer was not 200 (`refused`) or did not come in time
 * (`no-answer`), the PG declined the charge after the merchant said yes (`declined`), or another payment of
 * the same V1 order was charged while this one waited (`superseded`).
 */
export type FailureKind = 'refused' | 'no-answer' | 'declined' | 'superseded';

export interface PaymentFailure {
  kind: FailureKind;
  /** V1 fail_reason, V2 failure.reason; null when the gateway records none. */
  reason: string | null;
  pgCode: string | null;
  pgMessage: string | null;
}

export interface PaymentCancellation {
  /** V1 cancellation_id, V2 cancellation id. */
  id: string;
  amount: number;
  reason: string;
  /** Epoch ms. */
  at: number;
  pgTxId: string;
  receiptUrl: string;
}

/** What a buyer typed and the merchant's page sent along; the same frozen empty object for batch payments. */
export interface PaymentDetails {
  name: string | null;
  payMethod: string;
  pgProvider: string;
  pgId: string | null;
  buyerName: string | null;
  buyerEmail: string | null;
  buyerTel: string | null;
  buyerAddr: string | null;
  buyerPostcode: string | null;
  customData: string | null;
  userAgent: string | null;
}

export const DEFAULT_PG_PROVIDER = 'html5_inicis';

export const DEFAULT_DETAILS: Readonly<PaymentDetails> = Object.freeze({
  name: null,
  payMethod: 'card',
  pgProvider: DEFAULT_PG_PROVIDER,
  pgId: null,
  buyerName: null,
  buyerEmail: null,
  buyerTel: null,
  buyerAddr: null,
  buyerPostcode: null,
  customData: null,
  userAgent: null,
});

export type TimelineEvent =
  | 'registered'
  | 'confirm-answered'
  | 'paid'
  | 'declined'
  | 'failed'
  | 'cancelled'
  | 'partially-cancelled'
  | 'webhook-attempt';

export interface TimelineEntry {
  /** Epoch ms. */
  at: number;
  event: TimelineEvent;
  /** One line: the answer's status, the fail reason, the webhook's outcome. */
  detail: string | null;
}

/**
 * Everything that happened to a payment, in order, read off the record (which keeps each fact once, as the
 * fields the REST APIs show, rather than a second log that would double its memory).
 */
export function timelineOf(record: PaymentRecord): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ at: record.requestedAt, event: 'registered', detail: null }];
  const answer = record.confirmAnswer;
  if (answer) entries.push({ at: answer.at, event: 'confirm-answered', detail: answer.status === null ? 'no answer in time' : `HTTP ${answer.status}` });
  if (record.confirmedAt !== null) entries.push({ at: record.confirmedAt, event: 'confirm-answered', detail: 'confirmed by the merchant (manual confirm)' });
  if (record.paidAt !== null) entries.push({ at: record.paidAt, event: 'paid', detail: record.pgTxId });
  if (record.failedAt !== null) {
    entries.push({ at: record.failedAt, event: record.failure?.kind === 'declined' ? 'declined' : 'failed', detail: record.failure?.reason ?? null });
  }
  let cancelled = 0;
  for (const cancellation of record.cancellations) {
    cancelled += cancellation.amount;
    const event = cancelled >= record.amount ? 'cancelled' : 'partially-cancelled';
    entries.push({ at: cancellation.at, event, detail: `${cancellation.amount} ${record.currency}${cancellation.reason ? `: ${cancellation.reason}` : ''}` });
  }
  for (const webhook of record.webhooks) {
    webhook.attempts.forEach((attempt, retry) => {
      entries.push({ at: attempt.at, event: 'webhook-attempt', detail: `${webhook.event}${retry === 0 ? '' : ` retry ${retry}`}: ${attempt.message}` });
    });
  }
  // Stable: facts of the same millisecond keep the order they happen in.
  return entries.sort((a, b) => a.at - b.at);
}

/** One try at delivering a webhook. */
export interface WebhookAttempt {
  /** Epoch ms when it was sent. */
  at: number;
  durationMs: number;
  /** The merchant's HTTP status, or null when no answer was read. */
  httpStatus: number | null;
  /** Why no HTTP answer was read, or `body-too-large` when the answer was cut off at the size limit. */
  error: string | null;
  /** One line: the status and the start of the answer, or why there was none. */
  message: string;
}

export type WebhookState = 'pending' | 'delivered' | 'unanswered';

/** One webhook the gateway owes the merchant, with every attempt made so far. */
export interface WebhookRecord {
  /** The `webhook-id` (V2) kept across retries, as Standard Webhooks says. */
  id: string;
  url: string;
  /** V1: the status sent; V2: the webhook type. */
  event: string;
  body: string;
  signed: boolean;
  state: WebhookState;
  attempts: WebhookAttempt[];
  /** Epoch ms of the next retry, null when none is due. */
  nextAttemptAt: number | null;
}

/** A payment plus everything the gateway knows about it. Mutated only by PaymentStore and the Gateway. */
export interface PaymentRecord {
  readonly api: ApiVersion;
  readonly dialect: Dialect;
  /** V1 imp_uid; null for V2 payments, which have no such id. */
  readonly impUid: string | null;
  /** V1 merchant_uid, V2 paymentId. */
  readonly orderId: string;
  /** The V2 transaction id (also sent in V1 records' confirm calls for uniformity, never shown by V1). */
  readonly transactionId: string;
  /** The run that registered it, or null for a one-off request_pay. */
  readonly run: string | null;
  readonly amount: number;
  readonly currency: string;
  readonly details: Readonly<PaymentDetails>;
  readonly noticeUrl: string | null;
  /** V2 only: the body shape of its webhooks. */
  readonly webhookVersion: WebhookVersion | null;
  /** Forces the PG's answer once the merchant says 200; null lets the gateway's decline rate decide. */
  readonly outcome: 'approve' | 'decline' | null;
  status: PaymentStatus;
  /** Epoch ms. */
  readonly requestedAt: number;
  updatedAt: number;
  statusChangedAt: number;
  paidAt: number | null;
  failedAt: number | null;
  cancelledAt: number | null;
  pgTxId: string | null;
  applyNum: string | null;
  failure: PaymentFailure | null;
  cancelledAmount: number;
  cancellations: PaymentCancellation[];
  /** The merchant's confirm answer as the gateway got it; null until answered (or when none was asked). */
  confirmAnswer: { at: number; status: number | null } | null;
  /** V2 manual confirm: when the merchant confirmed the payment itself. */
  confirmedAt: number | null;
  /** V2 manual confirm: the token the buyer's requestPayment returned and every confirm call made with it; null otherwise. */
  manualConfirm: ManualConfirmState | null;
  /** Its place among its run's payments in registration order (the run's status line); null outside a run. */
  readonly runIndex: number | null;
  webhooks: WebhookRecord[];
}

/**
 * What the gateway keeps of a manual-confirm payment: the payment token it minted (single use, bound to this
 * payment, valid until `tokenExpiresAt`) and a count of the merchant's confirm calls, so a replay or a double
 * confirm shows on the payment.
 */
export interface ManualConfirmState {
  readonly paymentToken: string;
  /** Epoch ms; a confirm at or after it is refused as INVALID_PAYMENT_TOKEN. */
  readonly tokenExpiresAt: number;
  /** Epoch ms of the confirm that spent the token (charged or declined); null while it is unused. */
  tokenUsedAt: number | null;
  /** Confirm calls naming this payment, whatever their answer. */
  calls: number;
  /** Confirm calls that charged it (more than 1 would be a gateway bug: the reserved status D). */
  confirmed: number;
}

/** An amount registered before the payment (V1 POST /payments/prepare, V2 pre-register), by order id. */
export interface PaymentPreparation {
  merchant_uid: string;
  amount: number;
  currency: string | null;
}

/** The lengths of the gateway's V1 payment columns (maxLength in its schema); longer input is refused. */
export const PAYMENT_FIELD_LIMITS = {
  merchant_uid: MERCHANT_UID_MAX_LENGTH,
  name: 40,
  pay_method: 20,
  pg_provider: 16,
  pg_id: 80,
  buyer_name: 16,
  buyer_email: 64,
  buyer_tel: 16,
  buyer_addr: 128,
  buyer_postcode: 8,
} as const;

/**
 * An opaque payment token, as the buyer's requestPayment returns in manual-confirm mode: 192 random bits, so
 * nobody guesses one, and a prefix that says what it is when one turns up in a merchant's log.
 */
export function newPaymentToken(): string {
  return `ptk_${pooledRandom(TOKEN_BYTES, 'base64url')}`;
}

const TOKEN_BYTES = 24;

/** V2 paymentId has no documented limit; this one keeps a hostile caller from filling memory with ids. */
export const PAYMENT_ID_MAX_LENGTH = 256;

/** What opens a payment; ids given by the caller are kept, missing ones are made fresh. */
export interface PaymentOpening {
  api: ApiVersion;
  dialect: Dialect;
  orderId: string;
  impUid?: string | undefined;
  transactionId?: string | undefined;
  run: string | null;
  amount: number;
  currency: string;
  details?: Readonly<PaymentDetails> | undefined;
  noticeUrl: string | null;
  webhookVersion: WebhookVersion | null;
  outcome: 'approve' | 'decline' | null;
  /** V2 manual confirm: mint a payment token valid until this epoch ms. */
  tokenExpiresAt?: number | undefined;
  runIndex?: number | undefined;
}

export interface CancelTarget {
  imp_uid?: string | undefined;
  merchant_uid?: string | undefined;
}

export interface CancelRequest {
  /** Omitted or 0 cancels what is left. */
  amount?: number | undefined;
  reason?: string | undefined;
  /** The amount the caller believes is still cancellable; a mismatch refuses the cancel. */
  checksum?: number | undefined;
}

export interface StoreOptions {
  receiptUrlFor: (record: PaymentRecord) => string;
  nowMs: () => number;
}

/** Payments, preparations and every state change the gateway makes to them, with O(1) lookups by every id. */
export class PaymentStore {
  /** Every record in the order it was opened. */
  readonly #records = new Set<PaymentRecord>();
  readonly #byImpUid = new Map<string, PaymentRecord>();
  /** V1: every payment of a merchant_uid, oldest first (an order may fail and be paid later). */
  readonly #v1ByOrder = new Map<string, PaymentRecord[]>();
  /** V1: the paid (or partly cancelled) payment of an order, which blocks paying it again. */
  readonly #v1Paid = new Map<string, PaymentRecord>();
  readonly #v2ById = new Map<string, PaymentRecord>();
  /** V2 manual confirm: which payment a token was minted for, so another payment's token is named as such. */
  readonly #byPaymentToken = new Map<string, PaymentRecord>();
  readonly #preparations = new Map<string, PaymentPreparation>();
  /** PG transaction ids are this gateway's prefix plus a sequence: unique, and cheap at 50,000 charges a second. */
  readonly #pgTxPrefix = `sim${randomBytes(6).toString('hex')}`;
  #charges = 0;

  constructor(private readonly options: StoreOptions) {}

  get size(): number {
    return this.#records.size;
  }

  all(): IterableIterator<PaymentRecord> {
    return this.#records.values();
  }

  receiptUrl(record: PaymentRecord): string {
    return this.options.receiptUrlFor(record);
  }

  byImpUid(impUid: string): PaymentRecord {
    const record = this.#byImpUid.get(impUid);
    if (!record) throw notFound(`no payment has imp_uid ${impUid}`);
    return record;
  }

  findByImpUid(impUid: string): PaymentRecord | undefined {
    return this.#byImpUid.get(impUid);
  }

  /** V1: the most recently started payment of the order, optionally in one status. */
  byMerchantUid(merchantUid: string, status?: string): PaymentRecord {
    const latest = this.findByMerchantUid(merchantUid, status);
    if (!latest) {
      throw notFound(`no payment has merchant_uid ${merchantUid}${status === undefined ? '' : ` with status ${status}`}`);
    }
    return latest;
  }

  findByMerchantUid(merchantUid: string, status?: string): PaymentRecord | undefined {
    const list = this.#v1ByOrder.get(merchantUid);
    if (!list) return undefined;
    for (let index = list.length - 1; index >= 0; index -= 1) {
      const record = list[index]!;
      if (status === undefined || record.status === status) return record;
    }
    return undefined;
  }

  /** V1: every payment of the order, oldest first. */
  paymentsOfMerchantUid(merchantUid: string): readonly PaymentRecord[] {
    return this.#v1ByOrder.get(merchantUid) ?? [];
  }

  /** V2: the payment with this paymentId. */
  byPaymentId(paymentId: string): PaymentRecord {
    const record = this.#v2ById.get(paymentId);
    if (!record) throw notFound(`no payment has paymentId ${paymentId}`);
    return record;
  }

  findByPaymentId(paymentId: string): PaymentRecord | undefined {
    return this.#v2ById.get(paymentId);
  }

  /** V2 manual confirm: the payment a token was minted for. */
  findByPaymentToken(paymentToken: string): PaymentRecord | undefined {
    return this.#byPaymentToken.get(paymentToken);
  }

  prepare(preparation: PaymentPreparation): PaymentPreparation {
    if (this.#preparations.has(preparation.merchant_uid)) {
      throw businessRefusal(
        `merchant_uid ${preparation.merchant_uid} is already prepared; change its amount with PUT /payments/prepare`,
      );
    }
    this.#preparations.set(preparation.merchant_uid, preparation);
    return preparation;
  }

  /** Sets or replaces a preparation (PUT /payments/prepare after a check, V2 pre-register). */
  setPreparation(preparation: PaymentPreparation): PaymentPreparation {
    this.#preparations.set(preparation.merchant_uid, preparation);
    return preparation;
  }

  editPreparation(preparation: PaymentPreparation): PaymentPreparation {
    this.preparation(preparation.merchant_uid);
    return this.setPreparation(preparation);
  }

  preparation(merchantUid: string): PaymentPreparation {
    const preparation = this.#preparations.get(merchantUid);
    if (!preparation) throw notFound(`merchant_uid ${merchantUid} has no prepared amount`);
    return preparation;
  }

  findPreparation(orderId: string): PaymentPreparation | undefined {
    return this.#preparations.get(orderId);
  }

  /**
   * Why the gateway would not open this payment, or null when it would: an id already taken, an order
   * already paid (V1) or already used (V2). Checks only; `open` inserts.
   */
  refusalOf(opening: PaymentOpening): string | null {
    if (opening.api === 'v1') {
      if (opening.impUid !== undefined && this.#byImpUid.has(opening.impUid)) return `imp_uid ${opening.impUid} is already registered`;
      const paid = this.#v1Paid.get(opening.orderId);
      if (paid) return `merchant_uid ${opening.orderId} is already paid (imp_uid ${paid.impUid}); an order cannot be paid twice`;
      return null;
    }
    if (this.#v2ById.has(opening.orderId)) return `paymentId ${opening.orderId} is already registered`;
    return null;
  }

  /** Refuses an order the gateway would not open a payment window for; a preparation binds amount and currency. */
  checkPreparation(orderId: string, amount: number, currency: string): void {
    const preparation = this.#preparations.get(orderId);
    if (preparation && preparation.amount !== amount) {
      throw conflict(`merchant_uid ${orderId} was prepared for amount ${preparation.amount}, not ${amount}; the payment is not started`);
    }
    if (preparation?.currency && preparation.currency !== currency) {
      throw conflict(`merchant_uid ${orderId} was prepared in ${preparation.currency}, not ${currency}; the payment is not started`);
    }
  }

  /** A `ready` payment, as the gateway records it when the buyer opens the payment window. Call refusalOf first. */
  open(opening: PaymentOpening): PaymentRecord {
    const now = this.options.nowMs();
    const impUid = opening.api === 'v1' ? (opening.impUid ?? this.#freshImpUid()) : null;
    const record: PaymentRecord = {
      api: opening.api,
      dialect: opening.dialect,
      impUid,
      orderId: opening.orderId,
      transactionId: opening.transactionId ?? newTransactionId(),
      run: opening.run,
      amount: opening.amount,
      currency: opening.currency,
      details: opening.details ?? DEFAULT_DETAILS,
      noticeUrl: opening.noticeUrl,
      webhookVersion: opening.webhookVersion,
      outcome: opening.outcome,
      status: 'ready',
      requestedAt: now,
      updatedAt: now,
      statusChangedAt: now,
      paidAt: null,
      failedAt: null,
      cancelledAt: null,
      pgTxId: null,
      applyNum: null,
      failure: null,
      cancelledAmount: 0,
      cancellations: [],
      confirmAnswer: null,
      confirmedAt: null,
      manualConfirm:
        opening.tokenExpiresAt === undefined
          ? null
          : { paymentToken: newPaymentToken(), tokenExpiresAt: opening.tokenExpiresAt, tokenUsedAt: null, calls: 0, confirmed: 0 },
      runIndex: opening.runIndex ?? null,
      webhooks: [],
    };
    this.#records.add(record);
    if (record.manualConfirm) this.#byPaymentToken.set(record.manualConfirm.paymentToken, record);
    if (impUid !== null) {
      this.#byImpUid.set(impUid, record);
      const list = this.#v1ByOrder.get(record.orderId);
      if (list) list.push(record);
      else this.#v1ByOrder.set(record.orderId, [record]);
    } else {
      this.#v2ById.set(record.orderId, record);
    }
    return record;
  }

  #freshImpUid(): string {
    let impUid = newImpUid();
    while (this.#byImpUid.has(impUid)) impUid = newImpUid();
    return impUid;
  }

  /**
   * Charges a `ready` payment and says whether it did. A V1 order is checked again because another payment of
   * it may have been charged while this one waited for the merchant's confirm answer; then this one fails.
   */
  charge(record: PaymentRecord): boolean {
    if (record.api === 'v1') {
      const paid = this.#v1Paid.get(record.orderId);
      if (paid && paid !== record) {
        this.fail(record, { kind: 'superseded', reason: `merchant_uid ${record.orderId} was paid meanwhile by ${paid.impUid}`, pgCode: null, pgMessage: null });
        return false;
      }
      this.#v1Paid.set(record.orderId, record);
    }
    const now = this.options.nowMs();
    record.status = 'paid';
    record.paidAt = now;
    record.updatedAt = now;
    record.statusChangedAt = now;
    this.#charges += 1;
    record.pgTxId = `${this.#pgTxPrefix}${this.#charges.toString(16).padStart(12, '0')}`;
    // An approval number looks random to the merchant (Knuth's multiplicative hash of the sequence).
    record.applyNum = ((Math.imul(this.#charges, 0x9e3779b1) >>> 0) % 100_000_000).toString().padStart(8, '0');
    return true;
  }

  fail(record: PaymentRecord, failure: PaymentFailure): void {
    const now = this.options.nowMs();
    record.status = 'failed';
    record.failedAt = now;
    record.updatedAt = now;
    record.statusChangedAt = now;
    record.failure = failure;
  }

  /** V1: the payment a cancel names; imp_uid wins when both ids are given, as the REST API documents. */
  cancelTarget(target: CancelTarget): PaymentRecord {
    if (target.imp_uid) return this.byImpUid(target.imp_uid);
    if (target.merchant_uid) return this.#v1Paid.get(target.merchant_uid) ?? this.byMerchantUid(target.merchant_uid);
    throw badRequest('give imp_uid or merchant_uid of the payment to cancel');
  }

  /** Cancels all or part of a paid payment. */
  cancel(record: PaymentRecord, request: CancelRequest): PaymentCancellation {
    const name = record.impUid ?? record.orderId;
    if (record.status === 'cancelled') throw businessRefusal(`payment ${name} is already fully cancelled`);
    if (record.status !== 'paid') {
      throw businessRefusal(`payment ${name} is ${record.status}, not paid; only a paid payment can be cancelled`);
    }
    const cancellable = record.amount - record.cancelledAmount;
    if (request.checksum !== undefined && request.checksum !== cancellable) {
      throw businessRefusal(`checksum ${request.checksum} does not match the cancellable amount ${cancellable}; the cancel was not made`);
    }
    const amount = request.amount === undefined || request.amount === 0 ? cancellable : request.amount;
    if (amount > cancellable) {
      throw businessRefusal(`cannot cancel ${amount}: only ${cancellable} of payment ${name} is left to cancel`);
    }
    const now = this.options.nowMs();
    const cancellation: PaymentCancellation = {
      id: randomUUID(),
      amount,
      reason: request.reason ?? '',
      at: now,
      pgTxId: record.pgTxId ?? '',
      receiptUrl: this.options.receiptUrlFor(record),
    };
    record.cancellations.push(cancellation);
    record.cancelledAmount += amount;
    record.cancelledAt = now;
    record.updatedAt = now;
    const full = record.cancelledAmount >= record.amount;
    if (full) {
      record.status = 'cancelled';
      record.statusChangedAt = now;
      if (record.api === 'v1' && this.#v1Paid.get(record.orderId) === record) this.#v1Paid.delete(record.orderId);
    }
    return cancellation;
  }

  /**
   * Forgets the oldest payments that `canForget` allows, until at most `keep` remain, and returns them.
   * Called a chunk at a time with a margin below the limit, so the scan past payments it may not forget
   * (a run still going) is paid once per chunk, not once per payment.
   */
  forgetOldest(keep: number, canForget: (record: PaymentRecord) => boolean): PaymentRecord[] {
    const forgotten: PaymentRecord[] = [];
    let excess = this.#records.size - keep;
    if (excess <= 0) return forgotten;
    for (const record of this.#records) {
      if (excess <= 0) break;
      if (!canForget(record)) continue;
      forgotten.push(record);
      excess -= 1;
    }
    for (const record of forgotten) this.#remove(record);
    // Preparations are tiny, but a merchant's loop of POST /payments/prepare must not grow them forever either.
    for (const orderId of this.#preparations.keys()) {
      if (this.#preparations.size <= keep) break;
      this.#preparations.delete(orderId);
    }
    return forgotten;
  }

  #remove(record: PaymentRecord): void {
    if (!this.#records.delete(record)) return;
    if (record.manualConfirm) this.#byPaymentToken.delete(record.manualConfirm.paymentToken);
    if (record.impUid !== null) {
      this.#byImpUid.delete(record.impUid);
      const list = this.#v1ByOrder.get(record.orderId);
      const index = list?.indexOf(record) ?? -1;
      if (list && index >= 0) list.splice(index, 1);
      if (list?.length === 0) this.#v1ByOrder.delete(record.orderId);
      if (this.#v1Paid.get(record.orderId) === record) this.#v1Paid.delete(record.orderId);
    } else if (this.#v2ById.get(record.orderId) === record) {
      this.#v2ById.delete(record.orderId);
    }
  }
}
