import { simulatedBank, simulatedVirtualAccount } from '../bank.js';
import { simulatedCard } from '../card.js';
import type { PaymentCancellation, PaymentRecord } from '../payments.js';

/** What a V2 answer says about the store and channel every simulated V2 payment belongs to. */
export interface V2Store {
  merchantId: string;
  storeId: string;
  channel: V2Channel;
}

export interface V2Channel {
  type: 'LIVE' | 'TEST';
  id: string;
  key: string;
  name: string;
  pgProvider: string;
  pgMerchantId: string;
}

export type V2PaymentStatus = 'READY' | 'PAID' | 'FAILED' | 'PARTIAL_CANCELLED' | 'CANCELLED';

export interface V2Amount {
  total: number;
  taxFree: number;
  vat: number;
  supply: number;
  discount: number;
  paid: number;
  cancelled: number;
  cancelledTaxFree: number;
}

export interface V2Cancellation {
  status: 'SUCCEEDED';
  id: string;
  pgCancellationId: string;
  totalAmount: number;
  taxFreeAmount: number;
  vatAmount: number;
  reason: string;
  cancelledAt: string;
  requestedAt: string;
  receiptUrl: string;
  trigger: 'API';
}

/** What a paid V2 payment says it was paid with: one branch of the file's `PaymentMethod` per kind of pay_method. */
export type V2PaymentMethod =
  | {
      type: 'PaymentMethodCard';
      card: {
        publisher: string;
        issuer: string;
        brand: 'LOCAL';
        type: 'CREDIT' | 'DEBIT';
        ownerType: 'PERSONAL';
        bin: string;
        name: string;
        number: string;
      };
      approvalNumber: string;
      installment: { month: number; isInterestFree: boolean };
      pointUsed: boolean;
    }
  | { type: 'PaymentMethodTransfer'; bank: string }
  | {
      type: 'PaymentMethodVirtualAccount';
      bank: string;
      accountNumber: string;
      accountType: 'NORMAL';
      remitteeName: string;
      issuedAt: string;
      expiredAt: string;
    }
  | { type: 'PaymentMethodMobile'; phoneNumber?: string }
  | { type: 'PaymentMethodEasyPay'; provider: string }
  | { type: 'PaymentMethodGiftCertificate'; giftCertificateType: string; approvalNumber: string };

/** A payment as `GET /payments/{paymentId}` answers it; which fields are present depends on `status`. */
export interface V2Payment {
  status: V2PaymentStatus;
  id: string;
  transactionId: string;
  merchantId: string;
  storeId: string;
  method?: V2PaymentMethod;
  channel: V2Channel;
  version: 'V2';
  requestedAt: string;
  updatedAt: string;
  statusChangedAt: string;
  orderName: string;
  amount: V2Amount;
  currency: string;
  customer: { name?: string; email?: string; phoneNumber?: string; zipcode?: string; address?: { type: 'ONE_LINE'; oneLine: string } };
  origin: { platformType: 'PC'; userAgent?: string; ipAddress: string };
  customData?: string;
  paidAt?: string;
  pgTxId?: string;
  receiptUrl?: string;
  disputes?: never[];
  cancellations?: V2Cancellation[];
  cancelledAt?: string;
  failedAt?: string;
  failure?: { reason?: string; pgCode?: string; pgMessage?: string };
}

const rfc3339 = (ms: number): string => new Date(ms).toISOString();

/** Korean card payments state VAT inside the total: supply = total / 1.1, rounded; VAT is the rest. */
function vatOf(total: number): number {
  return total - Math.round(total / 1.1);
}

export function v2StatusOf(record: PaymentRecord): V2PaymentStatus {
  switch (record.status) {
    case 'ready':
      return 'READY';
    case 'failed':
      return 'FAILED';
    case 'cancelled':
      return 'CANCELLED';
    case 'paid':
      return record.cancelledAmount > 0 ? 'PARTIAL_CANCELLED' : 'PAID';
  }
}

export function v2CancellationView(cancellation: PaymentCancellation): V2Cancellation {
  const at = rfc3339(cancellation.at);
  return {
    status: 'SUCCEEDED',
    id: cancellation.id,
    pgCancellationId: cancellation.pgTxId,
    totalAmount: cancellation.amount,
    taxFreeAmount: 0,
    vatAmount: vatOf(cancellation.amount),
    reason: cancellation.reason,
    cancelledAt: at,
    requestedAt: at,
    receiptUrl: cancellation.receiptUrl,
    trigger: 'API',
  };
}

/** V1 pay_methods paid through an easy-pay wallet, and the V2 file's name for each wallet. */
const EASY_PAY_PROVIDERS: Readonly<Record<string, string>> = {
  samsung: 'SAMSUNGPAY',
  ssgpay: 'SSGPAY',
  lpay: 'LPAY',
  payco: 'PAYCO',
  kakaopay: 'KAKAOPAY',
  tosspay: 'TOSSPAY',
  naverpay: 'NAVERPAY',
  applepay: 'APPLEPAY',
  paypal: 'PAYPAL',
};

