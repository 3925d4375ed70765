import type { Gateway } from '../gateway.js';
import type { RequestFields } from '../fields.js';
import type { PaymentRecord } from '../payments.js';
import type { Route } from '../routes.js';
import { confirmRoute } from './confirm.js';
import { PortOneApiError } from './errors.js';
import { v2CancellationView, v2PaymentView, v2StatusOf, type V2Payment, type V2PaymentStatus, type V2Store } from './view.js';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 1000;

function invalid(message: string): PortOneApiError {
  return new PortOneApiError('INVALID_REQUEST', message);
}

function optionalInteger(fields: RequestFields, name: string, min: number): number | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(`${name} must be a whole number of ${min} or more`);
  }
  return value;
}

function optionalText(fields: RequestFields, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${name} must be a string`);
  return value;
}

function optionalFlag(fields: RequestFields, name: string): boolean | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false`);
  return value;
}

function optionalCurrency(fields: RequestFields, name: string): string | undefined {
  const currency = optionalText(fields, name);
  if (currency !== undefined && !CURRENCIES.has(currency)) throw invalid(`${name} "${currency}" is not an ISO 4217 currency code such as KRW`);
  return currency;
}

function optionalObject(fields: RequestFields, name: string): RequestFields | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${name} must be an object`);
  return value as RequestFields;
}

/** The V2 REST API (api.portone.io) that PortOne's server SDK calls. */
export function v2Routes(gateway: Gateway, store: V2Store): Route[] {
  const { store: payments } = gateway;

  function recordOf(paymentId: string): PaymentRecord {
    const record = payments.findByPaymentId(paymentId);
    if (!record) throw new PortOneApiError('PAYMENT_NOT_FOUND', `no payment has paymentId ${paymentId}`);
    return record;
  }

  function checkStore(storeId: string | undefined): void {
    if (storeId !== undefined && storeId !== store.storeId) {
      throw new PortOneApiError('FORBIDDEN', `the API secret has no access to store ${storeId}; this gateway's store is ${store.storeId}`);
    }
  }

  const view = (record: PaymentRecord): V2Payment => v2PaymentView(record, store, payments.receiptUrl(record));

  return [
    {
      method: 'GET',
      path: '/payments/{paymentId}',
      summary: 'a payment (?storeId=)',
      auth: true,
      handle: ({ params: [paymentId = ''], query }) => {
        checkStore(query.get('storeId') ?? undefined);
        return view(recordOf(paymentId));
      },
    },
    {
      method: 'POST',
      path: '/payments/{paymentId}/pre-register',
      summary: 'fix the amount before the buyer pays {totalAmount, taxFreeAmount?, currency?, storeId?}',
      auth: true,
      handle: ({ params: [paymentId = ''], fields }) => {
        checkStore(optionalText(fields, 'storeId'));
        const totalAmount = optionalInteger(fields, 'totalAmount', 1);
        optionalInteger(fields, 'taxFreeAmount', 0);
        const currency = optionalCurrency(fields, 'currency');
        if (totalAmount === undefined) throw invalid('totalAmount is required: pre-registering fixes the amount the buyer must pay');
        const existing = payments.findByPaymentId(paymentId);
        if (existing && existing.paidAt !== null) throw new PortOneApiError('ALREADY_PAID', `payment ${paymentId} is already paid`);
        // Pre-registering again replaces the amount: the merchant may change its order before the buyer pays.
        payments.setPreparation({ merchant_uid: paymentId, amount: totalAmount, currency: currency ?? null });
        return {};
      },
    },
    {
      method: 'POST',
      path: '/payments/{paymentId}/cancel',
      summary: 'cancel all or part {reason, amount?, currentCancellableAmount?, skipWebhook?}',
      auth: true,
      handle: async ({ params: [paymentId = ''], fields }) => {
        checkStore(optionalText(fields, 'storeId'));
        const reason = optionalText(fields, 'reason');
        if (reason === undefined) throw invalid('reason is required');
        const amount = optionalInteger(fields, 'amount', 1);
        optionalInteger(fields, 'taxFreeAmount', 0);
        optionalInteger(fields, 'vatAmount', 0);
        const currentCancellableAmount = optionalInteger(fields, 'currentCancellableAmount', 0);
        const skipWebhook = optionalFlag(fields, 'skipWebhook') ?? false;
        const record = recordOf(paymentId);
        const status = v2StatusOf(record);
        if (status === 'CANCELLED') throw new PortOneApiError('PAYMENT_ALREADY_CANCELLED', `payment ${paymentId} is already cancelled`);
        if (status !== 'PAID' && status !== 'PARTIAL_CANCELLED') {
          throw new PortOneApiError('PAYMENT_NOT_PAID', `payment ${paymentId} is ${status}; only a paid payment can be cancelled`);
        }
        const cancellable = record.amount - record.cancelledAmount;
        if (currentCancellableAmount !== undefined && currentCancellableAmount !== cancellable) {
          throw new PortOneApiError(
            'CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN',
            `currentCancellableAmount ${currentCancellableAmount} is not the cancellable amount ${cancellable}`,
          );
        }
        if (amount !== undefined && amount > cancellable) {
          throw new PortOneApiError(
            'CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT',
            `cannot cancel ${amount}: only ${cancellable} of payment ${paymentId} is left to cancel`,
          );
        }
        // V2 sends a cancellation webhook unless the merchant asks it not to.
        const { cancellation } = await gateway.cancel(record, { amount, reason }, { webhook: !skipWebhook });
        return { cancellation: v2CancellationView(cancellation) };
      },
    },
    confirmRoute(gateway, store),
    {
      method: 'GET',
      path: '/payments',
      summary: 'payments by filter, a page at a time (?requestBody={page, filter})',
      auth: true,
      handle: ({ query, fields }) => listPayments(listRequestOf(query, fields)),
    },
  ];

  function listPayments(request: RequestFields): { items: V2Payment[]; page: { number: number; size: number; totalCount: number } } {
    const page = optionalObject(request, 'page') ?? {};
    const number = optionalInteger(page, 'number', 0) ?? 0;
    const size = optionalInteger(page, 'size', 1) ?? DEFAULT_PAGE_SIZE;
    if (size > MAX_PAGE_SIZE) throw invalid(`page.size ${size} is over ${MAX_PAGE_SIZE}`);
    const matches = filterOf(optionalObject(request, 'filter') ?? {});
    const items: V2Payment[] = [];
    for (const record of payments.all()) {
      if (record.api !== 'v2') continue;
      const payment = view(record);
      if (matches.keep(payment)) items.push(payment);
    }
    items.sort(matches.compare);
    return { items: items.slice(number * size, (number + 1) * size), page: { number, size, totalCount: items.length } };
  }

  function filterOf(filter: RequestFields): { keep: (payment: V2Payment) => boolean; compare: (a: V2Payment, b: V2Payment) => number } {
    const supported = new Set(['merchantId', 'storeId', 'timestampType', 'from', 'until', 'status', 'methods', 'version', 'currency', 'sortBy', 'sortOrder', 'isTest']);
    for (const name of Object.keys(filter)) {
      if (!supported.has(name)) throw invalid(`filter.${name} is not simulated; the simulated filters are ${[...supported].join(', ')}`);
    }
    const merchantId = optionalText(filter, 'merchantId');
    const storeId = optionalText(filter, 'storeId');
    checkStore(storeId);
    const timestampType = optionalChoice(filter, 'timestampType', ['CREATED_AT', 'STATUS_CHANGED_AT']) ?? 'CREATED_AT';
    const from = optionalTime(filter, 'from');
    const until = optionalTime(filter, 'until');
    const statuses = optionalList(filter, 'status', ['READY', 'PENDING', 'VIRTUAL_ACCOUNT_ISSUED', 'PAID', 'FAILED', 'PARTIAL_CANCELLED', 'CANCELLED']);
    const methods = optionalList(filter, 'methods', ['CARD', 'TRANSFER', 'VIRTUAL_ACCOUNT', 'GIFT_CERTIFICATE', 'MOBILE', 'EASY_PAY', 'CONVENIENCE_STORE', 'CRYPTO']);
    const version = optionalChoice(filter, 'version', ['V1', 'V2']);
    const currency = optionalCurrency(filter, 'currency');
    const isTest = optionalFlag(filter, 'isTest');
    const sortBy = optionalChoice(filter, 'sortBy', ['REQUESTED_AT', 'STATUS_CHANGED_AT']) ?? 'REQUESTED_AT';
    const descending = (optionalChoice(filter, 'sortOrder', ['DESC', 'ASC']) ?? 'DESC') === 'DESC';
    const timeOf = (payment: V2Payment, type: string): number =>
      Date.parse(type === 'STATUS_CHANGED_AT' ? payment.statusChangedAt : payment.requestedAt);
    return {
      keep: (payment) => {
        const at = timeOf(payment, timestampType === 'CREATED_AT' ? 'REQUESTED_AT' : 'STATUS_CHANGED_AT');
        return (
          (merchantId === undefined || payment.merchantId === merchantId) &&
          (from === undefined || at >= from) &&
          (until === undefined || at < until) &&
          (statuses === undefined || statuses.includes(payment.status)) &&
          // Every simulated payment is a card payment, but only a charged one says so.
          (methods === undefined || (payment.method !== undefined && methods.includes('CARD'))) &&
          (version === undefined || version === payment.version) &&
          (currency === undefined || currency === payment.currency) &&
          (isTest === undefined || isTest === (payment.channel.type === 'TEST'))
        );
      },
      compare: (a, b) => (timeOf(a, sortBy) - timeOf(b, sortBy)) * (descending ? -1 : 1),
    };
  }
}

function listRequestOf(query: URLSearchParams, fields: RequestFields): RequestFields {
  // The SDK sends the request body as JSON in the requestBody query parameter; the API also takes it as a body.
  const text = query.get('requestBody');
  if (text === null) return fields;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('requestBody is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('requestBody must be a JSON object');
  return parsed as RequestFields;
}

function optionalChoice<T extends string>(fields: RequestFields, name: string, choices: readonly T[]): T | undefined {
  const value = optionalText(fields, name);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw invalid(`${name} must be one of ${choices.join(', ')}, not "${value}"`);
  return value as T;
}

function optionalList<T extends string>(fields: RequestFields, name: string, choices: readonly T[]): T[] | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || !(choices as readonly string[]).includes(item))) {
    throw invalid(`${name} must be a list of ${choices.join(', ')}`);
  }
  return value as T[];
}

function optionalTime(fields: RequestFields, name: string): number | undefined {
  const text = optionalText(fields, name);
  if (text === undefined) return undefined;
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) throw invalid(`${name} "${text}" is not an RFC 3339 date-time such as 2026-12-01T09:00:00Z`);
  return at;
}

export type { V2PaymentStatus };
