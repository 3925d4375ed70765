import type { ChalkInstance } from 'chalk';
import { formatMs } from '../util/duration.js';
import { escapeControlCharacters } from '../util/text.js';
import type { TypedEmitter } from '../util/events.js';
import type { GatewayEvents, GatewayRoute } from '../gateway/index.js';

export interface GatewayBanner {
  url: string;
  routes: GatewayRoute[];
  impKey: string;
  /** The imp_secret as it may be shown: masked. */
  maskedImpSecret: string;
  impSecretIsDefault: boolean;
  /** The webhook secret, masked, or null when V2 dialects are off. */
  maskedWebhookSecret: string | null;
  confirmTimeoutMs: number;
  tokenTtlSeconds: number;
}

export function formatGatewayBanner(banner: GatewayBanner, style: ChalkInstance): string {
  const width = Math.max(...banner.routes.map((route) => `${route.method} ${route.path}`.length));
  const secret = banner.maskedWebhookSecret ?? style.dim('none: V2 dialects are refused (give --secret)');
  return [
    style.bold(`confirm-sim gateway listening on ${banner.url}`),
    `  imp_key          ${banner.impKey}`,
    `  imp_secret       ${banner.maskedImpSecret}${banner.impSecretIsDefault ? style.dim(' (the default, see --help)') : ''}`,
    `  webhook secret   ${secret}`,
    `  confirm timeout  ${formatMs(banner.confirmTimeoutMs)} · token lifetime ${banner.tokenTtlSeconds} s`,
    '',
    ...banner.routes.map((route) => `  ${`${route.method} ${route.path}`.padEnd(width)}  ${style.dim(route.summary)}`),
    '',
    style.dim('Ctrl-C stops the gateway.'),
    '',
  ].join('\n');
}

/** One line per thing the gateway did, in the order it happened. */
export function attachGatewayLog(events: TypedEmitter<GatewayEvents>, write: (line: string) => void, style: ChalkInstance): void {
  events.on('request', ({ method, path, status, code, durationMs }) => {
    const statusStyle = status === 200 && code === 0 ? style.green : style.yellow;
    write(`${method} ${escapeControlCharacters(path)} ${statusStyle(`${status}`)}${code === 0 ? '' : ` code ${code}`} ${style.dim(formatMs(durationMs))}`);
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
