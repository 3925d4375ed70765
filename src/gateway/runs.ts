import type { Dialect } from '../protocol/index.js';
import type { ApiVersion, PaymentRecord, WebhookVersion } from './payments.js';
import type { SaleFlow } from './sim/sales.js';

/** The refusals of POST /payments/{paymentId}/confirm a run's summary counts, by the V2 error type. */
export const COUNTED_CONFIRM_REFUSALS = ['ALREADY_PAID', 'INFORMATION_MISMATCH', 'INVALID_PAYMENT_TOKEN', 'PAYMENT_NOT_FOUND', 'PG_PROVIDER'] as const;
export type CountedConfirmRefusal = (typeof COUNTED_CONFIRM_REFUSALS)[number];

/** A payment's character in the run's status line (GET /sim/sales/{run}/statuses). */
export type StatusLetter = 'R' | 'P' | 'F' | 'C' | 'X' | 'D';

/** How many order ids a summary lists per kind: enough to look some up, never a dump. */
export const SUMMARY_EXAMPLES = 10;
/** A run's series keep at most this many buckets: widths grow (1, 5, 10, 50 ... ms) rather than the arrays. */
export const SALE_TIMELINE_BUCKETS = 300;

/**
 * When the sale's payments changed, per bucket of `bucketMs` from `originMs` (epoch ms of the first change
 * recorded): compact whatever the run's size, so a run can draw its payments over time. Arrays end at the
 * last bucket with something in it.
 */
export interface SaleTimeline {
  originMs: number;
  bucketMs: number;
  /** Payments charged. */
  paid: number[];
  /** Payments the merchant said 200 to that the PG then declined. */
  declined: number[];
  /** Webhook delivery attempts made (first tries and retries). */
  webhookAttempts: number[];
  /** Attempts the merchant did not answer 2xx. */
  webhookFailures: number[];
}

/**
 * The sale's truth as the gateway saw it: every count is kept as payments change, never by scanning, so it
 * stays exact however many payments the store has since forgotten.
 */
export interface SaleSummary {
  schemaVersion: 1;
  run: string;
  api: ApiVersion;
  dialect: Dialect;
  webhookVersion: WebhookVersion | null;
  noticeUrl: string | null;
  /** The probability that the PG declines a payment the merchant said 200 to (per-payment outcomes win). */
  declineRate: number;
  /** How the payments go on: the gateway asks the confirm URL, or the merchant confirms each with its token. */
  flow: SaleFlow;
  /** manual-confirm: how long each payment token is valid from registration; null for confirm-process. */
  tokenLifetimeMs: number | null;
  payments: {
    registered: number;
    /** Still waiting for the merchant's confirm answer. */
    ready: number;
    /** Charged; includes partially cancelled ones. */
    paid: number;
    /** The merchant said 200, then the PG declined. */
    declined: number;
    /** The merchant's answer was not 200 or did not come (or another payment of the order was charged first). */
    failed: number;
    /** Fully cancelled after being paid. */
    cancelled: number;
    partiallyCancelled: number;
  };
  answers: {
    /** Answers applied to a ready payment. */
    received: number;
    ok: number;
    refused: number;
    /** Reported as no answer in time. */
    unanswered: number;
    /** Answers for a payment that was no longer ready (a second answer): ignored. */
    late: number;
  };
  /**
   * manual-confirm: POST /payments/{paymentId}/confirm calls naming a payment of this run (by its paymentId, or
   * by its token when the paymentId was wrong); confirmCalls = confirmsSucceeded + every refusal counted.
   */
  confirmCalls: number;
  /** Confirm calls that charged a payment. */
  confirmsSucceeded: number;
  /** Confirm calls refused, by error type (PG_PROVIDER: the PG declined and the payment failed). */
  confirmsRefused: Record<CountedConfirmRefusal, number>;
  webhooks: {
    /** Webhooks owed (each sent at least once unless still queued). */
    sent: number;
    delivered: number;
    /** Retry attempts made. */
    retried: number;
    /** Given up after the last retry without a 2xx. */
    unanswered: number;
    /** Queued, in flight or waiting for a retry. */
    pending: number;
  };
  examples: {
    declined: string[];
    failed: string[];
    unansweredWebhooks: string[];
  };
  /** Payments of the run the gateway has forgotten under its retention limit; the counts above still include them. */
  forgotten: number;
  /** True once the run said it is done (its payments are then the first forgotten). */
  ended: boolean;
  /** Epoch ms. */
  startedAt: number;
  updatedAt: number;
  /** The changes above over time; absent before the first one (and from gateways older than it). */
  timeline?: SaleTimeline;
}

