import { timingSafeEqual } from 'node:crypto';
import type { Gateway } from '../gateway.js';
import type { RequestFields } from '../fields.js';
import type { PaymentRecord } from '../payments.js';
import type { Route } from '../routes.js';
import type { CountedConfirmRefusal } from '../runs.js';
import { PortOneApiError } from './errors.js';
import type { V2Store } from './view.js';

/**
 * V2 manual confirm, `POST /payments/{paymentId}/confirm` (operationId confirmPayment): the merchant's server
 * charges a payment the buyer authenticated, with the payment token the buyer's requestPayment returned.
 *
 * The checks run in the order that tells a merchant the most without telling a stranger anything: the body,
 * then the payment, then the token (only the token's holder learns the payment's state), then the figures
 * the merchant sent to verify (txId, totalAmount, taxFreeAmount, currency, isTest), then the PG. A refusal
 * before the PG leaves the payment READY and its token unspent, so the merchant may correct its call; the PG's
 * answer spends the token either way.
 */

/** What the 200 answer is: ConfirmedPaymentSummary, bare, as the OpenAPI file and PortOne's SDK type it. */
export interface ConfirmedPaymentSummary {
  pgTxId: string;
  paidAt: string;
}

interface ConfirmBody {
  paymentToken: string;
  txId: string | undefined;
  totalAmount: number | undefined;
  taxFreeAmount: number | undefined;
  currency: string | undefined;
  isTest: boolean | undefined;
  skipWebhook: boolean;
  storeId: string | undefined;
}

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
/** Ours are `ptk_` and 32 characters; a longer one is garbage, refused before it is compared with anything. */
const MAX_TOKEN_LENGTH = 1024;

function invalid(message: string): PortOneApiError {
  return new PortOneApiError('INVALID_REQUEST', message);
}

function text(fields: RequestFields, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${name} must be a string`);
  return value;
}

function integer(fields: RequestFields, name: string): number | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(`${name} must be a whole number of 0 or more`);
  return value;
}

function flag(fields: RequestFields, name: string): boolean | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false`);
  return value;
}

function bodyOf(fields: RequestFields): ConfirmBody {
  const paymentToken = text(fields, 'paymentToken');
  if (paymentToken === undefined || paymentToken.length === 0) {
    throw invalid('paymentToken is required: send the paymentToken the buyer\'s PortOne.requestPayment returned');
  }
  if (paymentToken.length > MAX_TOKEN_LENGTH) throw invalid(`paymentToken is over ${MAX_TOKEN_LENGTH} characters`);
  const currency = text(fields, 'currency');
  if (currency !== undefined && !CURRENCIES.has(currency)) throw invalid(`currency "${currency}" is not an ISO 4217 currency code such as KRW`);
  return {
    paymentToken,
    txId: text(fields, 'txId'),
    totalAmount: integer(fields, 'totalAmount'),
    taxFreeAmount: integer(fields, 'taxFreeAmount'),
    currency,
    isTest: flag(fields, 'isTest'),
    skipWebhook: flag(fields, 'skipWebhook') ?? false,
    storeId: text(fields, 'storeId'),
  };
}

function sameToken(presented: string, minted: string): boolean {
  const left = Buffer.from(presented);
  const right = Buffer.from(minted);
  return left.length === right.length && timingSafeEqual(left, right);
}

class Refusal extends PortOneApiError {
  constructor(
    readonly counted: CountedConfirmRefusal,
    message: string,
    details: Record<string, string> = {},
  ) {
    super(counted, message, details);
  }
}

/** Why the presented token does not let this call confirm `record`, or null when it does. */
function tokenProblem(gateway: Gateway, record: PaymentRecord, presented: string, now: number): string | null {
  const state = record.manualConfirm;
  if (state && sameToken(presented, state.paymentToken)) {
    if (state.tokenUsedAt !== null) {
      return `the payment token was already used at ${new Date(state.tokenUsedAt).toISOString()} (the PG declined that confirm); a token pays once`;
    }
    if (now >= state.tokenExpiresAt) {
      return `the payment token expired at ${new Date(state.tokenExpiresAt).toISOString()}; confirm right after the buyer authenticates`;
    }
    return null;
  }
  const owner = gateway.store.findByPaymentToken(presented);
  if (owner && owner !== record) return `the payment token was issued for payment ${owner.orderId}, not ${record.orderId}`;
  if (!state) return `payment ${record.orderId} was not made on a manual-confirm channel: no payment token was issued for it`;
  return 'the payment token is not one this gateway issued';
}

