import { abortableByAll } from '../util/abort.js';
import {
  DIALECTS,
  isV2,
  refusalDetail,
  v1FailReason,
  type Dialect,
  type GatewayDecision,
  type WebhookSecret,
} from '../protocol/index.js';
import { fireConfirm, type FireAnswer } from '../fire/index.js';
import { TypedEmitter } from '../util/events.js';
import { UsageError } from '../util/errors.js';
import { parseHttpUrl } from '../util/url.js';
import { badRequest, conflict, notFound } from './errors.js';
import {
  DEFAULT_CURRENCY,
  optionalAmount,
  optionalBoolean,
  optionalChoice,
  optionalCurrency,
  optionalPayMethod,
  optionalString,
  requiredAmount,
  requiredString,
  type RequestFields,
} from './fields.js';
import {
  DEFAULT_PG_PROVIDER,
  PAYMENT_FIELD_LIMITS,
  PaymentStore,
  timelineOf,
  type ApiVersion,
  type CancelRequest,
  type CancelTarget,
  type PaymentCancellation,
  type PaymentDetails,
  type PaymentFailure,
  type PaymentPreparation,
  type PaymentRecord,
  type PaymentStatus,
  type TimelineEntry,
  type WebhookRecord,
} from './payments.js';
import { RunTally, type CountedConfirmRefusal, type SaleSummary } from './runs.js';
import { v1PaymentView, type GatewayPayment } from './v1/view.js';
import {
  checkAnswers,
  checkSale,
  type AnswersResult,
  type ConfirmAnswerReport,
  type PaymentOutcome,
  type PaymentToken,
  type RegistrationResult,
  type SaleStatuses,
} from './sim/sales.js';
import {
  buildWebhook,
  V1_RETRY_DELAYS_MS,
  V2_RETRY_DELAYS_MS,
  WebhookDispatcher,
  type WebhookDelivery,
  type WebhookTrigger,
} from './webhooks.js';

export const OUTCOMES = ['approve', 'decline'] as const;
/** What the simulated card company does once the merchant's confirm endpoint lets the charge go on. */
export type Outcome = PaymentOutcome;

export { DEFAULT_PG_PROVIDER };
export const DEFAULT_DECLINE_REASON = '[confirm-sim] 카드사 승인거절 (simulated decline)';
/** The PG code a simulated decline carries (V2 failure.pgCode). */
export const DECLINE_PG_CODE = 'SIM_DECLINED';
/** About 260 MB at ~1.3 KB a payment (measured with a confirm answer, no webhook): two 100,000-buyer runs. */
export const DEFAULT_MAX_PAYMENTS = 200_000;
/** A run is taken for finished (its payments may be forgotten) this long after its last change. */
export const DEFAULT_RETENTION_GRACE_MS = 10 * 60_000;
/**
 * How long a manual-confirm payment token stays valid. PortOne documents no figure (it depends on the PG, and
 * a late confirm fails), so the default is a realistic few minutes rather than forever: a merchant that queues
 * its confirms finds out here. Runs and the CLI set their own.
 */
export const DEFAULT_PAYMENT_TOKEN_LIFETIME_MS = 10 * 60_000;
/** Forgetting starts this far below the limit, so it runs once per chunk, not once per payment. */
const RETENTION_MARGIN = 0.1;
/** Summaries of runs whose payments are all forgotten are kept up to this many runs. */
const MAX_RUN_SUMMARIES = 10_000;

/**
 * What IMP.request_pay sends the gateway, plus what the simulation needs to play the rest: where the
 * merchant's confirm endpoint is, which dialect to speak and whether the card company approves.
 */
export interface PaymentRequest {
  merchant_uid: string;
  amount: number;
  currency?: string;
  name?: string;
  pay_method?: string;
  /** `provider` or `provider.mid`, as IMP.request_pay's `pg`. */
  pg?: string;
  buyer_name?: string;
  buyer_email?: string;
  buyer_tel?: string;
  buyer_addr?: string;
  buyer_postcode?: string;
  /** Stored as a string; an object is stored as its JSON. */
  custom_data?: string | Record<string, unknown>;
  user_agent?: string;
  confirm_url?: string;
  notice_url?: string;
  /** Default 'v1'. */
  dialect?: Dialect;
  /** Default: the gateway's decline rate decides. */
  outcome?: Outcome;
  /** The fail_reason of a declined charge. */
  decline_reason?: string;
}

/** PortOne.requestPayment on a manual-confirm channel: request_pay's fields without a confirm URL; V2 dialects only. */
export type ManualPaymentRequest = Omit<PaymentRequest, 'confirm_url' | 'decline_reason'>;

export interface PrepareRequest {
  merchant_uid: string;
  amount: number;
  /** When given, a payment in another currency is refused too. */
  currency?: string;
}

export interface ConfirmReport {
  url: string;
  dialect: Dialect;
  answer: FireAnswer;
  decision: GatewayDecision;
}

