import { Chalk, type ChalkInstance } from 'chalk';
import { formatMs } from '../util/duration.js';
import { escapeControlCharacters } from '../util/text.js';
import type { TypedEmitter } from '../util/events.js';
import type { GatewayEvents, GatewayRoute } from '../gateway/index.js';

export interface GatewayBanner {
  url: string;
  routes: GatewayRoute[];
  /** Credentials as they may be shown: masked, with whether they are the documented defaults. */
  maskedImpKey: string;
  impKeyIsDefault: boolean;
  maskedImpSecret: string;
  impSecretIsDefault: boolean;
  maskedApiSecret: string;
  apiSecretIsDefault: boolean;
  storeId: string;
  /** The webhook secret, masked, or null when V2 dialects are off. */
  maskedWebhookSecret: string | null;
  confirmTimeoutMs: number;
  tokenTtlSeconds: number;
  /** How long a manual-confirm payment token is valid; the line is left out when not given. */
  paymentTokenLifetimeMs?: number;
  declineRate: number;
  /** The V2 webhook retry waits after compression. */
  webhookRetryDelaysMs: number[];
  maxPayments: number;
}

/** 600000 → "10 min", 90000 → "90 s"; anything else as formatMs does. */
function wholeUnits(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return formatMs(ms);
}

