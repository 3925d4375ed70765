import type { Gateway } from '../gateway.js';
import { badRequest } from '../errors.js';
import type { Route } from '../routes.js';
import { checkRun, MAX_SALE_CHUNK, SALE_FLOWS } from './sales.js';

/** A sale chunk of MAX_SALE_CHUNK payments with long ids stays well under this. */
const SALE_BODY_BYTES = 8 * 1024 * 1024;
const MAX_PAGE_LIMIT = 1_000;

function choiceOf<T extends string>(value: unknown, name: string, choices: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw badRequest(`${name} must be one of ${choices.join(', ')}, not ${JSON.stringify(value)}`);
}

function wholeNumber(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw badRequest(`${name} must be a whole number from 1 to ${max}, not "${text}"`);
  return value;
}

/**
 * The simulation's own routes: what the buyer and the run do to the gateway (the REST API is what the
 * merchant does). No access token: they stand for the buyer's browser and the test harness, never a merchant.
 */
export function simRoutes(gateway: Gateway): Route[] {
  return [
    {
      method: 'POST',
      path: '/sim/sales',
      summary: `register a run's payments as ready {run, dialect?, noticeUrl?, declineRate?, payments: [{orderId, impUid?, amount, ...}]} (≤ ${MAX_SALE_CHUNK} a call)`,
      auth: false,
      maxBodyBytes: SALE_BODY_BYTES,
      handle: ({ fields }) => gateway.register(fields),
    },
    {
      method: 'POST',
      path: '/sim/confirm-answers',
      summary: "report confirm answers {answers: [{orderId, status | null, body?}]}: 200 charges or declines, else fails",
      auth: false,
      maxBodyBytes: SALE_BODY_BYTES,
      handle: ({ fields }) => gateway.answer(fields),
    },
    {
      method: 'GET',
      path: '/sim/sales/{run}',
      summary: "a run's summary: payments paid/declined/failed/..., webhooks sent/retried/unanswered/pending",
      auth: false,
      handle: ({ params: [run = ''] }) => gateway.summary(checkRun(run)),
    },
    {
      method: 'GET',
      path: '/sim/sales/{run}/statuses',
      summary: "one letter per payment of the run, in registration order: R ready, P paid, F failed, C cancelled, X partly cancelled",
      auth: false,
      handle: ({ params: [run = ''] }) => gateway.statuses(checkRun(run)),
    },
    {
      method: 'POST',
      path: '/sim/sales/{run}/end',
      summary: 'the run is done: its payments are the first the gateway forgets (its summary stays)',
      auth: false,
      handle: ({ params: [run = ''] }) => gateway.end(checkRun(run)),
    },
    {
      method: 'POST',
      path: '/sim/payments',
      summary:
        'pay like IMP.request_pay {merchant_uid, amount, confirm_url?, notice_url?, dialect?, outcome?: approve|decline, ...}; with flow: "manual-confirm" (V2) it answers {paymentId, paymentToken, txId} and waits for the merchant\'s confirm',
      auth: false,
      handle: ({ fields, headers }) => {
        const request = { ...fields, user_agent: fields.user_agent ?? headers['user-agent'] };
        const flow = choiceOf(fields.flow, 'flow', SALE_FLOWS) ?? 'confirm-process';
        return flow === 'manual-confirm' ? gateway.requestManualPaymentFromFields(request) : gateway.requestPaymentFromFields(request);
      },
    },
    {
      method: 'GET',
      path: '/sim/payments',
      summary: `the payments kept, oldest first, with timelines (?page=1&limit=100, at most ${MAX_PAGE_LIMIT}; ?run=)`,
      auth: false,
      handle: ({ query }) => {
        const run = query.get('run');
        return gateway.list({
          page: wholeNumber(query, 'page', 1, Number.MAX_SAFE_INTEGER),
          limit: wholeNumber(query, 'limit', 100, MAX_PAGE_LIMIT),
          run: run === null ? undefined : checkRun(run),
        });
      },
    },
    {
      method: 'GET',
      path: '/sim/payments/{id}',
      summary: 'one payment with its timeline, by imp_uid, paymentId or merchant_uid (?run=)',
      auth: false,
      handle: ({ params: [id = ''], query }) => {
        const run = query.get('run');
        return gateway.timeline(id, run === null ? undefined : checkRun(run));
      },
    },
    {
      method: 'GET',
      path: '/sim/receipts/{imp_uid}',
      summary: "a V1 payment's receipt (its receipt_url)",
      auth: false,
      handle: ({ params: [impUid = ''] }) => gateway.v1View(gateway.store.byImpUid(impUid)),
    },
  ];
}