/** The figures the merchant sent to verify, against the payment's; the first that differs, or null. */
function mismatchOf(record: PaymentRecord, body: ConfirmBody, isTestChannel: boolean): string | null {
  if (body.txId !== undefined && body.txId !== record.transactionId) {
    return `txId ${body.txId} is not the payment's transaction (${record.transactionId})`;
  }
  if (body.totalAmount !== undefined && body.totalAmount !== record.amount) {
    return `totalAmount ${body.totalAmount} is not the payment's total ${record.amount}`;
  }
  if (body.taxFreeAmount !== undefined && body.taxFreeAmount !== 0) return `taxFreeAmount ${body.taxFreeAmount} is not the payment's tax-free amount 0`;
  if (body.currency !== undefined && body.currency !== record.currency) {
    return `currency ${body.currency} is not the payment's currency ${record.currency}`;
  }
  if (body.isTest !== undefined && body.isTest !== isTestChannel) {
    return `isTest ${body.isTest}: the payment was made on a ${isTestChannel ? 'test' : 'live'} channel`;
  }
  return null;
}

export function confirmRoute(gateway: Gateway, store: V2Store): Route {
  return {
    method: 'POST',
    path: '/payments/{paymentId}/confirm',
    summary: 'manual confirm: charge with the buyer\'s payment token {paymentToken, txId?, totalAmount?, currency?, isTest?, skipWebhook?}',
    auth: true,
    handle: ({ params: [paymentId = ''], fields }): ConfirmedPaymentSummary => {
      const body = bodyOf(fields);
      if (body.storeId !== undefined && body.storeId !== store.storeId) {
        throw new PortOneApiError('FORBIDDEN', `the API secret has no access to store ${body.storeId}; this gateway's store is ${store.storeId}`);
      }
      const record = gateway.store.findByPaymentId(paymentId);
      try {
        if (!record) throw new Refusal('PAYMENT_NOT_FOUND', `no payment has paymentId ${paymentId}`);
        const tokenProblemText = tokenProblem(gateway, record, body.paymentToken, gateway.nowMs());
        // Only the token's holder may learn that the payment is paid; a wrong token learns nothing of it.
        const ownToken = tokenProblemText === null || (record.manualConfirm !== null && sameToken(body.paymentToken, record.manualConfirm.paymentToken));
        if (ownToken && record.paidAt !== null) throw new Refusal('ALREADY_PAID', `payment ${paymentId} is already paid (${record.status})`);
        if (tokenProblemText !== null) throw new Refusal('INVALID_PAYMENT_TOKEN', tokenProblemText);
        if (record.status !== 'ready') throw new Refusal('INVALID_PAYMENT_TOKEN', `payment ${paymentId} is ${record.status}; its token can no longer confirm it`);
        const mismatch = mismatchOf(record, body, store.channel.type === 'TEST');
        if (mismatch !== null) throw new Refusal('INFORMATION_MISMATCH', `${mismatch}; nothing was charged`);

        const { charge } = gateway.settleApproved(record, { paidWebhook: !body.skipWebhook });
        if (charge !== 'approved') {
          const failure = record.failure;
          const pgMessage = failure?.pgMessage ?? failure?.reason ?? 'declined';
          throw new Refusal('PG_PROVIDER', `the PG declined the payment: ${pgMessage}`, { pgCode: failure?.pgCode ?? 'DECLINED', pgMessage });
        }
        gateway.confirmCalled(record, 'succeeded');
        return { pgTxId: record.pgTxId!, paidAt: new Date(record.paidAt!).toISOString() };
      } catch (error) {
        // A call with a known token but a wrong paymentId still counts on the token's payment and run.
        if (error instanceof Refusal) gateway.confirmCalled(record ?? gateway.store.findByPaymentToken(body.paymentToken), error.counted);
        throw error;
      }
    },
  };
}
