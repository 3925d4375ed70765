import { DIALECTS, FLOWS, isV2, MERCHANT_UID_MAX_LENGTH, type Dialect, type Flow } from '../../protocol/index.js';
import { UsageError } from '../../util/errors.js';
import { parseHttpUrl } from '../../util/url.js';
import { badRequest } from '../errors.js';
import { amountProblem, DEFAULT_CURRENCY, isCurrency } from '../fields.js';
import { PAYMENT_ID_MAX_LENGTH, WEBHOOK_VERSIONS, type ApiVersion, type WebhookVersion } from '../payments.js';

/**
 * The simulation's own wire format for a run: a sale registered in chunks before the timed part, and the
 * merchant's confirm answers reported in batches as they arrive. Parsed here, checked strictly (a run's
 * mistake is a 400 naming the field), cheaply (100,000 payments in a few seconds).
 */

export const PAYMENT_OUTCOMES = ['approve', 'decline'] as const;

/**
 * How a sale's payments go on: the gateway asks the merchant's confirm URL (`confirm-process`, answers reported
 * through /sim/confirm-answers), or the buyer's requestPayment hands back a payment token and the merchant's
 * server calls POST /payments/{paymentId}/confirm itself (`manual-confirm`, V2 only).
 */
export const SALE_FLOWS = FLOWS;
export type SaleFlow = Flow;
export type PaymentOutcome = (typeof PAYMENT_OUTCOMES)[number];

/** The most payments one POST /sim/sales may carry; the link sends bigger sales in chunks of this. */
export const MAX_SALE_CHUNK = 10_000;
/** The most answers one POST /sim/confirm-answers may carry. */
export const MAX_ANSWER_BATCH = 10_000;
/** Enough of a refusal's body to read its reason from. */
export const MAX_ANSWER_BODY_CHARS = 2_000;
/** Run ids name a run in URLs and reports. */
const RUN_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export interface SalePayment {
  /** V1 merchant_uid, V2 paymentId. */
  orderId: string;
  /** V1 only; made up by the gateway when missing (and then returned). */
  impUid?: string | undefined;
  /** V2 transactionId; made up by the gateway when missing (and then returned). */
  transactionId?: string | undefined;
  amount: number;
  /** Default the sale's currency, else KRW. */
  currency?: string | undefined;
  /** The PG's answer once the merchant says 200; default: the sale's (or gateway's) decline rate decides. */
  outcome?: PaymentOutcome | undefined;
}

export interface SaleRegistration {
  /** The run's id; chunks of one run share it and its settings. */
  run: string;
  /** Default: the dialect's API. */
  api?: ApiVersion | undefined;
  /** The confirm body the run sends; default v1 (or v2-2024-04-25 for api v2). */
  dialect?: Dialect | undefined;
  /** Where webhooks go; none are sent without it. */
  noticeUrl?: string | undefined;
  /** V2 only; default the dialect's version. */
  webhookVersion?: WebhookVersion | undefined;
  /** Overrides the gateway's --decline-rate for this run. */
  declineRate?: number | undefined;
  currency?: string | undefined;
  /** Default confirm-process; manual-confirm needs api v2 and answers with a payment token per payment. */
  flow?: SaleFlow | undefined;
  /** manual-confirm: how long the payment tokens stay valid from registration; default the gateway's --token-lifetime. */
  tokenLifetimeMs?: number | undefined;
  payments: SalePayment[];
}

export interface CheckedSale {
  run: string;
  api: ApiVersion;
  dialect: Dialect;
  noticeUrl: string | null;
  webhookVersion: WebhookVersion | null;
  declineRate: number | null;
  flow: SaleFlow;
  tokenLifetimeMs: number | null;
  payments: Array<{
    orderId: string;
    impUid: string | undefined;
    transactionId: string | undefined;
    amount: number;
    currency: string;
    outcome: PaymentOutcome | null;
  }>;
}

export interface RegistrationResult {
  run: string;
  /** Registered by this call. */
  registered: number;
  /** Registered for the run so far. */
  total: number;
  /** The ids the gateway made up, in the order of the payments, when the caller gave none. */
  impUids?: string[];
  transactionIds?: string[];
  /**
   * manual-confirm sales: what each buyer's requestPayment returned, in the order of the payments (absent for
   * confirm-process sales). The front end posts these to the merchant's server, which confirms with them.
   */
  tokens?: PaymentToken[];
}

