import { UsageError } from '../util/errors.js';

/**
 * The shapes of the confirm request. The gateway's documents disagree on V1's body and V2's depends on the
 * merchant's webhook version, so each variant is a named dialect and confirm-sim can speak every one exactly.
 */
export const DIALECTS = ['v1', 'v1-status', 'v1-amount', 'v2-2024-01-01', 'v2-2024-04-25'] as const;
export type Dialect = (typeof DIALECTS)[number];

export const DIALECT_DESCRIPTIONS: Record<Dialect, string> = {
  v1: 'V1, union of both documents: {imp_uid, merchant_uid, status: "ready", amount} (default)',
  'v1-status': 'V1, older document: {imp_uid, merchant_uid, status}',
  'v1-amount': 'V1, current document: {imp_uid, merchant_uid, amount}',
  'v2-2024-01-01': 'V2, webhook version 2024-01-01: {payment_id, tx_id, total_amount}',
  'v2-2024-04-25': 'V2, webhook version 2024-04-25: {type: "Transaction.Confirm", timestamp, data: {...}}',
};

export function parseDialect(text: string, what = '`dialect`'): Dialect {
  if ((DIALECTS as readonly string[]).includes(text)) return text as Dialect;
  throw new UsageError(`${what}: unknown dialect "${text}"; use one of ${DIALECTS.join(', ')}`);
}

export function isV2(dialect: Dialect): boolean {
  return dialect.startsWith('v2-');
}

/** Everything the gateway knows about a payment at confirm time, in the gateway's own terms. */
export interface ConfirmOrder {
  /** The merchant's order id (V1 merchant_uid, V2 paymentId). */
  merchantUid: string;
  /** The gateway's payment id, `imp_` + 12 digits (V1 only). */
  impUid: string;
  /** The amount to be charged, in the currency's minor-less unit (KRW). */
  amount: number;
  /** V1 payment state; "ready" before the charge. */
  status: string;
  /** V2 transaction id, a UUID. */
  transactionId: string;
  /** V2 store id; sent in 2024-04-25 `data` when known. */
  storeId?: string | undefined;
  /** V2 2024-04-25 envelope timestamp; defaults to now. */
  timestamp?: Date | undefined;
}

/**
 * The confirm body exactly as the gateway writes it, as the raw string that is also signed. Key order
 * follows the documents so byte-for-byte comparisons in tests and in users' fixtures stay stable.
 */
export function buildConfirmBody(dialect: Dialect, order: ConfirmOrder): string {
  switch (dialect) {
    case 'v1':
      return JSON.stringify({
        imp_uid: order.impUid,
        merchant_uid: order.merchantUid,
        status: order.status,
        amount: order.amount,
      });
    case 'v1-status':
      return JSON.stringify({ imp_uid: order.impUid, merchant_uid: order.merchantUid, status: order.status });
    case 'v1-amount':
      return JSON.stringify({ imp_uid: order.impUid, merchant_uid: order.merchantUid, amount: order.amount });
    case 'v2-2024-01-01':
      return JSON.stringify({
        payment_id: order.merchantUid,
        tx_id: order.transactionId,
        total_amount: order.amount,
      });
    case 'v2-2024-04-25': {
      const data: Record<string, unknown> = {};
      if (order.storeId !== undefined) data.storeId = order.storeId;
      data.paymentId = order.merchantUid;
      data.transactionId = order.transactionId;
      data.totalAmount = order.amount;
      return JSON.stringify({
        type: 'Transaction.Confirm',
        timestamp: (order.timestamp ?? new Date()).toISOString(),
        data,
      });
    }
  }
}

/**
 * What a merchant reads out of a confirm body, whichever dialect sent it. Used by the sample merchants
 * and by the contract cases; `null` fields were absent or of the wrong type.
 */
export interface ParsedConfirm {
  dialect: 'v1' | 'v2';
  merchantUid: string | null;
  impUid: string | null;
  transactionId: string | null;
  amount: number | null;
  status: string | null;
}

export function parseConfirmBody(body: unknown): ParsedConfirm | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const record = body as Record<string, unknown>;
  const str = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);
  const num = (value: unknown): number | null =>
    typeof value === 'number' && Number.isFinite(value) ? value : null;
  if (record.type === 'Transaction.Confirm' && record.data && typeof record.data === 'object') {
    const data = record.data as Record<string, unknown>;
    return {
      dialect: 'v2',
      merchantUid: str(data.paymentId),
      impUid: null,
      transactionId: str(data.transactionId),
      amount: num(data.totalAmount),
      status: null,
    };
  }
  if ('payment_id' in record || 'tx_id' in record) {
    return {
      dialect: 'v2',
      merchantUid: str(record.payment_id),
      impUid: null,
      transactionId: str(record.tx_id),
      amount: num(record.total_amount),
      status: null,
    };
  }
  return {
    dialect: 'v1',
    merchantUid: str(record.merchant_uid),
    impUid: str(record.imp_uid),
    transactionId: null,
    amount: num(record.amount),
    status: str(record.status),
  };
}
