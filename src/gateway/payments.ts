import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { MERCHANT_UID_MAX_LENGTH, newImpUid, newTransactionId, type Dialect } from '../protocol/index.js';
import { badRequest, businessRefusal, conflict, notFound } from './errors.js';

export type PaymentStatus = 'ready' | 'paid' | 'failed' | 'cancelled';

/** One entry of a payment's cancel_history. */
export interface PaymentCancellation {
  pg_tid: string;
  amount: number;
  cancelled_at: number;
  reason: string;
  cancellation_id: string;
  receipt_url: string;
}

/**
 * A payment as the V1 REST API returns it: every field of the gateway's payment object, in its order. Times
 * are unix seconds and 0 until they happen; what does not apply to a simulated card payment is null.
 */
export interface GatewayPayment {
  imp_uid: string;
  merchant_uid: string;
  pay_method: string;
  channel: string;
  pg_provider: string;
  emb_pg_provider: string | null;
  pg_tid: string | null;
  pg_id: string | null;
  sandbox: boolean;
  escrow: boolean;
  apply_num: string | null;
  bank_code: string | null;
  bank_name: string | null;
  card_code: string | null;
  card_name: string | null;
  card_issuer_code: string | null;
  card_issuer_name: string | null;
  card_publisher_code: string | null;
  card_publisher_name: string | null;
  card_quota: number;
  card_number: string | null;
  card_type: number | null;
  vbank_code: string | null;
  vbank_name: string | null;
  vbank_num: string | null;
  vbank_holder: string | null;
  vbank_date: number;
  vbank_issued_at: number;
  name: string | null;
  amount: number;
  cancel_amount: number;
  currency: string;
  buyer_name: string | null;
  buyer_email: string | null;
  buyer_tel: string | null;
  buyer_addr: string | null;
  buyer_postcode: string | null;
  custom_data: string | null;
  user_agent: string | null;
  status: PaymentStatus;
  started_at: number;
  paid_at: number;
  failed_at: number;
  cancelled_at: number;
  fail_reason: string | null;
  cancel_reason: string | null;
  receipt_url: string | null;
  cancel_history: PaymentCancellation[];
  deposit_history: never[];
  cancel_receipt_urls: string[];
  cash_receipt_issued: boolean;
  customer_uid: string | null;
  customer_uid_usage: string | null;
  promotion: null;
}

/** An amount registered with POST /payments/prepare. */
export interface PaymentPreparation {
  merchant_uid: string;
  amount: number;
  currency: string | null;
}

/** The lengths of the gateway's payment columns (maxLength in its schema); longer input is refused. */
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

/** What IMP.request_pay hands the gateway, already checked. */
export type PaymentDraft = Pick<
  GatewayPayment,
  | 'merchant_uid'
  | 'amount'
  | 'currency'
  | 'name'
  | 'pay_method'
  | 'pg_provider'
  | 'pg_id'
  | 'buyer_name'
  | 'buyer_email'
  | 'buyer_tel'
  | 'buyer_addr'
  | 'buyer_postcode'
  | 'custom_data'
  | 'user_agent'
> & { dialect: Dialect; notice_url: string | null };

/** A payment plus what only the gateway knows about it. */
export interface PaymentRecord {
  payment: GatewayPayment;
  dialect: Dialect;
  /** The V2 transaction id sent in the confirm call and the V2 webhooks. */
  transactionId: string;
  noticeUrl: string | null;
}

export interface CancelTarget {
  imp_uid?: string | undefined;
  merchant_uid?: string | undefined;
}

export interface CancelRequest extends CancelTarget {
  /** Omitted or 0 cancels what is left. */
  amount?: number | undefined;
  reason?: string | undefined;
  /** The amount the caller believes is still cancellable; a mismatch refuses the cancel. */
  checksum?: number | undefined;
}

export interface CancelOutcome {
  record: PaymentRecord;
  cancellation: PaymentCancellation;
}

/** Payments, preparations and every state change the gateway makes to them. */
export class PaymentLedger {
  readonly #records = new Map<string, PaymentRecord>();
  readonly #preparations = new Map<string, PaymentPreparation>();