/** What PortOne.requestPayment returns in manual-confirm mode instead of charging. */
export interface PaymentToken {
  paymentId: string;
  paymentToken: string;
  txId: string;
}

/**
 * GET /sim/sales/{run}/statuses: one character per registered payment, in registration order — `R` ready
 * (never confirmed), `P` paid, `F` failed (refused, unanswered or declined), `C` cancelled, `X` partially
 * cancelled, `D` paid and then confirmed again (reserved: a correct gateway never makes it).
 */
export interface SaleStatuses {
  run: string;
  count: number;
  statuses: string;
}

export interface ConfirmAnswerReport {
  /** The run the payment belongs to; default the payment's own (looked up by order id). */
  run?: string | undefined;
  orderId: string;
  /** The merchant's HTTP status, or null when it did not answer in time. */
  status: number | null;
  /** The answer's body (a refusal's `reason` / `errorMessage` is read from it); cut to 2,000 characters. */
  body?: string | undefined;
}

export interface AnswersResult {
  /** Answers applied to a ready payment. */
  accepted: number;
  /** Answers for a payment that was no longer ready: ignored. */
  late: number;
  /** Answers naming no confirm-process payment the gateway has (in that run): ignored. A manual-confirm payment is the merchant's to confirm. */
  unknown: number;
}

function fail(message: string): never {
  throw badRequest(message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function optionalText(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0) fail(`${name} must be a non-empty string`);
  return value;
}

function choice<T extends string>(value: unknown, name: string, choices: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  fail(`${name} must be one of ${choices.join(', ')}, not ${JSON.stringify(value)}`);
}

export function checkRun(value: unknown): string {
  if (typeof value !== 'string' || !RUN_PATTERN.test(value)) {
    fail('run must be 1 to 64 letters, digits or . _ : - (the run id the summary is asked for by)');
  }
  return value;
}

/** Checks a sale or a chunk of one; the shapes are the same from code and over HTTP. */
export function checkSale(input: unknown): CheckedSale {
  if (!isRecord(input)) {
    fail('the body must be a sale: {run, api?, dialect?, noticeUrl?, webhookVersion?, declineRate?, flow?, tokenLifetimeMs?, payments: [...]}');
  }
  const run = checkRun(input.run);
  const dialectGiven = choice(input.dialect, 'dialect', DIALECTS);
  const apiGiven = choice(input.api, 'api', ['v1', 'v2'] as const);
  const dialect: Dialect = dialectGiven ?? (apiGiven === 'v2' ? 'v2-2024-04-25' : 'v1');
  const api: ApiVersion = isV2(dialect) ? 'v2' : 'v1';
  if (apiGiven !== undefined && apiGiven !== api) fail(`api ${apiGiven} does not speak dialect ${dialect}`);
  let webhookVersion = choice(input.webhookVersion, 'webhookVersion', WEBHOOK_VERSIONS) ?? null;
  if (api === 'v1' && webhookVersion !== null) fail('webhookVersion is a V2 setting; leave it out for api v1');
  if (api === 'v2') webhookVersion ??= dialect === 'v2-2024-01-01' ? '2024-01-01' : '2024-04-25';
  const noticeText = optionalText(input.noticeUrl, 'noticeUrl');
  let noticeUrl: string | null = null;
  if (noticeText !== undefined) {
    try {
      noticeUrl = parseHttpUrl(noticeText, 'noticeUrl').href;
    } catch (error) {
      if (error instanceof UsageError) fail(error.message);
      throw error;
    }
  }
  let declineRate: number | null = null;
  if (input.declineRate !== undefined && input.declineRate !== null) {
    if (typeof input.declineRate !== 'number' || !(input.declineRate >= 0 && input.declineRate <= 1)) {
      fail('declineRate must be a fraction from 0 to 1, e.g. 0.2');
    }
    declineRate = input.declineRate;
  }
  const flow = choice(input.flow, 'flow', SALE_FLOWS) ?? 'confirm-process';
  if (flow === 'manual-confirm' && api !== 'v2') {
    fail('flow manual-confirm is a V2 flow (the merchant calls POST /payments/{paymentId}/confirm); register the sale with api v2');
  }
  let tokenLifetimeMs: number | null = null;
  if (input.tokenLifetimeMs !== undefined && input.tokenLifetimeMs !== null) {
    if (flow !== 'manual-confirm') fail('tokenLifetimeMs is a manual-confirm setting; leave it out or register with flow manual-confirm');
    if (typeof input.tokenLifetimeMs !== 'number' || !Number.isSafeInteger(input.tokenLifetimeMs) || input.tokenLifetimeMs <= 0) {
      fail('tokenLifetimeMs must be a whole number of milliseconds above 0, e.g. 600000 for 10 minutes');
    }
    tokenLifetimeMs = input.tokenLifetimeMs;
  }
  const saleCurrency = optionalText(input.currency, 'currency') ?? DEFAULT_CURRENCY;
  if (!isCurrency(saleCurrency)) fail(`currency must be an ISO 4217 code such as KRW, not ${JSON.stringify(saleCurrency).slice(0, 40)}`);
  if (!Array.isArray(input.payments) || input.payments.length === 0) fail('payments must be a non-empty array');
  if (input.payments.length > MAX_SALE_CHUNK) {
    fail(`payments: ${input.payments.length} in one call; send at most ${MAX_SALE_CHUNK} per call (the link chunks for you)`);
  }
  const idLimit = api === 'v1' ? MERCHANT_UID_MAX_LENGTH : PAYMENT_ID_MAX_LENGTH;
  const payments = (input.payments as unknown[]).map((entry, index) => {
    if (!isRecord(entry)) fail(`payments[${index}] must be an object {orderId, amount, ...}`);
    const { orderId, amount } = entry;
    if (typeof orderId !== 'string' || orderId.length === 0 || orderId.length > idLimit) {
      fail(`payments[${index}].orderId must be a string of 1 to ${idLimit} characters (the ${api === 'v1' ? 'merchant_uid' : 'paymentId'})`);
    }
    const currency = optionalText(entry.currency, `payments[${index}].currency`) ?? saleCurrency;
    if (currency !== saleCurrency && !isCurrency(currency)) fail(`payments[${index}].currency must be an ISO 4217 code such as KRW`);
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) fail(`payments[${index}].amount must be a number above 0`);
    const problem = amountProblem(amount, currency, `payments[${index}].amount`);
    if (problem !== null) fail(problem);
    const impUid = optionalText(entry.impUid, `payments[${index}].impUid`);
    if (impUid !== undefined && (api === 'v2' || impUid.length > MERCHANT_UID_MAX_LENGTH)) {
      fail(`payments[${index}].impUid: ${api === 'v2' ? 'V2 payments have no imp_uid' : 'at most 40 characters'}`);
    }
    const transactionId = optionalText(entry.transactionId, `payments[${index}].transactionId`);
    if (transactionId !== undefined && transactionId.length > PAYMENT_ID_MAX_LENGTH) fail(`payments[${index}].transactionId is too long`);
    return {
      orderId,
      impUid,
      transactionId,
      amount,
      currency,
      outcome: choice(entry.outcome, `payments[${index}].outcome`, PAYMENT_OUTCOMES) ?? null,
    };
  });
  return { run, api, dialect, noticeUrl, webhookVersion, declineRate, flow, tokenLifetimeMs, payments };
}

