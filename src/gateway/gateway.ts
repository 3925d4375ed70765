import { abortableByAll } from '../util/abort.js';
import {
  DIALECTS,
  isV2,
  type Dialect,
  type GatewayDecision,
  type WebhookSecret,
} from '../protocol/index.js';
import { fireConfirm, type FireAnswer } from '../fire/index.js';
import { TypedEmitter } from '../util/events.js';
import { UsageError } from '../util/errors.js';
import { parseHttpUrl } from '../util/url.js';
import { badRequest } from './errors.js';
import {
  optionalBoolean,
  optionalChoice,
  optionalNumber,
  optionalString,
  requiredAmount,
  requiredString,
  type RequestFields,
} from './fields.js';
import {
  PAYMENT_FIELD_LIMITS,
  PaymentLedger,
  type CancelRequest,
  type GatewayPayment,
  type PaymentCancellation,
  type PaymentDraft,
  type PaymentPreparation,
  type PaymentRecord,
} from './payments.js';
import { buildWebhook, WebhookSender, type WebhookDelivery, type WebhookTrigger } from './webhooks.js';

export const OUTCOMES = ['approve', 'decline'] as const;
/** What the simulated card company does once the merchant's confirm endpoint lets the charge go on. */
export type Outcome = (typeof OUTCOMES)[number];

export const DEFAULT_PG_PROVIDER = 'html5_inicis';
export const DEFAULT_DECLINE_REASON = '[confirm-sim] 카드사 승인거절 (simulated decline)';

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
  /** Default 'approve'. */
  outcome?: Outcome;
  /** The fail_reason of a declined charge. */
  decline_reason?: string;
}

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

/** What became of one request_pay: the payment as the REST API now shows it and every call the gateway made. */
export interface PaymentAttempt {
  schemaVersion: 1;
  payment: GatewayPayment;
  /** null when no confirm_url was given: the gateway charged without asking. */
  confirm: ConfirmReport | null;
  /** What the card company did; 'not-attempted' when the confirm answer (or an earlier payment of the order) stopped it. */
  charge: 'approved' | 'declined' | 'not-attempted';
  /** null when no webhook was due (no notice_url, or a V1 payment that failed). */
  webhook: WebhookDelivery | null;
}

export interface CancelPaymentRequest extends CancelRequest {
  /** Sends the cancellation webhook; the REST API's default is not to. */
  enable_webhook?: boolean | undefined;
}

export interface CancelResult {
  schemaVersion: 1;
  payment: GatewayPayment;
  cancellation: PaymentCancellation;
  webhook: WebhookDelivery | null;
}

export type PaymentChange = 'ready' | 'paid' | 'failed' | 'cancelled' | 'partially-cancelled';

export type GatewayEvents = {
  /** Every HTTP request the gateway answered. */
  request: { method: string; path: string; status: number; code: number; durationMs: number };
  payment: { change: PaymentChange; payment: GatewayPayment };
  confirm: { imp_uid: string; confirm: ConfirmReport };
  webhook: WebhookDelivery;
};

export interface GatewaySettings {
  secret: WebhookSecret | undefined;
  storeId: string | undefined;
  confirmTimeoutMs: number;
  nowMs: () => number;
  receiptUrlFor: (impUid: string) => string;
}