/** What a run is registered with: the summary's settings, which it reports back unchanged. */
export type RunSettings = Pick<SaleSummary, 'run' | 'api' | 'dialect' | 'webhookVersion' | 'noticeUrl' | 'declineRate' | 'flow' | 'tokenLifetimeMs'>;

const LETTER: Record<StatusLetter, number> = { R: 0x52, P: 0x50, F: 0x46, C: 0x43, X: 0x58, D: 0x44 };

function pushExample(list: string[], orderId: string): void {
  if (list.length < SUMMARY_EXAMPLES) list.push(orderId);
}

type SeriesName = 'paid' | 'declined' | 'webhookAttempts' | 'webhookFailures';

/** Counts per time bucket whose width grows by ×5, ×2, ×5 ... so the arrays never pass their limit. */
export class SaleTimelineRecorder {
  #timeline: SaleTimeline | null = null;

  constructor(private readonly maxBuckets = SALE_TIMELINE_BUCKETS) {}

  add(series: SeriesName, nowMs: number): void {
    const timeline = (this.#timeline ??= { originMs: Math.floor(nowMs), bucketMs: 1, paid: [], declined: [], webhookAttempts: [], webhookFailures: [] });
    const sinceMs = Math.max(0, nowMs - timeline.originMs);
    while (sinceMs >= timeline.bucketMs * this.maxBuckets) this.#widen(timeline);
    const bucket = Math.floor(sinceMs / timeline.bucketMs);
    const values = timeline[series];
    while (values.length <= bucket) values.push(0);
    values[bucket]! += 1;
  }

  #widen(timeline: SaleTimeline): void {
    const factor = String(timeline.bucketMs).startsWith('1') ? 5 : 2;
    timeline.bucketMs *= factor;
    for (const name of ['paid', 'declined', 'webhookAttempts', 'webhookFailures'] as const) {
      const folded: number[] = [];
      timeline[name].forEach((count, bucket) => {
        const into = Math.floor(bucket / factor);
        while (folded.length <= into) folded.push(0);
        folded[into]! += count;
      });
      timeline[name] = folded;
    }
  }

  snapshot(): SaleTimeline | undefined {
    return this.#timeline === null ? undefined : structuredClone(this.#timeline);
  }
}

/** One run's counters; the gateway calls these at every transition of one of its payments. */
export class RunTally {
  readonly summary: SaleSummary;
  /** One ASCII letter per registered payment: exact even for payments the store has forgotten. */
  #statuses = new Uint8Array(64);
  readonly #timeline = new SaleTimelineRecorder();

  constructor(settings: RunSettings, nowMs: number) {
    this.summary = {
      schemaVersion: 1,
      ...settings,
      payments: { registered: 0, ready: 0, paid: 0, declined: 0, failed: 0, cancelled: 0, partiallyCancelled: 0 },
      answers: { received: 0, ok: 0, refused: 0, unanswered: 0, late: 0 },
      confirmCalls: 0,
      confirmsSucceeded: 0,
      confirmsRefused: { ALREADY_PAID: 0, INFORMATION_MISMATCH: 0, INVALID_PAYMENT_TOKEN: 0, PAYMENT_NOT_FOUND: 0, PG_PROVIDER: 0 },
      webhooks: { sent: 0, delivered: 0, retried: 0, unanswered: 0, pending: 0 },
      examples: { declined: [], failed: [], unansweredWebhooks: [] },
      forgotten: 0,
      ended: false,
      startedAt: nowMs,
      updatedAt: nowMs,
    };
  }

  matches(settings: RunSettings): string | null {
    const { summary } = this;
    for (const key of ['api', 'dialect', 'webhookVersion', 'noticeUrl', 'declineRate', 'flow', 'tokenLifetimeMs'] as const) {
      if (summary[key] !== settings[key]) {
        return `run ${settings.run} was registered with ${key} ${JSON.stringify(summary[key])}, not ${JSON.stringify(settings[key])}; a run's chunks share their settings`;
      }
    }
    return null;
  }