/** Checks a batch of answers; `run` at the top applies to every answer that names none. */
export function checkAnswers(input: unknown): ConfirmAnswerReport[] {
  const list = isRecord(input) ? input.answers : input;
  const defaultRun = isRecord(input) && input.run !== undefined ? checkRun(input.run) : undefined;
  if (!Array.isArray(list)) fail('the body must be {run?, answers: [{orderId, status, body?}, ...]}');
  if (list.length > MAX_ANSWER_BATCH) fail(`answers: ${list.length} in one call; send at most ${MAX_ANSWER_BATCH}`);
  return (list as unknown[]).map((entry, index) => {
    if (!isRecord(entry)) fail(`answers[${index}] must be an object {orderId, status, body?}`);
    const { orderId, status, body } = entry;
    if (typeof orderId !== 'string' || orderId.length === 0) fail(`answers[${index}].orderId must be a non-empty string`);
    if (status !== null && !(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 999)) {
      fail(`answers[${index}].status must be the merchant's HTTP status (100-999) or null for no answer in time`);
    }
    if (body !== undefined && body !== null && typeof body !== 'string') fail(`answers[${index}].body must be a string`);
    return {
      run: entry.run === undefined ? defaultRun : checkRun(entry.run),
      orderId,
      status: status as number | null,
      body: typeof body === 'string' ? body.slice(0, MAX_ANSWER_BODY_CHARS) : undefined,
    };
  });
}
