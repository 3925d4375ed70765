import { simulatedBank, simulatedVirtualAccount } from '../bank.js';
import { simulatedCard } from '../card.js';
import type { PaymentPreparation, PaymentRecord, PaymentStatus } from '../payments.js';

/**
 * A V1 payment as the REST API returns it, fields in the order of the gateway's payment object. Times are
 * unix seconds and 0 until they happen. The V1 OpenAPI file types each field and says which ones are shown as
 * null (fail_reason, cancel_reason, card_type, customer_uid_usage); every other field without a value is left
 * out instead of sent as null, so a client typed from the file never meets a value it does not expect.
 */
export interface GatewayPayment {
  imp_uid: string;
  merchant_uid: string;
  pay_method: string;
  channel: 'pc' | 'mobile' | 'api';
  pg_provider: string;
  pg_tid?: string;
  pg_id?: string;
  sandbox: boolean;
  escrow: boolean;
  apply_num?: string;
  bank_code?: string;
  bank_name?: string;
  card_code?: string;
  card_name?: string;
  card_issuer_code?: string;
  card_issuer_name?: string;
  card_publisher_code?: string;
  card_publisher_name?: string;
  card_quota: number;
  card_number?: string;
  card_type: 0 | 1 | null;
  vbank_code?: string;
  vbank_name?: string;
  vbank_num?: string;
  vbank_holder?: string;
  vbank_date: number;
  vbank_issued_at: number;
  name?: string;
  amount: number;
  cancel_amount: number;
  currency: string;
  buyer_name?: string;
  buyer_email?: string;
  buyer_tel?: string;
  buyer_addr?: string;
  buyer_postcode?: string;
  custom_data?: string;
  user_agent?: string;
  status: PaymentStatus;
  started_at: number;
  paid_at: number;
  failed_at: number;
  cancelled_at: number;
  fail_reason: string | null;
  cancel_reason: string | null;
  receipt_url?: string;
  cancel_history: V1Cancellation[];
  deposit_history: never[];
  cancel_receipt_urls: string[];
  cash_receipt_issued: boolean;
  customer_uid_usage: string | null;
}

/** One entry of a V1 payment's cancel_history. */
export interface V1Cancellation {
  pg_tid: string;
  amount: number;
  cancelled_at: number;
  reason: string;
  cancellation_id: string;
  receipt_url: string;
}

const seconds = (ms: number | null): number => (ms === null ? 0 : Math.floor(ms / 1000));

/** Drops the fields an object has no value for, keeping the order of the rest. */
function present<T extends object>(object: { [K in keyof T]: T[K] | null | undefined }): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== null && value !== undefined)) as T;
}

/**
 * The V1 REST API's view of a record. A charged payment shows what it was paid with, as the real one does: a
 * card payment its card and approval number, a bank transfer its bank (bank_*), a virtual account its bank,
 * number, holder and deadline (vbank_*); a phone payment has no fields of its own. Before the charge, and
 * after a failure, nothing was paid and those fields are absent (vbank_date and vbank_issued_at 0).
 */
export function v1PaymentView(record: PaymentRecord, receiptUrl: string): GatewayPayment {
  const { details } = record;
  let lastReason: string | null = null;
  for (const cancellation of record.cancellations) if (cancellation.reason !== '') lastReason = cancellation.reason;
  const charged = record.paidAt !== null;
  const key = record.impUid ?? record.orderId;
  const card = charged && details.payMethod === 'card' ? simulatedCard(key) : null;
  const bank = charged && details.payMethod === 'trans' ? simulatedBank(key) : null;
  const account = record.paidAt !== null && details.payMethod === 'vbank' ? simulatedVirtualAccount(key, record.paidAt) : null;
  const optional = present<Partial<GatewayPayment>>({
    pg_tid: record.pgTxId,
    pg_id: details.pgId,
    apply_num: card === null ? null : record.applyNum,
    bank_code: bank?.code,
    bank_name: bank?.name,
    card_code: card?.code,
    card_name: card?.name,
    card_issuer_code: card?.code,
    card_issuer_name: card?.name,
    card_publisher_code: card?.code,
    card_publisher_name: card?.name,
    card_number: card?.maskedNumber,
    vbank_code: account?.bank.code,
    vbank_name: account?.bank.name,
    vbank_num: account?.number,
    vbank_holder: account?.holder,
    name: details.name,
    buyer_name: details.buyerName,
    buyer_email: details.buyerEmail,
    buyer_tel: details.buyerTel,
    buyer_addr: details.buyerAddr,
    buyer_postcode: details.buyerPostcode,
    custom_data: details.customData,
    user_agent: details.userAgent,
    receipt_url: charged ? receiptUrl : null,
  });
  return {
    imp_uid: record.impUid ?? record.orderId,
    merchant_uid: record.orderId,
    pay_method: details.payMethod,
    channel: 'pc',
    pg_provider: details.pgProvider,
    ...pick(optional, 'pg_tid', 'pg_id'),
    // A simulated channel stands in for a live one: the REST API hides sandbox payments from lookups.
    sandbox: false,
    escrow: false,
    ...pick(optional, 'apply_num', 'bank_code', 'bank_name', 'card_code', 'card_name', 'card_issuer_code', 'card_issuer_name', 'card_publisher_code', 'card_publisher_name'),
    card_quota: 0,
    ...pick(optional, 'card_number'),
    card_type: card?.v1Type ?? null,
    ...pick(optional, 'vbank_code', 'vbank_name', 'vbank_num', 'vbank_holder'),
    vbank_date: seconds(account?.expiresAtMs ?? null),
    vbank_issued_at: seconds(account?.issuedAtMs ?? null),
    ...pick(optional, 'name'),
    amount: record.amount,
    cancel_amount: record.cancelledAmount,
    currency: record.currency,
    ...pick(optional, 'buyer_name', 'buyer_email', 'buyer_tel', 'buyer_addr', 'buyer_postcode', 'custom_data', 'user_agent'),
    status: record.status,
    started_at: seconds(record.requestedAt),
    paid_at: seconds(record.paidAt),
    failed_at: seconds(record.failedAt),
    cancelled_at: seconds(record.cancelledAt),
    fail_reason: record.status === 'failed' ? (record.failure?.reason ?? null) : null,
    cancel_reason: lastReason,
    ...pick(optional, 'receipt_url'),
    cancel_history: record.cancellations.map((cancellation) => ({
      pg_tid: cancellation.pgTxId,
      amount: cancellation.amount,
      cancelled_at: seconds(cancellation.at),
      reason: cancellation.reason,
      cancellation_id: cancellation.id,
      receipt_url: cancellation.receiptUrl,
    })),
    deposit_history: [],
    cancel_receipt_urls: record.cancellations.map((cancellation) => cancellation.receiptUrl),
    cash_receipt_issued: false,
    customer_uid_usage: null,
  };
}

function pick<T extends object, K extends keyof T>(object: T, ...names: K[]): Pick<T, K> {
  const picked = {} as Pick<T, K>;
  for (const name of names) if (name in object) picked[name] = object[name];
  return picked;
}

/** A preparation as the V1 prepare routes answer it; currency only when one was fixed. */
export function v1PreparationView(preparation: PaymentPreparation): { merchant_uid: string; amount: number; currency?: string } {
  const { merchant_uid, amount, currency } = preparation;
  return currency === null ? { merchant_uid, amount } : { merchant_uid, amount, currency };
}