/** A payment with everything that happened to it: a JSON-able copy of the gateway's record and its timeline. */
export type PaymentTimeline = { schemaVersion: 1 } & Omit<PaymentRecord, 'details'> & { details: PaymentDetails; timeline: TimelineEntry[] };

/** What became of one request_pay: the payment as the V1 REST API now shows it and every call the gateway made. */
export interface PaymentAttempt {
  schemaVersion: 1;
  payment: GatewayPayment;
  timeline: PaymentTimeline;
  /** null when no confirm_url was given: the gateway charged without asking. */
  confirm: ConfirmReport | null;
  /** What the card company did; 'not-attempted' when the confirm answer (or an earlier payment of the order) stopped it. */
  charge: 'approved' | 'declined' | 'not-attempted';
  /** The webhook's first attempt (retries go on afterwards); null when none was due. */
  webhook: WebhookDelivery | null;
}

export interface CancelPaymentRequest extends CancelRequest {
  imp_uid?: string | undefined;
  merchant_uid?: string | undefined;
  /** Sends the cancellation webhook; the V1 REST API's default is not to. */
  enable_webhook?: boolean | undefined;
}

export interface CancelResult {
  schemaVersion: 1;
  payment: GatewayPayment;
  cancellation: PaymentCancellation;
  webhook: WebhookDelivery | null;
}

export type PaymentChange = 'ready' | 'paid' | 'declined' | 'failed' | 'cancelled' | 'partially-cancelled';

/** One payment in an event: enough for a log line, without copying the record. */
export interface PaymentLine {
  api: ApiVersion;
  run: string | null;
  orderId: string;
  impUid: string | null;
  amount: number;
  currency: string;
  status: PaymentStatus;
  failReason: string | null;
  cancelledAmount: number;
}

export interface PaymentPage {
  page: number;
  limit: number;
  /** Payments kept that match. */
  total: number;
  payments: PaymentTimeline[];
}

export type GatewayEvents = {
  /** Every HTTP request the gateway answered. */
  request: {
    method: string;
    path: string;
    /** The route's path as listed, with {placeholders}; null when no route matched. */
    route: string | null;
    status: number;
    /** The V1 envelope's code (0 for success), the V2 error's type, or null for a V2 success. */
    outcome: number | string | null;
    durationMs: number;
  };
  /** A payment changed; emitted only while someone listens (a run changes thousands a second). */
  payment: { change: PaymentChange; payment: PaymentLine };
  confirm: { orderId: string; impUid: string | null; confirm: ConfirmReport };
  /** A run registered payments (one event per chunk). */
  sale: RegistrationResult;
  /** A batch of confirm answers was applied. */
  answers: AnswersResult & { run: string | null };
  /** Every webhook attempt, retries included. */
  webhook: WebhookDelivery;
  /** A run said it is done (POST /sim/sales/{run}/end): its summary as it was then. */
  ended: SaleSummary;
};

export interface GatewaySettings {
  secret: WebhookSecret | undefined;
  storeId: string | undefined;
  confirmTimeoutMs: number;
  /** Probability that the PG declines a payment the merchant said 200 to; a run or payment may override it. */
  declineRate: number;
  /** Multiplies the documented webhook retry waits. */
  webhookRetryScale: number;
  /** Read timeout for a webhook answer. */
  webhookTimeoutMs: number;
  /** V1 retries only for merchants that opted in. */
  v1WebhookRetries: boolean;
  /** The most payments kept; past it the oldest completed ones are forgotten (their runs' counts stay exact). */
  maxPayments: number;
  /** A run that changed this recently is still being summarized: none of its payments is forgotten (unless it ended). */
  retentionGraceMs: number;
  /** How long a manual-confirm payment token is valid from its payment's registration; a sale may set its own. */
  paymentTokenLifetimeMs: number;
  nowMs: () => number;
  random: () => number;
  receiptUrlFor: (record: PaymentRecord) => string;
}

function optionalUrl(fields: RequestFields, name: string): string | null {
  const text = optionalString(fields, name);
  if (text === undefined) return null;
  try {
    return parseHttpUrl(text, name).href;
  } catch (error) {
    if (error instanceof UsageError) throw badRequest(error.message);
    throw error;
  }
}

/**
 * A preparation binds an amount and, when given, a currency. Without one the amount is checked as the
 * default currency's (KRW: whole): a merchant preparing cents names the currency they are in.
 */
function preparationFrom(fields: RequestFields): PaymentPreparation {
  const currency = optionalCurrency(fields, 'currency') ?? null;
  return {
    merchant_uid: requiredString(fields, 'merchant_uid', PAYMENT_FIELD_LIMITS.merchant_uid),
    amount: requiredAmount(fields, 'amount', currency ?? DEFAULT_CURRENCY),
    currency,
  };
}