  constructor(
    private readonly receiptUrlFor: (impUid: string) => string,
    private readonly nowSeconds: () => number,
  ) {}

  all(): PaymentRecord[] {
    return [...this.#records.values()];
  }

  byImpUid(impUid: string): PaymentRecord {
    const record = this.#records.get(impUid);
    if (!record) throw notFound(`no payment has imp_uid ${impUid}`);
    return record;
  }

  /** The most recently started payment for the order, optionally in one status. */
  byMerchantUid(merchantUid: string, status?: string): PaymentRecord {
    const matches = this.all().filter(
      (record) => record.payment.merchant_uid === merchantUid && (status === undefined || record.payment.status === status),
    );
    const latest = matches.at(-1);
    if (!latest) {
      throw notFound(`no payment has merchant_uid ${merchantUid}${status === undefined ? '' : ` with status ${status}`}`);
    }
    return latest;
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

  editPreparation(preparation: PaymentPreparation): PaymentPreparation {
    this.preparation(preparation.merchant_uid);
    this.#preparations.set(preparation.merchant_uid, preparation);
    return preparation;
  }

  preparation(merchantUid: string): PaymentPreparation {
    const preparation = this.#preparations.get(merchantUid);
    if (!preparation) throw notFound(`merchant_uid ${merchantUid} has no prepared amount`);
    return preparation;
  }

  #paidPaymentOf(merchantUid: string): PaymentRecord | undefined {
    return this.all().find((record) => record.payment.merchant_uid === merchantUid && record.payment.status === 'paid');
  }

  /** Refuses an order the gateway would not open a payment window for; a preparation binds amount and currency. */
  #checkPayable(draft: PaymentDraft): void {
    const preparation = this.#preparations.get(draft.merchant_uid);
    if (preparation && preparation.amount !== draft.amount) {
      throw conflict(
        `merchant_uid ${draft.merchant_uid} was prepared for amount ${preparation.amount}, not ${draft.amount}; the payment is not started`,
      );
    }
    if (preparation?.currency && preparation.currency !== draft.currency) {
      throw conflict(
        `merchant_uid ${draft.merchant_uid} was prepared in ${preparation.currency}, not ${draft.currency}; the payment is not started`,
      );
    }
    const paid = this.#paidPaymentOf(draft.merchant_uid);
    if (paid) {
      throw conflict(
        `merchant_uid ${draft.merchant_uid} is already paid (imp_uid ${paid.payment.imp_uid}); an order cannot be paid twice`,
      );
    }
  }

  /** A `ready` payment, as the gateway records it when the buyer opens the payment window. */
  open(draft: PaymentDraft): PaymentRecord {
    this.#checkPayable(draft);
    const payment: GatewayPayment = {
      imp_uid: this.#freshImpUid(),
      merchant_uid: draft.merchant_uid,
      pay_method: draft.pay_method,
      channel: 'pc',
      pg_provider: draft.pg_provider,
      emb_pg_provider: null,
      pg_tid: null,
      pg_id: draft.pg_id,
      // A simulated channel stands in for a live one: the REST API hides sandbox payments from lookups.
      sandbox: false,
      escrow: false,
      apply_num: null,
      bank_code: null,
      bank_name: null,
      card_code: null,
      card_name: null,
      card_issuer_code: null,
      card_issuer_name: null,
      card_publisher_code: null,
      card_publisher_name: null,
      card_quota: 0,
      card_number: null,
      card_type: null,
      vbank_code: null,
      vbank_name: null,
      vbank_num: null,
      vbank_holder: null,
      vbank_date: 0,
      vbank_issued_at: 0,
      name: draft.name,
      amount: draft.amount,
      cancel_amount: 0,
      currency: draft.currency,
      buyer_name: draft.buyer_name,
      buyer_email: draft.buyer_email,
      buyer_tel: draft.buyer_tel,
      buyer_addr: draft.buyer_addr,
      buyer_postcode: draft.buyer_postcode,
      custom_data: draft.custom_data,
      user_agent: draft.user_agent,
      status: 'ready',
      started_at: this.nowSeconds(),
      paid_at: 0,
      failed_at: 0,
      cancelled_at: 0,
      fail_reason: null,
      cancel_reason: null,
      receipt_url: null,
      cancel_history: [],
      deposit_history: [],
      cancel_receipt_urls: [],
      cash_receipt_issued: false,
      customer_uid: null,
      customer_uid_usage: null,
      promotion: null,
    };
    const record: PaymentRecord = {
      payment,
      dialect: draft.dialect,
      transactionId: newTransactionId(),
      noticeUrl: draft.notice_url,
    };
    this.#records.set(payment.imp_uid, record);
    return record;
  }

