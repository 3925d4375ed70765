import type { ChalkInstance } from 'chalk';
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
}

/** 600000 → "10 min", 90000 → "90 s"; anything else as formatMs does. */
function wholeUnits(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return formatMs(ms);
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
    '',
    ...banner.routes.map((route) => `  ${route.api.toUpperCase().padEnd(4)}${`${route.method} ${route.path}`.padEnd(width)}  ${style.dim(route.summary)}`),
    '',
    style.dim('Ctrl-C stops the gateway.'),
    '',
  ].join('\n');
}

/** One line per thing the gateway did, in the order it happened. */
export function attachGatewayLog(events: TypedEmitter<GatewayEvents>, write: (line: string) => void, style: ChalkInstance): void {
  events.on('request', ({ method, path, status, outcome, durationMs }) => {
    const succeeded = status === 200 && (outcome === 0 || outcome === null);
    const detail = succeeded ? '' : typeof outcome === 'number' ? ` code ${outcome}` : ` ${outcome}`;
    write(`${method} ${escapeControlCharacters(path)} ${(succeeded ? style.green : style.yellow)(`${status}`)}${detail} ${style.dim(formatMs(durationMs))}`);
  });
  events.on('payment', ({ change, payment }) => {
    const detail =
      (change === 'failed' || change === 'declined') && payment.failReason !== null
        ? `: ${escapeControlCharacters(payment.failReason)}`
        : change === 'partially-cancelled'
          ? ` (${payment.cancelledAmount} of ${payment.amount} cancelled)`
          : '';
    const changeStyle = change === 'paid' ? style.green : change === 'failed' || change === 'declined' ? style.red : style.cyan;
    const id = payment.impUid ?? payment.api.toUpperCase();
    write(`  ${id} ${escapeControlCharacters(payment.orderId)} ${payment.amount} ${payment.currency} ${changeStyle(change)}${detail}`);
  });
  events.on('confirm', ({ orderId, confirm }) => {
    const verdict = confirm.decision.proceed ? style.green('proceed') : style.red('fail');
    write(`  ${escapeControlCharacters(orderId)} confirm ${confirm.url} → ${verdict}: ${escapeControlCharacters(confirm.decision.explanation)}`);
  });
  events.on('webhook', (delivery) => {
    const outcome = delivery.delivered ? style.green('delivered') : style.red('not delivered');
    const attempt = delivery.retry === 0 ? '' : ` retry ${delivery.retry}`;
    write(
      `  ${escapeControlCharacters(delivery.orderId)} webhook ${delivery.event}${attempt} → ${delivery.url} ${outcome}: ${escapeControlCharacters(delivery.message)} ${style.dim(formatMs(delivery.durationMs))}`,
    );
  });
}