function cancelTargetFrom(fields: RequestFields): CancelTarget {
  return { imp_uid: optionalString(fields, 'imp_uid'), merchant_uid: optionalString(fields, 'merchant_uid') };
}

/** The amounts of a cancel are in the payment's currency, so they are read once the payment is known. */
function cancelRequestFrom(fields: RequestFields, target: CancelTarget, currency: string): CancelPaymentRequest {
  return {
    ...target,
    amount: optionalAmount(fields, 'amount', currency),
    reason: optionalString(fields, 'reason'),
    checksum: optionalAmount(fields, 'checksum', currency),
    enable_webhook: optionalBoolean(fields, 'enable_webhook'),
  };
}

/** IMP.request_pay's `pg` is `provider` or `provider.mid`; the gateway records them as pg_provider and pg_id. */
function pgOf(fields: RequestFields): { provider: string; mid: string | null } {
  const pg = optionalString(fields, 'pg') ?? DEFAULT_PG_PROVIDER;
  const [provider = '', mid = ''] = pg.split('.', 2);
  const limits = PAYMENT_FIELD_LIMITS;
  if (provider.length === 0 || provider.length > limits.pg_provider || mid.length > limits.pg_id) {
    throw badRequest(
      `pg "${pg}" must be provider or provider.mid (provider up to ${limits.pg_provider} characters), e.g. html5_inicis.INIpayTest`,
    );
  }
  return { provider, mid: mid.length > 0 ? mid : null };
}

function customData(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  throw badRequest('custom_data must be a string or a JSON object');
}

/**
 * What protocol's decide() says about an answer, without its explanation and without parsing an empty body:
 * this runs once per buyer of a burst.
 */
function decisionOf(dialect: Dialect, answer: ConfirmAnswerReport): Pick<GatewayDecision, 'proceed' | 'failReason'> {
  if (answer.status === 200) return { proceed: true, failReason: null };
  const detail = answer.status === null || !answer.body ? null : refusalDetail(dialect, answer.body);
  // One shared string for the common case: a burst fails thousands of payments without a reason.
  return { proceed: false, failReason: isV2(dialect) ? detail : detail === null ? V1_NO_DETAIL_REASON : v1FailReason(detail) };
}

const V1_NO_DETAIL_REASON = v1FailReason(null);

function paymentTokenOf(record: PaymentRecord): PaymentToken {
  return { paymentId: record.orderId, paymentToken: record.manualConfirm!.paymentToken, txId: record.transactionId };
}

/** The lifecycle of payments around the confirm call: registering, confirming, charging, cancelling, notifying. */
export class Gateway {
  readonly events = new TypedEmitter<GatewayEvents>();
  readonly store: PaymentStore;
  readonly #runs = new Map<string, RunTally>();
  readonly #webhooks: WebhookDispatcher;
  /** Aborts confirm calls still waiting for a merchant when the gateway closes. */
  readonly #closing = abortableByAll();