  #freshImpUid(): string {
    let impUid = newImpUid();
    while (this.#records.has(impUid)) impUid = newImpUid();
    return impUid;
  }

  /**
   * Charges a `ready` payment and says whether it did. The order is checked again because another payment
   * for it may have been charged while this one waited for the merchant's confirm answer; then this one fails.
   */
  charge(record: PaymentRecord): boolean {
    const paid = this.#paidPaymentOf(record.payment.merchant_uid);
    if (paid) {
      this.fail(record, `merchant_uid ${record.payment.merchant_uid} was paid meanwhile by ${paid.payment.imp_uid}`);
      return false;
    }
    const { payment } = record;
    payment.status = 'paid';
    payment.paid_at = this.nowSeconds();
    payment.pg_tid = `sim${randomBytes(12).toString('hex')}`;
    payment.apply_num = randomInt(0, 100_000_000).toString().padStart(8, '0');
    payment.receipt_url = this.receiptUrlFor(payment.imp_uid);
    return true;
  }

  fail(record: PaymentRecord, reason: string | null): void {
    record.payment.status = 'failed';
    record.payment.failed_at = this.nowSeconds();
    record.payment.fail_reason = reason;
  }

  /** Cancels all or part of a paid payment; imp_uid wins when both ids are given, as the REST API documents. */
  cancel(request: CancelRequest): CancelOutcome {
    const record = request.imp_uid
      ? this.byImpUid(request.imp_uid)
      : request.merchant_uid
        ? (this.#paidPaymentOf(request.merchant_uid) ?? this.byMerchantUid(request.merchant_uid))
        : undefined;
    if (!record) throw badRequest('give imp_uid or merchant_uid of the payment to cancel');
    const { payment } = record;
    if (payment.status === 'cancelled') throw businessRefusal(`payment ${payment.imp_uid} is already fully cancelled`);
    if (payment.status !== 'paid') {
      throw businessRefusal(`payment ${payment.imp_uid} is ${payment.status}, not paid; only a paid payment can be cancelled`);
    }
    const cancellable = payment.amount - payment.cancel_amount;
    if (request.checksum !== undefined && request.checksum !== cancellable) {
      throw businessRefusal(
        `checksum ${request.checksum} does not match the cancellable amount ${cancellable}; the cancel was not made`,
      );
    }
    const amount = request.amount === undefined || request.amount === 0 ? cancellable : request.amount;
    if (amount > cancellable) {
      throw businessRefusal(`cannot cancel ${amount}: only ${cancellable} of payment ${payment.imp_uid} is left to cancel`);
    }
    const now = this.nowSeconds();
    const receiptUrl = this.receiptUrlFor(payment.imp_uid);
    const cancellation: PaymentCancellation = {
      pg_tid: payment.pg_tid ?? '',
      amount,
      cancelled_at: now,
      reason: request.reason ?? '',
      cancellation_id: randomUUID(),
      receipt_url: receiptUrl,
    };
    payment.cancel_history.push(cancellation);
    payment.cancel_receipt_urls.push(receiptUrl);
    payment.cancel_amount += amount;
    payment.cancelled_at = now;
    payment.cancel_reason = request.reason ?? payment.cancel_reason;
    if (payment.cancel_amount >= payment.amount) payment.status = 'cancelled';
    return { record, cancellation };
  }
}
