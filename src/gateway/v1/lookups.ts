import { badRequest, notFound } from '../errors.js';
import type { PaymentRecord, PaymentStatus, PaymentStore } from '../payments.js';
import { StatusAnswer } from '../routes.js';

/**
 * The V1 API's list lookups, as its OpenAPI file describes them: by status within a time window, every
 * payment of an order, several payments by id. Query parameters are checked as strictly as the file types
 * them (a bad one is a 400 naming it); pages are PagedPaymentAnnotation's `{total, previous, next, list}`.
 */

export const V1_STATUSES = ['ready', 'paid', 'cancelled', 'failed'] as const satisfies readonly PaymentStatus[];
/** A status filter of a path: one status, or `all` (iamport-rest-client-nodejs sends `all` for "any"). */
export type StatusFilter = PaymentStatus | 'all';

export const SORTINGS = ['-started', 'started', '-paid', 'paid', '-updated', 'updated'] as const;
export type Sorting = (typeof SORTINGS)[number];

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;
/** GET /payments/status: without `from`, the window starts this long before `to`. */
const DEFAULT_WINDOW_SECONDS = 90 * 24 * 60 * 60;

export interface Page<T> {
  total: number;
  /** The previous page's number, 0 on the first. */
  previous: number;
  /** The next page's number, 0 on the last. */
  next: number;
  list: T[];
}

export function statusFilter(text: string, name = 'payment_status'): StatusFilter {
  if (text === 'all' || (V1_STATUSES as readonly string[]).includes(text)) return text as StatusFilter;
  throw badRequest(`${name} "${text.slice(0, 40)}" is not a payment status; use all, ${V1_STATUSES.join(', ')}`);
}

function integerParam(query: URLSearchParams, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of ${min} or more` : `from ${min} to ${max}`;
    throw badRequest(`${name} must be a whole number ${range}, not "${text.slice(0, 40)}"`);
  }
  return value;
}

export function sortingParam(query: URLSearchParams): Sorting {
  const text = query.get('sorting');
  if (text === null || text === '') return '-started';
  if ((SORTINGS as readonly string[]).includes(text)) return text as Sorting;
  throw badRequest(`sorting "${text.slice(0, 40)}" is not one of ${SORTINGS.join(', ')}`);
}

export interface Paging {
  page: number;
  limit: number;
}

export function pagingParams(query: URLSearchParams): Paging {
  return { page: integerParam(query, 'page', 1) ?? 1, limit: integerParam(query, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT };
}

function sortKey(sorting: Sorting): (record: PaymentRecord) => number {
  switch (sorting.replace('-', '')) {
    case 'paid':
      return (record) => record.paidAt ?? 0;
    case 'updated':
      return (record) => record.updatedAt;
    default:
      return (record) => record.requestedAt;
  }
}

/** Sorted as asked; payments of the same instant keep the order they were opened in (latest first when descending). */
export function sortRecords(records: PaymentRecord[], sorting: Sorting): PaymentRecord[] {
  const key = sortKey(sorting);
  if (sorting.startsWith('-')) return records.reverse().sort((a, b) => key(b) - key(a));
  return records.sort((a, b) => key(a) - key(b));
}

/** One page of a sorted list; a page past the end of a non-empty list is a 400, as the API documents. */
export function pageOf<T>(records: PaymentRecord[], paging: Paging, view: (record: PaymentRecord) => T): Page<T> {
  const { page, limit } = paging;
  const total = records.length;
  const skip = (page - 1) * limit;
  if (page > 1 && skip >= total) {
    throw badRequest(`page ${page} is past the last page: ${total} payment${total === 1 ? '' : 's'} at ${limit} a page`);
  }
  return {
    total,
    previous: page > 1 ? page - 1 : 0,
    next: skip + limit < total ? page + 1 : 0,
    list: records.slice(skip, skip + limit).map(view),
  };
}

const seconds = (ms: number | null): number => (ms === null ? 0 : Math.floor(ms / 1000));

/** The time GET /payments/status filters a payment by: the time it reached the status it has. */
function statusTime(record: PaymentRecord): number {
  switch (record.status) {
    case 'paid':
      return seconds(record.paidAt);
    case 'cancelled':
      return seconds(record.cancelledAt);
    case 'failed':
      return seconds(record.failedAt);
    default:
      return seconds(record.requestedAt);
  }
}

function matches(record: PaymentRecord, status: StatusFilter): boolean {
  return status === 'all' || record.status === status;
}

/** GET /payments/status/{payment_status}: V1 payments in a status whose time of that status is in [from, to]. */
export function byStatus(store: PaymentStore, status: StatusFilter, query: URLSearchParams, nowMs: number): PaymentRecord[] {
  const to = integerParam(query, 'to', 0) ?? seconds(nowMs);
  const from = integerParam(query, 'from', 0) ?? Math.max(0, to - DEFAULT_WINDOW_SECONDS);
  if (from > to) throw badRequest(`from ${from} is after to ${to}; give from <= to (unix seconds)`);
  const found: PaymentRecord[] = [];
  for (const record of store.all()) {
    if (record.api !== 'v1' || !matches(record, status)) continue;
    const at = statusTime(record);
    if (at >= from && at <= to) found.push(record);
  }
  return sortRecords(found, sortingParam(query));
}

/** GET /payments/findAll/{merchant_uid}[/{payment_status}]: every payment of the order; none is a 404. */
export function ofOrder(store: PaymentStore, merchantUid: string, status: StatusFilter, sorting: Sorting): PaymentRecord[] {
  const found = store.paymentsOfMerchantUid(merchantUid).filter((record) => matches(record, status));
  if (found.length === 0) {
    throw notFound(`no payment has merchant_uid ${merchantUid}${status === 'all' ? '' : ` with status ${status}`}`);
  }
  return sortRecords(found, sorting);
}

/** GET /payments/find/{merchant_uid}[/{payment_status}]: the first payment of the order in the sorting asked for. */
export function firstOfOrder(store: PaymentStore, merchantUid: string, status: StatusFilter, sorting: Sorting): PaymentRecord {
  return ofOrder(store, merchantUid, status, sorting)[0]!;
}

/**
 * GET /payments?imp_uid[]=...&merchant_uid[]=...: each payment asked for, in the order asked (an order's latest
 * payment for a merchant_uid). All found: 200; some: 207 with those; none: 404.
 */
export function several<T>(store: PaymentStore, query: URLSearchParams, view: (record: PaymentRecord) => T): T[] | StatusAnswer {
  const impUids = query.getAll('imp_uid[]');
  const merchantUids = query.getAll('merchant_uid[]');
  if (impUids.length + merchantUids.length === 0) {
    throw badRequest('give the payments to look up as imp_uid[]=...&imp_uid[]=... (or merchant_uid[]=...)');
  }
  const found: PaymentRecord[] = [];
  for (const impUid of impUids) {
    const record = store.findByImpUid(impUid);
    if (record) found.push(record);
  }
  for (const merchantUid of merchantUids) {
    const record = store.findByMerchantUid(merchantUid);
    if (record) found.push(record);
  }
  const asked = impUids.length + merchantUids.length;
  if (found.length === 0) throw notFound(`none of the ${asked} payment${asked === 1 ? '' : 's'} asked for exists`);
  const list = found.map(view);
  return found.length === asked ? list : new StatusAnswer(207, list);
}