/** A wait as a person reads it: 6.0 ms, 2.6 s, 4 min. */
function span(ms: number): string {
  if (ms < 1000) return formatMs(ms);
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function formatGatewayBanner(banner: GatewayBanner, style: ChalkInstance): string {
  const width = Math.max(...banner.routes.map((route) => `${route.method} ${route.path}`.length));
  const secret = banner.maskedWebhookSecret ?? style.dim('none: V2 dialects are refused (give --secret)');
  const byDefault = (isDefault: boolean): string => (isDefault ? style.dim(' (the default, see --help)') : '');
  return [
    style.bold(`confirm-sim gateway listening on ${banner.url}`),
    `  V1 imp_key       ${banner.maskedImpKey}${byDefault(banner.impKeyIsDefault)}`,
    `  V1 imp_secret    ${banner.maskedImpSecret}${byDefault(banner.impSecretIsDefault)}`,
    `  V2 API secret    ${banner.maskedApiSecret}${byDefault(banner.apiSecretIsDefault)}`,
    `  V2 store id      ${escapeControlCharacters(banner.storeId)}`,
    `  webhook secret   ${secret}`,
    `  confirm timeout  ${formatMs(banner.confirmTimeoutMs)} · token lifetime ${banner.tokenTtlSeconds} s`,
    ...(banner.paymentTokenLifetimeMs === undefined
      ? []
      : [`  payment tokens   manual confirm within ${wholeUnits(banner.paymentTokenLifetimeMs)} of the buyer's requestPayment`]),
    `  PG declines      ${Math.round(banner.declineRate * 1000) / 10}% of charges the merchant said 200 to`,
    `  webhook retries  V2 after waits of about ${banner.webhookRetryDelaysMs.map(span).join(', ')} (with jitter) · V1 none`,
    `  keeps            ${banner.maxPayments.toLocaleString('en-US')} payments at most`,
    '',
    ...banner.routes.map((route) => `  ${route.api.toUpperCase().padEnd(4)}${`${route.method} ${route.path}`.padEnd(width)}  ${style.dim(route.summary)}`),
    '',
    style.dim('Ctrl-C stops the gateway.'),
    '',
  ].join('\n');
}

export interface GatewayLogOptions {
  /** One line per request, payment change, confirm call and webhook attempt, as they happen. */
  verbose: boolean;
  /** A terminal: the activity so far is shown on one line rewritten in place. */
  live: boolean;
  /** An activity's summary is printed once nothing happened for this long; default 1 s. */
  idleMs?: number;
  /** ... or after this long of sustained activity, so a long sale still shows its life in a log; default 10 s. */
  maxWindowMs?: number;
  now?: () => number;
}

export interface GatewayLog {
  /** Prints what is still unsummarized and stops listening. */
  close(): void;
}

interface Output {
  write(text: string): unknown;
  /** A terminal's width: the live line is cut to it, so rewriting it in place never wraps. */
  columns?: number;
}

interface PaymentCounts {
  registered: number;
  paid: number;
  declined: number;
  failed: number;
  cancelled: number;
  partiallyCancelled: number;
}

/** What happened since the last summary line. */
interface Activity {
  startedAt: number;
  lastAt: number;
  requests: number;
  /** By "METHOD /route STATUS[ outcome]", in first-seen order. */
  kinds: Map<string, number>;
  /** By run id; one-off payments (POST /sim/payments) under null. */
  payments: Map<string | null, PaymentCounts>;
  webhooks: { delivered: number; undelivered: number; retries: number };
}

const LIVE_REFRESH_MS = 250;
/** Request kinds named on a summary line; the rest are counted as "+N kinds". */
const KINDS_SHOWN = 6;
const CLEAR_LINE = '\r\u001b[2K';
/** The live line is cut to the terminal's width: colour codes would make its visible length unknowable. */
const PLAIN = new Chalk({ level: 0 });

const count = (value: number): string => value.toLocaleString('en-US');
const clock = (ms: number): string => new Date(ms).toTimeString().slice(0, 8);

function emptyCounts(): PaymentCounts {
  return { registered: 0, paid: 0, declined: 0, failed: 0, cancelled: 0, partiallyCancelled: 0 };
}

function requestKind(event: GatewayEvents['request']): string {
  const succeeded = event.status < 300 && (event.outcome === 0 || event.outcome === null);
  const detail = succeeded ? '' : typeof event.outcome === 'number' ? ` code ${event.outcome}` : ` ${event.outcome}`;
  return `${event.method} ${event.route ?? '(no route)'} ${event.status}${detail}`;
}

function paymentsText(counts: PaymentCounts, style: ChalkInstance): string {
  const parts = [`${count(counts.registered)} registered`];
  if (counts.paid > 0) parts.push(style.green(`${count(counts.paid)} paid`));
  if (counts.declined > 0) parts.push(style.red(`${count(counts.declined)} declined`));
  if (counts.failed > 0) parts.push(style.red(`${count(counts.failed)} failed`));
  if (counts.cancelled > 0) parts.push(`${count(counts.cancelled)} cancelled`);
  if (counts.partiallyCancelled > 0) parts.push(`${count(counts.partiallyCancelled)} partly cancelled`);
  return parts.join(' · ');
}

/**
 * The gateway's terminal log. By default it summarizes: a sale of 100,000 payments and the merchant's lookups
 * of each are a few lines (what was asked, how each run's payments ended, how webhooks went), and a run that
 * ends gets its exact summary; on a terminal the activity shows live on one line. `verbose` prints one line
 * per request, payment change, confirm call and webhook attempt instead.
 */
export function attachGatewayLog(events: TypedEmitter<GatewayEvents>, output: Output, style: ChalkInstance, options: GatewayLogOptions): GatewayLog {
  if (options.verbose) return attachVerboseLog(events, (line) => output.write(`${line}\n`), style);
  const now = options.now ?? Date.now;
  const idleMs = options.idleMs ?? 1000;
  const maxWindowMs = options.maxWindowMs ?? 10_000;
  let activity: Activity | null = null;
  let liveShown = false;
  let liveDirty = false;

  const touch = (): Activity => {
    const at = now();
    activity ??= { startedAt: at, lastAt: at, requests: 0, kinds: new Map(), payments: new Map(), webhooks: { delivered: 0, undelivered: 0, retries: 0 } };
    activity.lastAt = at;
    liveDirty = true;
    return activity;
  };

  const clearLive = (): void => {
    if (liveShown) output.write(CLEAR_LINE);
    liveShown = false;
  };

  const lines = (current: Activity, paint: ChalkInstance): string[] => {
    const seconds = ((current.lastAt - current.startedAt) / 1000).toFixed(1);
    const kinds = [...current.kinds].sort((a, b) => b[1] - a[1]);
    const shown = kinds.slice(0, KINDS_SHOWN).map(([kind, times]) => `${count(times)}× ${escapeControlCharacters(kind)}`);
    if (kinds.length > KINDS_SHOWN) shown.push(paint.dim(`+${kinds.length - KINDS_SHOWN} kinds`));
    const result: string[] = [];
    if (current.requests > 0) {
      result.push(`${paint.dim(clock(current.startedAt))} ${count(current.requests)} request${current.requests === 1 ? '' : 's'} in ${seconds} s: ${shown.join(' · ')}`);
    }
    for (const [run, counts] of current.payments) {
      const name = run === null ? 'one-off payments' : `run ${escapeControlCharacters(run)}`;
      result.push(`  ${name}: ${paymentsText(counts, paint)}`);
    }
    const { delivered, undelivered, retries } = current.webhooks;
    if (delivered + undelivered > 0) {
      const failedText = undelivered > 0 ? ` · ${paint.red(`${count(undelivered)} attempts not answered 2xx`)}` : '';
      result.push(`  webhooks: ${paint.green(`${count(delivered)} delivered`)}${failedText}${retries > 0 ? ` · ${count(retries)} retries` : ''}`);
    }
    return result;
  };

  const flush = (): void => {
    if (activity === null) return;
    const current = activity;
    activity = null;
    clearLive();
    for (const line of lines(current, style)) output.write(`${line}\n`);
  };

  const tick = (): void => {
    if (activity === null) return;
    const at = now();
    if (at - activity.lastAt >= idleMs || at - activity.startedAt >= maxWindowMs) {
      flush();
      return;
    }
    if (options.live && liveDirty) {
      liveDirty = false;
      const text = lines(activity, PLAIN).map((line) => line.trim()).join('  ');
      output.write(`${CLEAR_LINE}${text.slice(0, Math.max(20, (output.columns ?? 100) - 1))}`);
      liveShown = true;
    }
  };
  const timer = setInterval(tick, Math.min(LIVE_REFRESH_MS, idleMs));
  timer.unref();

  const onRequest = (event: GatewayEvents['request']): void => {
    const current = touch();
    current.requests += 1;
    const kind = requestKind(event);
    current.kinds.set(kind, (current.kinds.get(kind) ?? 0) + 1);
  };
  const onPayment = ({ change, payment }: GatewayEvents['payment']): void => {
    const current = touch();
    let counts = current.payments.get(payment.run);
    if (counts === undefined) {
      counts = emptyCounts();
      current.payments.set(payment.run, counts);
    }
    if (change === 'ready') counts.registered += 1;
    else if (change === 'partially-cancelled') counts.partiallyCancelled += 1;
    else counts[change] += 1;
  };
  const onWebhook = (delivery: GatewayEvents['webhook']): void => {
    const { webhooks } = touch();
    if (delivery.delivered) webhooks.delivered += 1;
    else webhooks.undelivered += 1;
    if (delivery.retry > 0) webhooks.retries += 1;
  };
  const onEnded = (summary: GatewayEvents['ended']): void => {
    flush();
    const { payments: p, webhooks: w } = summary;
    const ready = p.ready > 0 ? ` · ${count(p.ready)} still ready` : '';
    output.write(
      `${style.bold(`run ${escapeControlCharacters(summary.run)} ended`)}: ${paymentsText(p, style)}${ready} · webhooks ${count(w.sent)} sent, ${count(w.delivered)} delivered, ${count(w.retried)} retried, ${count(w.unanswered)} unanswered${w.pending > 0 ? `, ${count(w.pending)} pending` : ''}\n`,
    );
  };
  events.on('request', onRequest);
  events.on('payment', onPayment);
  events.on('webhook', onWebhook);
  events.on('ended', onEnded);
  return {
    close() {
      clearInterval(timer);
      events.off('request', onRequest);
      events.off('payment', onPayment);
      events.off('webhook', onWebhook);
      events.off('ended', onEnded);
      flush();
    },
  };
}

/** One line per thing the gateway did, in the order it happened. */
function attachVerboseLog(events: TypedEmitter<GatewayEvents>, write: (line: string) => void, style: ChalkInstance): GatewayLog {
  const onRequest = ({ method, path, status, outcome, durationMs }: GatewayEvents['request']): void => {
    const succeeded = status < 300 && (outcome === 0 || outcome === null);
    const detail = succeeded ? '' : typeof outcome === 'number' ? ` code ${outcome}` : ` ${outcome}`;
    write(`${method} ${escapeControlCharacters(path)} ${(succeeded ? style.green : style.yellow)(`${status}`)}${detail} ${style.dim(formatMs(durationMs))}`);
  };
  const onPayment = ({ change, payment }: GatewayEvents['payment']): void => {
    const detail =
      (change === 'failed' || change === 'declined') && payment.failReason !== null
        ? `: ${escapeControlCharacters(payment.failReason)}`
        : change === 'partially-cancelled'
          ? ` (${payment.cancelledAmount} of ${payment.amount} cancelled)`
          : '';
    const changeStyle = change === 'paid' ? style.green : change === 'failed' || change === 'declined' ? style.red : style.cyan;
    const id = payment.impUid ?? payment.api.toUpperCase();
    write(`  ${id} ${escapeControlCharacters(payment.orderId)} ${payment.amount} ${payment.currency} ${changeStyle(change)}${detail}`);
  };
  const onConfirm = ({ orderId, confirm }: GatewayEvents['confirm']): void => {
    const verdict = confirm.decision.proceed ? style.green('proceed') : style.red('fail');
    write(`  ${escapeControlCharacters(orderId)} confirm ${confirm.url} → ${verdict}: ${escapeControlCharacters(confirm.decision.explanation)}`);
  };
  const onWebhook = (delivery: GatewayEvents['webhook']): void => {
    const outcome = delivery.delivered ? style.green('delivered') : style.red('not delivered');
    const attempt = delivery.retry === 0 ? '' : ` retry ${delivery.retry}`;
    write(
      `  ${escapeControlCharacters(delivery.orderId)} webhook ${delivery.event}${attempt} → ${delivery.url} ${outcome}: ${escapeControlCharacters(delivery.message)} ${style.dim(formatMs(delivery.durationMs))}`,
    );
  };
  events.on('request', onRequest);
  events.on('payment', onPayment);
  events.on('confirm', onConfirm);
  events.on('webhook', onWebhook);
  return {
    close() {
      events.off('request', onRequest);
      events.off('payment', onPayment);
      events.off('confirm', onConfirm);
      events.off('webhook', onWebhook);
    },
  };
}
