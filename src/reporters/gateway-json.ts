import type { TypedEmitter } from '../util/events.js';
import type { GatewayEvents, PaymentChange, SaleSummary } from '../gateway/index.js';

export const GATEWAY_SESSION_KIND = 'confirm-sim.gateway-session';
export const GATEWAY_SESSION_SCHEMA_VERSION = 1;

export interface PaymentChangeCounts {
  /** Payments registered (by a run, or one-off through POST /sim/payments): each one's first state, ready. */
  registered: number;
  paid: number;
  declined: number;
  failed: number;
  cancelled: number;
  partiallyCancelled: number;
}

/**
 * What `confirm-sim gateway --json` writes when the gateway stops: everything it saw while it ran.
 * Documented in docs/gateway-session-schema.md.
 */
export interface GatewaySession {
  schemaVersion: typeof GATEWAY_SESSION_SCHEMA_VERSION;
  kind: typeof GATEWAY_SESSION_KIND;
  url: string;
  /** ISO 8601. */
  startedAt: string;
  stoppedAt: string;
  durationMs: number;
  requests: {
    total: number;
    /** By "METHOD /route STATUS[ outcome]", e.g. "POST /payments/{imp_uid} 200" or "GET /payments/{imp_uid} 404 code 1". */
    byKind: Record<string, number>;
  };
  /** Every payment change the gateway made, over all runs and one-off payments. */
  payments: PaymentChangeCounts;
  /** One-off payments (POST /sim/payments without a run) only. */
  oneOffPayments: PaymentChangeCounts;
  /** Each run that registered payments, as GET /sim/sales/{run} showed it when the gateway stopped (without its timeline). */
  runs: Array<Omit<SaleSummary, 'timeline'>>;
  webhooks: {
    /** Every attempt, retries included. */
    attempts: number;
    /** First sends (retry 0). */
    sent: number;
    /** Retry attempts. */
    retried: number;
    /** Attempts answered 2xx. */
    delivered: number;
    /** Attempts not answered 2xx (an error, a timeout or another status). */
    failed: number;
    /** Webhooks given up on: their last attempt was not answered 2xx. */
    gaveUp: number;
  };
  confirms: {
    /** Confirm calls the gateway made itself (POST /sim/payments), and what it decided on each answer. */
    called: number;
    proceeded: number;
    refused: number;
    /** Confirm answers a burst reported (POST /sim/confirm-answers): applied, late (the payment was no longer ready), unknown. */
    answersAccepted: number;
    answersLate: number;
    answersUnknown: number;
    /** Manual confirm: POST /payments/{paymentId}/confirm calls over all runs, and those that charged. */
    manualCalls: number;
    manualSucceeded: number;
  };
}

export interface GatewaySessionCollector {
  /** Stops listening and returns the session, with each run's summary as `summaryOf` gives it now. */
  close(): GatewaySession;
}

function emptyCounts(): PaymentChangeCounts {
  return { registered: 0, paid: 0, declined: 0, failed: 0, cancelled: 0, partiallyCancelled: 0 };
}

function countChange(counts: PaymentChangeCounts, change: PaymentChange): void {
  if (change === 'ready') counts.registered += 1;
  else if (change === 'partially-cancelled') counts.partiallyCancelled += 1;
  else counts[change] += 1;
}

function requestKind(event: GatewayEvents['request']): string {
  const succeeded = event.status < 300 && (event.outcome === 0 || event.outcome === null);
  const detail = succeeded ? '' : typeof event.outcome === 'number' ? ` code ${event.outcome}` : ` ${event.outcome}`;
  return `${event.method} ${event.route ?? '(no route)'} ${event.status}${detail}`;
}

/**
 * Counts what the gateway does from its events, for a machine-readable summary at the end (the terminal log
 * is for people). Runs are read from the gateway itself when it stops, so their counts are exact even for
 * payments it has since forgotten.
 */
export function collectGatewaySession(
  events: TypedEmitter<GatewayEvents>,
  url: string,
  summaryOf: (run: string) => SaleSummary,
  now: () => number = Date.now,
): GatewaySessionCollector {
  const startedAt = now();
  const byKind = new Map<string, number>();
  const payments = emptyCounts();
  const oneOffPayments = emptyCounts();
  const runs = new Set<string>();
  const webhooks = { attempts: 0, sent: 0, retried: 0, delivered: 0, failed: 0, gaveUp: 0 };
  const confirms = { called: 0, proceeded: 0, refused: 0, answersAccepted: 0, answersLate: 0, answersUnknown: 0, manualCalls: 0, manualSucceeded: 0 };
  let requests = 0;

  const onRequest = (event: GatewayEvents['request']): void => {
    requests += 1;
    const kind = requestKind(event);
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  };
  const onPayment = ({ change, payment }: GatewayEvents['payment']): void => {
    countChange(payments, change);
    if (payment.run === null) countChange(oneOffPayments, change);
    else runs.add(payment.run);
  };
  const onSale = (sale: GatewayEvents['sale']): void => {
    runs.add(sale.run);
  };
  const onConfirm = ({ confirm }: GatewayEvents['confirm']): void => {
    confirms.called += 1;
    if (confirm.decision.proceed) confirms.proceeded += 1;
    else confirms.refused += 1;
  };
  const onAnswers = (answers: GatewayEvents['answers']): void => {
    confirms.answersAccepted += answers.accepted;
    confirms.answersLate += answers.late;
    confirms.answersUnknown += answers.unknown;
  };
  const onWebhook = (delivery: GatewayEvents['webhook']): void => {
    webhooks.attempts += 1;
    if (delivery.retry === 0) webhooks.sent += 1;
    else webhooks.retried += 1;
    if (delivery.delivered) webhooks.delivered += 1;
    else {
      webhooks.failed += 1;
      if (delivery.nextAttemptAt === null) webhooks.gaveUp += 1;
    }
  };
  events.on('request', onRequest);
  events.on('payment', onPayment);
  events.on('sale', onSale);
  events.on('confirm', onConfirm);
  events.on('answers', onAnswers);
  events.on('webhook', onWebhook);

  return {
    close() {
      events.off('request', onRequest);
      events.off('payment', onPayment);
      events.off('sale', onSale);
      events.off('confirm', onConfirm);
      events.off('answers', onAnswers);
      events.off('webhook', onWebhook);
      const summaries: GatewaySession['runs'] = [];
      for (const run of runs) {
        let summary: SaleSummary;
        try {
          summary = summaryOf(run);
        } catch {
          continue; // a run the gateway no longer knows: its payment counts above still hold
        }
        const { timeline: _timeline, ...rest } = summary;
        summaries.push(rest);
        confirms.manualCalls += summary.confirmCalls;
        confirms.manualSucceeded += summary.confirmsSucceeded;
      }
      const stoppedAt = now();
      return {
        schemaVersion: GATEWAY_SESSION_SCHEMA_VERSION,
        kind: GATEWAY_SESSION_KIND,
        url,
        startedAt: new Date(startedAt).toISOString(),
        stoppedAt: new Date(stoppedAt).toISOString(),
        durationMs: stoppedAt - startedAt,
        requests: { total: requests, byKind: Object.fromEntries([...byKind].sort((a, b) => b[1] - a[1])) },
        payments,
        oneOffPayments,
        runs: summaries,
        webhooks,
        confirms,
      };
    },
  };
}