function snapshot(payment: GatewayPayment): GatewayPayment {
  return structuredClone(payment);
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

function preparationFrom(fields: RequestFields): PaymentPreparation {
  return {
    merchant_uid: requiredString(fields, 'merchant_uid', PAYMENT_FIELD_LIMITS.merchant_uid),
    amount: requiredAmount(fields, 'amount'),
    currency: optionalString(fields, 'currency') ?? null,
  };
}

function cancelRequestFrom(fields: RequestFields): CancelPaymentRequest {
  return {
    imp_uid: optionalString(fields, 'imp_uid'),
    merchant_uid: optionalString(fields, 'merchant_uid'),
    amount: optionalNumber(fields, 'amount'),
    reason: optionalString(fields, 'reason'),
    checksum: optionalNumber(fields, 'checksum'),
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

/** The lifecycle of payments around the confirm call: opening, confirming, charging, cancelling, notifying. */
export class Gateway {
  readonly events = new TypedEmitter<GatewayEvents>();
  readonly ledger: PaymentLedger;
  readonly #webhooks = new WebhookSender();
  /** Aborts confirm calls still waiting for a merchant when the gateway closes. */
  readonly #closing = abortableByAll();

  constructor(private readonly settings: GatewaySettings) {
    this.ledger = new PaymentLedger(settings.receiptUrlFor, () => this.#nowSeconds());
  }

  #nowSeconds(): number {
    return Math.floor(this.settings.nowMs() / 1000);
  }

  payments(): GatewayPayment[] {
    return this.ledger.all().map((record) => snapshot(record.payment));
  }

  prepare(request: PrepareRequest): PaymentPreparation {
    return this.prepareFromFields({ ...request });
  }

  /** POST /payments/prepare: registers the amount an order must be paid with. */
  prepareFromFields(fields: RequestFields): PaymentPreparation {
    return { ...this.ledger.prepare(preparationFrom(fields)) };
  }

  /** PUT /payments/prepare: changes a registered amount. */
  editPreparationFromFields(fields: RequestFields): PaymentPreparation {
    return { ...this.ledger.editPreparation(preparationFrom(fields)) };
  }

  #draft(fields: RequestFields): { draft: PaymentDraft; confirmUrl: string | null; outcome: Outcome; declineReason: string } {
    const limits = PAYMENT_FIELD_LIMITS;
    const dialect = optionalChoice(fields, 'dialect', DIALECTS) ?? 'v1';
    const pg = pgOf(fields);
    const draft: PaymentDraft = {
      merchant_uid: requiredString(fields, 'merchant_uid', limits.merchant_uid),
      amount: requiredAmount(fields, 'amount'),
      currency: optionalString(fields, 'currency') ?? 'KRW',
      name: optionalString(fields, 'name', limits.name) ?? null,
      pay_method: optionalString(fields, 'pay_method', limits.pay_method) ?? 'card',
      pg_provider: pg.provider,
      pg_id: pg.mid,
      buyer_name: optionalString(fields, 'buyer_name', limits.buyer_name) ?? null,
      buyer_email: optionalString(fields, 'buyer_email', limits.buyer_email) ?? null,
      buyer_tel: optionalString(fields, 'buyer_tel', limits.buyer_tel) ?? null,
      buyer_addr: optionalString(fields, 'buyer_addr', limits.buyer_addr) ?? null,
      buyer_postcode: optionalString(fields, 'buyer_postcode', limits.buyer_postcode) ?? null,
      custom_data: customData(fields.custom_data),
      user_agent: optionalString(fields, 'user_agent') ?? null,
      dialect,
      notice_url: optionalUrl(fields, 'notice_url'),
    };
    const confirmUrl = optionalUrl(fields, 'confirm_url');
    if (isV2(dialect) && this.settings.secret === undefined && (confirmUrl !== null || draft.notice_url !== null)) {
      throw badRequest(
        `dialect ${dialect} signs the confirm call and webhooks, but the gateway has no webhook secret; start it with one (--secret whsec_...)`,
      );
    }
    return {
      draft,
      confirmUrl,
      outcome: optionalChoice(fields, 'outcome', OUTCOMES) ?? 'approve',
      declineReason: optionalString(fields, 'decline_reason') ?? DEFAULT_DECLINE_REASON,
    };
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
    const { draft, confirmUrl, outcome, declineReason } = this.#draft(fields);
    const record = this.ledger.open(draft);
    this.#announce('ready', record);

    let confirm: ConfirmReport | null = null;
    if (confirmUrl !== null) {
      const { payment } = record;
      const fired = await fireConfirm({
        url: confirmUrl,
        dialect: record.dialect,
        order: {
          merchantUid: payment.merchant_uid,
          impUid: payment.imp_uid,
          amount: payment.amount,
          status: payment.status,
          transactionId: record.transactionId,
          storeId: this.settings.storeId,
        },
        secret: isV2(record.dialect) ? this.settings.secret : undefined,
        timeoutMs: this.settings.confirmTimeoutMs,
        signal: this.#closing.signal,
      });
      confirm = { url: confirmUrl, dialect: record.dialect, answer: fired.answer, decision: fired.decision };
      this.events.emit('confirm', { imp_uid: payment.imp_uid, confirm });
      if (!fired.decision.proceed) {
        this.ledger.fail(record, fired.decision.failReason);
        return this.#settle(record, confirm, 'not-attempted');
      }
    }
    if (outcome === 'decline') {
      this.ledger.fail(record, declineReason);
      return this.#settle(record, confirm, 'declined');
    }
    return this.#settle(record, confirm, this.ledger.charge(record) ? 'approved' : 'not-attempted');
  }

  async #settle(
    record: PaymentRecord,
    confirm: ConfirmReport | null,
    charge: PaymentAttempt['charge'],
  ): Promise<PaymentAttempt> {
    const paid = record.payment.status === 'paid';
    this.#announce(paid ? 'paid' : 'failed', record);
    const webhook = await this.#notify(record, paid ? { kind: 'paid' } : { kind: 'failed' });
    return { schemaVersion: 1, payment: snapshot(record.payment), confirm, charge, webhook };
  }

  /** Cancels all or part of a paid payment, as POST /payments/cancel does. */
  cancelPayment(request: CancelPaymentRequest): Promise<CancelResult> {
    return this.cancelPaymentFromFields({ ...request });
  }

  /** The same from fields as they arrive over HTTP. */
  async cancelPaymentFromFields(fields: RequestFields): Promise<CancelResult> {
    const request = cancelRequestFrom(fields);
    const { record, cancellation } = this.ledger.cancel(request);
    this.#announce(record.payment.status === 'cancelled' ? 'cancelled' : 'partially-cancelled', record);
    const webhook = request.enable_webhook ? await this.#notify(record, { kind: 'cancelled', cancellation }) : null;
    return { schemaVersion: 1, payment: snapshot(record.payment), cancellation, webhook };
  }

  async #notify(record: PaymentRecord, trigger: WebhookTrigger): Promise<WebhookDelivery | null> {
    const message = buildWebhook(record, trigger, {
      secret: this.settings.secret,
      storeId: this.settings.storeId,
      now: new Date(this.settings.nowMs()),
    });
    if (message === null) return null;
    const delivery = await this.#webhooks.send(record.payment.imp_uid, message);
    this.events.emit('webhook', delivery);
    return delivery;
  }

  #announce(change: PaymentChange, record: PaymentRecord): void {
    this.events.emit('payment', { change, payment: snapshot(record.payment) });
  }

  async close(): Promise<void> {
    this.#closing.abort(new Error('the gateway is closing'));
    await this.#webhooks.close();
  }
}