  /** The index the next registered payment gets in the status line. */
  get nextIndex(): number {
    return this.summary.payments.registered;
  }

  registered(count: number, nowMs: number): void {
    const from = this.summary.payments.registered;
    const needed = from + count;
    if (needed > this.#statuses.length) {
      const grown = new Uint8Array(Math.max(needed, this.#statuses.length * 2));
      grown.set(this.#statuses.subarray(0, from));
      this.#statuses = grown;
    }
    this.#statuses.fill(LETTER.R, from, needed);
    this.summary.payments.registered += count;
    this.summary.payments.ready += count;
    this.summary.updatedAt = nowMs;
  }

  #mark(record: PaymentRecord, letter: StatusLetter): void {
    if (record.runIndex !== null) this.#statuses[record.runIndex] = LETTER[letter];
  }

  /** The status line: one letter per registered payment, in registration order. */
  statusLine(): string {
    return Buffer.from(this.#statuses.buffer, this.#statuses.byteOffset, this.summary.payments.registered).toString('latin1');
  }

  /** A manual-confirm call naming one of the run's payments: it charged it, or was refused with `refusal`. */
  confirmCalled(outcome: 'succeeded' | CountedConfirmRefusal, nowMs: number): void {
    this.summary.confirmCalls += 1;
    if (outcome === 'succeeded') this.summary.confirmsSucceeded += 1;
    else this.summary.confirmsRefused[outcome] += 1;
    this.summary.updatedAt = nowMs;
  }

  answered(status: number | null, nowMs: number): void {
    const { answers } = this.summary;
    answers.received += 1;
    if (status === 200) answers.ok += 1;
    else if (status === null) answers.unanswered += 1;
    else answers.refused += 1;
    this.summary.updatedAt = nowMs;
  }

  late(): void {
    this.summary.answers.late += 1;
  }

  /** A ready payment was charged, declined or failed. */
  settled(record: PaymentRecord, nowMs: number): void {
    const { payments, examples } = this.summary;
    payments.ready -= 1;
    this.#mark(record, record.status === 'paid' ? 'P' : 'F');
    if (record.status === 'paid') {
      payments.paid += 1;
      this.#timeline.add('paid', nowMs);
    } else if (record.failure?.kind === 'declined') {
      payments.declined += 1;
      this.#timeline.add('declined', nowMs);
      pushExample(examples.declined, record.orderId);
    } else {
      payments.failed += 1;
      pushExample(examples.failed, record.orderId);
    }
    this.summary.updatedAt = nowMs;
  }

  /** A paid payment was cancelled, in part or (when `full`) entirely; `wasPartial` if it had been before. */
  cancelled(record: PaymentRecord, full: boolean, wasPartial: boolean, nowMs: number): void {
    const { payments } = this.summary;
    this.#mark(record, full ? 'C' : 'X');
    if (full) {
      payments.paid -= 1;
      payments.cancelled += 1;
      if (wasPartial) payments.partiallyCancelled -= 1;
    } else if (!wasPartial) {
      payments.partiallyCancelled += 1;
    }
    this.summary.updatedAt = nowMs;
  }

  webhookOwed(): void {
    this.summary.webhooks.sent += 1;
    this.summary.webhooks.pending += 1;
  }

  webhookAttempted(retry: number, outcome: 'delivered' | 'unanswered' | 'pending', orderId: string, nowMs: number): void {
    const { webhooks, examples } = this.summary;
    this.summary.updatedAt = nowMs;
    this.#timeline.add('webhookAttempts', nowMs);
    if (outcome !== 'delivered') this.#timeline.add('webhookFailures', nowMs);
    if (retry > 0) webhooks.retried += 1;
    if (outcome === 'pending') return;
    webhooks.pending -= 1;
    if (outcome === 'delivered') webhooks.delivered += 1;
    else {
      webhooks.unanswered += 1;
      pushExample(examples.unansweredWebhooks, orderId);
    }
  }

  /** A copy a caller may keep. */
  snapshot(): SaleSummary {
    const summary = structuredClone(this.summary);
    const timeline = this.#timeline.snapshot();
    if (timeline) summary.timeline = timeline;
    return summary;
  }
}