  constructor(private readonly settings: GatewaySettings) {
    this.store = new PaymentStore({ receiptUrlFor: settings.receiptUrlFor, nowMs: settings.nowMs });
    this.#webhooks = new WebhookDispatcher({
      retryScale: settings.webhookRetryScale,
      readTimeoutMs: settings.webhookTimeoutMs,
      secret: settings.secret,
      nowMs: settings.nowMs,
      random: settings.random,
      onAttempt: (record, webhook, delivery) => this.#webhookAttempted(record, webhook, delivery),
    });
  }

  get declineRate(): number {
    return this.settings.declineRate;
  }

  get webhookRetryScale(): number {
    return this.settings.webhookRetryScale;
  }

  /** The gateway's clock, epoch ms (a test may give its own). */
  nowMs(): number {
    return this.settings.nowMs();
  }

  // ---- views ---------------------------------------------------------------------------------------------

  v1View(record: PaymentRecord): GatewayPayment {
    return v1PaymentView(record, this.store.receiptUrl(record));
  }

  timelineOf(record: PaymentRecord): PaymentTimeline {
    const copy = { schemaVersion: 1, ...structuredClone(record), timeline: timelineOf(record) } as PaymentTimeline;
    // A payment token pays the payment: a listing of the store must not hand it to whoever reads it.
    if (copy.manualConfirm) copy.manualConfirm = { ...copy.manualConfirm, paymentToken: 'ptk_****' };
    return copy;
  }

  /** A payment by imp_uid, V2 paymentId or V1 merchant_uid (its latest payment), in that order. */
  find(id: string, run?: string): PaymentRecord | undefined {
    const record = this.store.findByImpUid(id) ?? this.store.findByPaymentId(id) ?? this.store.findByMerchantUid(id);
    if (record && run !== undefined && record.run !== run) return undefined;
    return record;
  }

  timeline(id: string, run?: string): PaymentTimeline {
    const record = this.find(id, run);
    if (!record) throw notFound(`no payment has id ${id}${run === undefined ? '' : ` in run ${run}`}`);
    return this.timelineOf(record);
  }

  /** The payments kept, oldest first, a page at a time. */
  list(options: { page?: number; limit?: number; run?: string | undefined } = {}): PaymentPage {
    const page = options.page ?? 1;
    const limit = options.limit ?? 100;
    const skip = (page - 1) * limit;
    const payments: PaymentTimeline[] = [];
    let total = 0;
    for (const record of this.store.all()) {
      if (options.run !== undefined && record.run !== options.run) continue;
      if (total >= skip && payments.length < limit) payments.push(this.timelineOf(record));
      total += 1;
    }
    return { page, limit, total, payments };
  }

  summary(run: string): SaleSummary {
    return this.#tally(run).snapshot();
  }

  /** One letter per registered payment of the run, in registration order (see SaleStatuses). */
  statuses(run: string): SaleStatuses {
    const tally = this.#tally(run);
    return { run, count: tally.summary.payments.registered, statuses: tally.statusLine() };
  }

  #tally(run: string): RunTally {
    const tally = this.#runs.get(run);
    if (!tally) throw notFound(`no run ${run} has registered payments`);
    return tally;
  }

  // ---- a run's sale: registration and answers -----------------------------------------------------------

  /**
   * Registers a run's payments (one chunk of a sale) as `ready`, with the ids the run chose. The whole chunk
   * is refused when any id is taken or repeated, so a run never half-registers a chunk.
   */
  register(input: unknown): RegistrationResult {
    const sale = checkSale(input);
    if (sale.api === 'v2' && sale.noticeUrl !== null && this.settings.secret === undefined) {
      throw badRequest('a V2 sale with a noticeUrl needs signed webhooks, but the gateway has no webhook secret; start it with one (--secret whsec_...)');
    }
    const manual = sale.flow === 'manual-confirm';
    const settings = {
      run: sale.run,
      api: sale.api,
      dialect: sale.dialect,
      webhookVersion: sale.webhookVersion,
      noticeUrl: sale.noticeUrl,
      declineRate: sale.declineRate ?? this.settings.declineRate,
      flow: sale.flow,
      tokenLifetimeMs: manual ? (sale.tokenLifetimeMs ?? this.settings.paymentTokenLifetimeMs) : null,
    };
    const existing = this.#runs.get(sale.run);
    const mismatch = existing?.matches(settings);
    if (mismatch) throw conflict(mismatch);
    const firstIndex = existing?.nextIndex ?? 0;
    // The lifetime counts from registration: the buyer's requestPayment returns the token when the sale opens.
    const tokenExpiresAt = settings.tokenLifetimeMs === null ? undefined : this.settings.nowMs() + settings.tokenLifetimeMs;

    const seenOrders = new Set<string>();
    const seenImpUids = new Set<string>();
    const openings = sale.payments.map((payment, index) => {
      const opening = {
        api: sale.api,
        dialect: sale.dialect,
        orderId: payment.orderId,
        impUid: payment.impUid,
        transactionId: payment.transactionId,
        run: sale.run,
        amount: payment.amount,
        currency: payment.currency,
        noticeUrl: sale.noticeUrl,
        webhookVersion: sale.webhookVersion,
        outcome: payment.outcome,
        tokenExpiresAt,
        runIndex: firstIndex + index,
      };
      const refusal =
        this.store.refusalOf(opening) ??
        (seenOrders.has(payment.orderId) ? `order ${payment.orderId} appears twice` : null) ??
        (payment.impUid !== undefined && seenImpUids.has(payment.impUid) ? `imp_uid ${payment.impUid} appears twice` : null);
      if (refusal !== null) throw conflict(`payments[${index}]: ${refusal}; nothing of this chunk was registered`);
      seenOrders.add(payment.orderId);
      if (payment.impUid !== undefined) seenImpUids.add(payment.impUid);
      return opening;
    });

    this.#makeRoom(openings.length);
    const tally = existing ?? new RunTally(settings, this.settings.nowMs());
    this.#runs.set(sale.run, tally);
    const records = openings.map((opening) => this.store.open(opening));
    tally.registered(records.length, this.settings.nowMs());
    const result: RegistrationResult = { run: sale.run, registered: records.length, total: tally.summary.payments.registered };
    if (sale.api === 'v1' && sale.payments.some((payment) => payment.impUid === undefined)) result.impUids = records.map((record) => record.impUid!);
    if (sale.api === 'v2' && sale.payments.some((payment) => payment.transactionId === undefined)) result.transactionIds = records.map((record) => record.transactionId);
    if (this.#listening('payment')) for (const record of records) this.#announce('ready', record);
    // Listeners (the terminal log) learn of the sale, never of the tokens that would let them pay it.
    this.events.emit('sale', { ...result });
    if (manual) result.tokens = records.map(paymentTokenOf);
    return result;
  }

  /**
   * Applies the merchant's confirm answers as the run saw them: 200 → the PG charges or declines; anything
   * else, or no answer in time, fails the payment with the reason the gateway records. O(1) per answer.
   */
  answer(input: unknown): AnswersResult {
    const answers = checkAnswers(input);
    const result: AnswersResult = { accepted: 0, late: 0, unknown: 0 };
    let run: string | null = null;
    for (const answer of answers) {
      const record = this.#answerTarget(answer);
      // A manual-confirm payment goes on only when the merchant confirms it with its token.
      if (!record || record.manualConfirm !== null) {
        result.unknown += 1;
        continue;
      }
      run = record.run;
      const tally = record.run === null ? undefined : this.#runs.get(record.run);
      if (record.status !== 'ready' || record.confirmAnswer !== null) {
        result.late += 1;
        tally?.late();
        continue;
      }
      result.accepted += 1;
      const now = this.settings.nowMs();
      record.confirmAnswer = { at: now, status: answer.status };
      tally?.answered(answer.status, now);
      this.#afterConfirm(record, decisionOf(record.dialect, answer), answer.status === null ? 'no-answer' : 'refused', DEFAULT_DECLINE_REASON);
    }
    this.events.emit('answers', { ...result, run });
    return result;
  }

  #answerTarget(answer: ConfirmAnswerReport): PaymentRecord | undefined {
    const { orderId, run } = answer;
    const api = run === undefined ? undefined : this.#runs.get(run)?.summary.api;
    if (run !== undefined && api === undefined) return undefined;
    if (api !== 'v1') {
      const record = this.store.findByPaymentId(orderId);
      if (record) return run === undefined || record.run === run ? record : undefined;
      if (api === 'v2') return undefined;
    }
    return this.#readyV1(orderId, run);
  }

  /** V1: the latest payment of the order, in the run when one is named. */
  #readyV1(orderId: string, run: string | undefined): PaymentRecord | undefined {
    const list = this.store.paymentsOfMerchantUid(orderId);
    for (let index = list.length - 1; index >= 0; index -= 1) {
      const record = list[index]!;
      if (run === undefined || record.run === run) return record;
    }
    return undefined;
  }

  /** Charges, declines or fails a ready payment after the merchant's answer; sends the webhook that is due. */
  #afterConfirm(
    record: PaymentRecord,
    decision: Pick<GatewayDecision, 'proceed' | 'failReason'>,
    refusalKind: 'refused' | 'no-answer',
    declineReason: string,
    /** Whether a charge sends Transaction.Paid (manual confirm's skipWebhook); a failure's webhook is always sent. */
    paidWebhook = true,
  ): { charge: PaymentAttempt['charge']; webhook: Promise<WebhookDelivery> | null } {
    let charge: PaymentAttempt['charge'];
    if (!decision.proceed) {
      this.store.fail(record, { kind: refusalKind, reason: decision.failReason, pgCode: null, pgMessage: null });
      charge = 'not-attempted';
    } else if (this.pgDeclines(record)) {
      const failure: PaymentFailure = { kind: 'declined', reason: declineReason, pgCode: DECLINE_PG_CODE, pgMessage: declineReason };
      this.store.fail(record, failure);
      charge = 'declined';
    } else {
      charge = this.store.charge(record) ? 'approved' : 'not-attempted';
    }
    const tally = record.run === null ? undefined : this.#runs.get(record.run);
    tally?.settled(record, this.settings.nowMs());
    const paid = record.status === 'paid';
    this.#announce(paid ? 'paid' : charge === 'declined' ? 'declined' : 'failed', record);
    const webhook = paid && !paidWebhook ? null : this.#notify(record, paid ? { kind: 'paid' } : { kind: 'failed' });
    return { charge, webhook };
  }

  /** Whether the PG declines this payment now: its own outcome if it has one, else the run's or the gateway's decline rate. */
  pgDeclines(record: PaymentRecord): boolean {
    if (record.outcome !== null) return record.outcome === 'decline';
    const rate = record.run === null ? this.settings.declineRate : (this.#runs.get(record.run)?.summary.declineRate ?? this.settings.declineRate);
    return rate > 0 && this.settings.random() < rate;
  }

  /**
   * The merchant let a ready payment go on (V2 manual confirm: POST /payments/{id}/confirm): the PG charges
   * or declines it now, spending its payment token either way. Transaction.Paid follows unless `paidWebhook`
   * is false (the call's skipWebhook, which by PortOne's docs spares only the success webhook); a decline's
   * Transaction.Failed is always sent. `charge` says what the PG did: 'declined' is the API's PG_PROVIDER error.
   */
  settleApproved(
    record: PaymentRecord,
    options: { paidWebhook?: boolean; declineReason?: string } = {},
  ): { charge: PaymentAttempt['charge']; webhook: Promise<WebhookDelivery> | null } {
    if (record.status !== 'ready') throw conflict(`payment ${record.impUid ?? record.orderId} is ${record.status}, not ready`);
    const now = this.settings.nowMs();
    record.confirmedAt = now;
    if (record.manualConfirm) record.manualConfirm.tokenUsedAt = now;
    const settled = this.#afterConfirm(
      record,
      { proceed: true, failReason: null },
      'refused',
      options.declineReason ?? DEFAULT_DECLINE_REASON,
      options.paidWebhook ?? true,
    );
    if (settled.charge === 'approved' && record.manualConfirm) record.manualConfirm.confirmed += 1;
    return settled;
  }

  /**
   * Counts a manual-confirm call on the payment it names and on that payment's run: it charged the payment
   * (`succeeded`) or was refused with a V2 error type. Calls naming no payment count nowhere.
   */
  confirmCalled(record: PaymentRecord | undefined, outcome: 'succeeded' | CountedConfirmRefusal): void {
    if (!record) return;
    if (record.manualConfirm) record.manualConfirm.calls += 1;
    if (record.run !== null) this.#runs.get(record.run)?.confirmCalled(outcome, this.settings.nowMs());
  }

  /** The run is done with the gateway (it read its summary): its payments are the first forgotten. */
  end(run: string): SaleSummary {
    const tally = this.#runs.get(run);
    if (!tally) throw notFound(`no run ${run} has registered payments`);
    tally.summary.ended = true;
    const summary = tally.snapshot();
    this.events.emit('ended', summary);
    return summary;
  }

  // ---- retention -----------------------------------------------------------------------------------------

  /**
   * Makes room for `incoming` payments under the retention limit by forgetting the oldest completed ones:
   * never one with a webhook still owed, never one of a run still being summarized (changed within the grace
   * period and not ended). When that is not enough, the registration is refused rather than memory grown.
   */
  #makeRoom(incoming: number): void {
    const limit = this.settings.maxPayments;
    if (this.store.size + incoming <= limit) return;
    if (incoming > limit) {
      throw conflict(`${incoming} payments are more than the gateway keeps (${limit}); start it with a higher --max-payments`);
    }
    const now = this.settings.nowMs();
    const keep = Math.max(0, Math.floor(limit * (1 - RETENTION_MARGIN)) - incoming);
    const forgotten = this.store.forgetOldest(keep, (record) => this.#canForget(record, now));
    for (const record of forgotten) {
      const tally = record.run === null ? undefined : this.#runs.get(record.run);
      if (tally) tally.summary.forgotten += 1;
    }
    this.#dropForgottenRuns(now);
    if (this.store.size + incoming > limit) {
      throw conflict(
        `the gateway keeps at most ${limit} payments and ${this.store.size} are still in use (runs changed in the last ${Math.round(this.settings.retentionGraceMs / 60_000)} min, webhooks still owed); end finished runs (POST /sim/sales/{run}/end) or start it with a higher --max-payments`,
      );
    }
  }

  #canForget(record: PaymentRecord, now: number): boolean {
    for (const webhook of record.webhooks) if (webhook.state === 'pending') return false;
    if (record.run === null) return record.status !== 'ready';
    const tally = this.#runs.get(record.run);
    return tally === undefined || tally.summary.ended || now - tally.summary.updatedAt > this.settings.retentionGraceMs;
  }

  /** Summaries are small, but not free: past MAX_RUN_SUMMARIES the oldest of runs with nothing kept go. */
  #dropForgottenRuns(now: number): void {
    if (this.#runs.size <= MAX_RUN_SUMMARIES) return;
    for (const [run, tally] of this.#runs) {
      if (this.#runs.size <= MAX_RUN_SUMMARIES) break;
      const { summary } = tally;
      const finished = summary.ended || now - summary.updatedAt > this.settings.retentionGraceMs;
      if (finished && summary.forgotten === summary.payments.registered) this.#runs.delete(run);
    }
  }

  // ---- one-off payments (POST /sim/payments, the library's requestPayment) -------------------------------

  prepare(request: PrepareRequest): PaymentPreparation {
    return this.prepareFromFields({ ...request });
  }

  /** POST /payments/prepare: registers the amount an order must be paid with. */
  prepareFromFields(fields: RequestFields): PaymentPreparation {
    return { ...this.store.prepare(preparationFrom(fields)) };
  }

  /** PUT /payments/prepare: changes a registered amount. */
  editPreparationFromFields(fields: RequestFields): PaymentPreparation {
    return { ...this.store.editPreparation(preparationFrom(fields)) };
  }

  /**
   * Plays IMP.request_pay: opens a `ready` payment, asks the merchant's confirm endpoint, then charges or
   * fails it and sends the webhook that is due. Rejects with GatewayApiError when the gateway would not even
   * open the payment window (bad input, a prepared amount that differs, an order already paid).
   */
  requestPayment(request: PaymentRequest): Promise<PaymentAttempt> {
    return this.requestPaymentFromFields({ ...request });
  }

  /** The same from fields as they arrive over HTTP, unchecked: every one is checked here. */
  async requestPaymentFromFields(fields: RequestFields): Promise<PaymentAttempt> {
    const { record, confirmUrl, declineReason } = this.#openOneOff(fields, false);
    let confirm: ConfirmReport | null = null;
    let decision: Pick<GatewayDecision, 'proceed' | 'failReason'> = { proceed: true, failReason: null };
    let refusalKind: 'refused' | 'no-answer' = 'refused';
    if (confirmUrl !== null) {
      const fired = await fireConfirm({
        url: confirmUrl,
        dialect: record.dialect,
        order: {
          merchantUid: record.orderId,
          impUid: record.impUid ?? '',
          amount: record.amount,
          status: 'ready',
          transactionId: record.transactionId,
          storeId: this.settings.storeId,
        },
        secret: isV2(record.dialect) ? this.settings.secret : undefined,
        timeoutMs: this.settings.confirmTimeoutMs,
        signal: this.#closing.signal,
      });
      confirm = { url: confirmUrl, dialect: record.dialect, answer: fired.answer, decision: fired.decision };
      const now = this.settings.nowMs();
      const status = fired.answer.kind === 'http' ? fired.answer.status : null;
      record.confirmAnswer = { at: now, status };
      this.events.emit('confirm', { orderId: record.orderId, impUid: record.impUid, confirm });
      decision = fired.decision;
      refusalKind = status === null ? 'no-answer' : 'refused';
    }
    const { charge, webhook } = this.#afterConfirm(record, decision, refusalKind, declineReason);
    const delivery = webhook === null ? null : await webhook;
    return { schemaVersion: 1, payment: this.v1View(record), timeline: this.timelineOf(record), confirm, charge, webhook: delivery };
  }

  /**
   * Plays PortOne.requestPayment on a manual-confirm channel: the buyer authenticates, nothing is charged, and
   * the payment waits READY for the merchant's POST /payments/{paymentId}/confirm with the token returned here.
   */
  requestManualPayment(request: ManualPaymentRequest): PaymentToken {
    return this.requestManualPaymentFromFields({ ...request });
  }

  /** The same from fields as they arrive over HTTP (POST /sim/payments with flow manual-confirm). */
  requestManualPaymentFromFields(fields: RequestFields): PaymentToken {
    const { flow: _flow, ...rest } = fields;
    return paymentTokenOf(this.#openOneOff({ dialect: 'v2-2024-04-25', ...rest }, true).record);
  }

  /** Opens a one-off payment (no run) from request_pay's fields, refusing what the gateway would not open. */
  #openOneOff(fields: RequestFields, manual: boolean): { record: PaymentRecord; confirmUrl: string | null; declineReason: string } {
    const limits = PAYMENT_FIELD_LIMITS;
    const dialect = optionalChoice(fields, 'dialect', DIALECTS) ?? 'v1';
    const api: ApiVersion = isV2(dialect) ? 'v2' : 'v1';
    const pg = pgOf(fields);
    const orderId = requiredString(fields, 'merchant_uid', limits.merchant_uid);
    const currency = optionalCurrency(fields, 'currency') ?? DEFAULT_CURRENCY;
    const amount = requiredAmount(fields, 'amount', currency);
    const details: PaymentDetails = {
      name: optionalString(fields, 'name', limits.name) ?? null,
      payMethod: optionalPayMethod(fields, 'pay_method') ?? 'card',
      pgProvider: pg.provider,
      pgId: pg.mid,
      buyerName: optionalString(fields, 'buyer_name', limits.buyer_name) ?? null,
      buyerEmail: optionalString(fields, 'buyer_email', limits.buyer_email) ?? null,
      buyerTel: optionalString(fields, 'buyer_tel', limits.buyer_tel) ?? null,
      buyerAddr: optionalString(fields, 'buyer_addr', limits.buyer_addr) ?? null,
      buyerPostcode: optionalString(fields, 'buyer_postcode', limits.buyer_postcode) ?? null,
      customData: customData(fields.custom_data),
      userAgent: optionalString(fields, 'user_agent') ?? null,
    };
    const noticeUrl = optionalUrl(fields, 'notice_url');
    const confirmUrl = optionalUrl(fields, 'confirm_url');
    const outcome = optionalChoice(fields, 'outcome', OUTCOMES) ?? null;
    const declineReason = optionalString(fields, 'decline_reason') ?? DEFAULT_DECLINE_REASON;
    if (manual && api !== 'v2') {
      throw badRequest(`flow manual-confirm is a V2 flow; leave dialect out or give a V2 one (v2-2024-04-25, v2-2024-01-01), not ${dialect}`);
    }
    if (manual && confirmUrl !== null) {
      throw badRequest('flow manual-confirm calls no confirm_url: the merchant confirms with the payment token; leave confirm_url out');
    }
    if (manual && fields.decline_reason !== undefined) {
      throw badRequest('decline_reason is not kept for manual-confirm payments; a decline answers PG_PROVIDER with the default reason');
    }
    if (api === 'v2' && this.settings.secret === undefined && (confirmUrl !== null || noticeUrl !== null)) {
      throw badRequest(
        `dialect ${dialect} signs the confirm call and webhooks, but the gateway has no webhook secret; start it with one (--secret whsec_...)`,
      );
    }
    this.store.checkPreparation(orderId, amount, currency);
    const opening = {
      api,
      dialect,
      orderId,
      run: null,
      amount,
      currency,
      details,
      noticeUrl,
      webhookVersion: api === 'v2' ? (dialect === 'v2-2024-01-01' ? '2024-01-01' : '2024-04-25') : null,
      outcome,
      tokenExpiresAt: manual ? this.settings.nowMs() + this.settings.paymentTokenLifetimeMs : undefined,
    } as const;
    const refusal = this.store.refusalOf(opening);
    if (refusal !== null) throw conflict(refusal);
    this.#makeRoom(1);
    const record = this.store.open(opening);
    this.#announce('ready', record);
    return { record, confirmUrl, declineReason };
  }

  // ---- cancels -------------------------------------------------------------------------------------------

  /**
   * Cancels all or part of a paid payment, whichever API asked; the webhook is sent when `webhook` is true
   * (V1's REST API only on enable_webhook, V2 always). Resolves once the webhook's first attempt is made.
   */
  async cancel(
    record: PaymentRecord,
    request: CancelRequest,
    options: { webhook: boolean },
  ): Promise<{ cancellation: PaymentCancellation; webhook: WebhookDelivery | null }> {
    const wasPartial = record.status === 'paid' && record.cancelledAmount > 0;
    const cancellation = this.store.cancel(record, request);
    const full = record.status === 'cancelled';
    if (record.run !== null) this.#runs.get(record.run)?.cancelled(record, full, wasPartial, this.settings.nowMs());
    this.#announce(full ? 'cancelled' : 'partially-cancelled', record);
    const webhook = options.webhook ? this.#notify(record, { kind: 'cancelled', cancellation }) : null;
    return { cancellation, webhook: webhook === null ? null : await webhook };
  }

  /** Cancels through the V1 API's target rules, as POST /payments/cancel does. */
  cancelPayment(request: CancelPaymentRequest): Promise<CancelResult> {
    return this.cancelPaymentFromFields({ ...request });
  }

  /** The same from fields as they arrive over HTTP. */
  async cancelPaymentFromFields(fields: RequestFields): Promise<CancelResult> {
    const target = cancelTargetFrom(fields);
    const record = this.store.cancelTarget(target);
    const request = cancelRequestFrom(fields, target, record.currency);
    const { cancellation, webhook } = await this.cancel(record, request, { webhook: request.enable_webhook === true });
    return { schemaVersion: 1, payment: this.v1View(record), cancellation, webhook };
  }

  // ---- webhooks and events -------------------------------------------------------------------------------

  #notify(record: PaymentRecord, trigger: WebhookTrigger): Promise<WebhookDelivery> | null {
    const webhook = buildWebhook(record, trigger, {
      signed: this.settings.secret !== undefined,
      storeId: this.settings.storeId,
      now: new Date(this.settings.nowMs()),
    });
    if (webhook === null) return null;
    if (record.run !== null) this.#runs.get(record.run)?.webhookOwed();
    const retries = record.api === 'v2' ? V2_RETRY_DELAYS_MS : this.settings.v1WebhookRetries ? V1_RETRY_DELAYS_MS : [];
    return this.#webhooks.deliver(record, webhook, retries);
  }

  #webhookAttempted(record: PaymentRecord, webhook: WebhookRecord, delivery: WebhookDelivery): void {
    if (record.run !== null) this.#runs.get(record.run)?.webhookAttempted(delivery.retry, webhook.state, record.orderId, this.settings.nowMs());
    this.events.emit('webhook', delivery);
  }

  #listening(event: keyof GatewayEvents & string): boolean {
    return this.events.listenerCount(event) > 0;
  }

  #announce(change: PaymentChange, record: PaymentRecord): void {
    if (!this.#listening('payment')) return;
    this.events.emit('payment', {
      change,
      payment: {
        api: record.api,
        run: record.run,
        orderId: record.orderId,
        impUid: record.impUid,
        amount: record.amount,
        currency: record.currency,
        status: record.status,
        failReason: record.failure?.reason ?? null,
        cancelledAmount: record.cancelledAmount,
      },
    });
  }

  async close(): Promise<void> {
    this.#closing.abort(new Error('the gateway is closing'));
    await this.#webhooks.close();
  }
}