const GIFT_CERTIFICATE_TYPES: Readonly<Record<string, string>> = {
  cultureland: 'CULTURELAND',
  culturegift: 'CULTUREGIFT',
  smartculture: 'SMART_MUNSANG',
  booknlife: 'BOOKNLIFE',
};

/** The method of a charged payment; none for points, which the file has no method for. */
function v2MethodOf(record: PaymentRecord, paidAt: number): V2PaymentMethod | undefined {
  const { payMethod, buyerTel } = record.details;
  const approvalNumber = record.applyNum ?? '';
  switch (payMethod) {
    case 'card': {
      const card = simulatedCard(record.orderId);
      return {
        type: 'PaymentMethodCard',
        card: {
          publisher: card.publisher,
          issuer: card.issuer,
          brand: 'LOCAL',
          type: card.v2Type,
          ownerType: 'PERSONAL',
          bin: card.bin,
          name: card.name,
          number: card.maskedNumber,
        },
        approvalNumber,
        installment: { month: 0, isInterestFree: false },
        pointUsed: false,
      };
    }
    case 'trans':
      return { type: 'PaymentMethodTransfer', bank: simulatedBank(record.orderId).v2 };
    case 'vbank': {
      const account = simulatedVirtualAccount(record.orderId, paidAt);
      return {
        type: 'PaymentMethodVirtualAccount',
        bank: account.bank.v2,
        accountNumber: account.number,
        accountType: 'NORMAL',
        remitteeName: account.holder,
        issuedAt: rfc3339(account.issuedAtMs),
        expiredAt: rfc3339(account.expiresAtMs),
      };
    }
    case 'phone':
      return buyerTel === null ? { type: 'PaymentMethodMobile' } : { type: 'PaymentMethodMobile', phoneNumber: buyerTel };
  }
  const provider = EASY_PAY_PROVIDERS[payMethod];
  if (provider !== undefined) return { type: 'PaymentMethodEasyPay', provider };
  const giftCertificateType = GIFT_CERTIFICATE_TYPES[payMethod];
  if (giftCertificateType !== undefined) return { type: 'PaymentMethodGiftCertificate', giftCertificateType, approvalNumber };
  return undefined;
}

/**
 * The V2 view of a record: the object its status calls for, every required field filled in and every
 * optional one either filled in or left out (the V2 schemas allow no nulls).
 */
export function v2PaymentView(record: PaymentRecord, store: V2Store, receiptUrl: string): V2Payment {
  const { details } = record;
  const status = v2StatusOf(record);
  const customer: V2Payment['customer'] = {};
  if (details.buyerName !== null) customer.name = details.buyerName;
  if (details.buyerEmail !== null) customer.email = details.buyerEmail;
  if (details.buyerTel !== null) customer.phoneNumber = details.buyerTel;
  if (details.buyerPostcode !== null) customer.zipcode = details.buyerPostcode;
  if (details.buyerAddr !== null) customer.address = { type: 'ONE_LINE', oneLine: details.buyerAddr };
  const vat = vatOf(record.amount);
  const view: V2Payment = {
    status,
    id: record.orderId,
    transactionId: record.transactionId,
    merchantId: store.merchantId,
    storeId: store.storeId,
    channel: { ...store.channel, pgMerchantId: details.pgId ?? store.channel.pgMerchantId },
    version: 'V2',
    requestedAt: rfc3339(record.requestedAt),
    updatedAt: rfc3339(record.updatedAt),
    statusChangedAt: rfc3339(record.statusChangedAt),
    orderName: details.name ?? '',
    amount: {
      total: record.amount,
      taxFree: 0,
      vat,
      supply: record.amount - vat,
      discount: 0,
      paid: record.paidAt === null ? 0 : record.amount,
      cancelled: record.cancelledAmount,
      cancelledTaxFree: 0,
    },
    currency: record.currency,
    customer,
    origin: {
      platformType: 'PC',
      ...(details.userAgent === null ? {} : { userAgent: details.userAgent }),
      ipAddress: '127.0.0.1',
    },
  };
  if (details.customData !== null) view.customData = details.customData;
  if (record.paidAt !== null) {
    const method = v2MethodOf(record, record.paidAt);
    if (method !== undefined) view.method = method;
    view.paidAt = rfc3339(record.paidAt);
    if (record.pgTxId !== null) view.pgTxId = record.pgTxId;
    view.receiptUrl = receiptUrl;
  }
  if (status === 'PAID') view.disputes = [];
  if (status === 'CANCELLED' || status === 'PARTIAL_CANCELLED') {
    view.cancellations = record.cancellations.map(v2CancellationView);
    view.cancelledAt = rfc3339(record.cancelledAt ?? record.updatedAt);
  }
  if (status === 'FAILED') {
    view.failedAt = rfc3339(record.failedAt ?? record.statusChangedAt);
    const failure: NonNullable<V2Payment['failure']> = {};
    if (record.failure?.reason) failure.reason = record.failure.reason;
    if (record.failure?.pgCode) failure.pgCode = record.failure.pgCode;
    if (record.failure?.pgMessage) failure.pgMessage = record.failure.pgMessage;
    view.failure = failure;
  }
  return view;
}
