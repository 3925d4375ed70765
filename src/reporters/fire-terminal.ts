import type { ChalkInstance } from 'chalk';
import { isV2 } from '../protocol/index.js';
import { formatMs } from '../util/duration.js';
import { escapeControlCharacters } from '../util/text.js';
import type { FireRequest, FireResult } from '../fire/index.js';
import type { FireLifecycle, FireWebhook } from '../fire/gateway.js';
import type { CompletionFireResult } from '../fire/manual-confirm.js';

/** How much of a body the terminal shows; the full text is in --json. */
export const DISPLAY_BODY_BYTES = 2 * 1024;

function printable(text: string): string {
  return escapeControlCharacters(text, { keepTabsAndNewlines: true });
}

/** Cuts `text` to the display limit on a character boundary; `totalBytes` counts bytes beyond what `text` holds. */
function displayBody(text: string, totalBytes: number, style: ChalkInstance): string {
  if (text.length === 0 && totalBytes === 0) return style.dim('(empty)');
  const bytes = Buffer.from(text, 'utf8');
  const shown = new TextDecoder().decode(bytes.subarray(0, DISPLAY_BODY_BYTES), { stream: true });
  const hiddenBytes = totalBytes - Buffer.byteLength(shown, 'utf8');
  const more = hiddenBytes > 0 ? style.dim(`…(${hiddenBytes} more bytes)`) : '';
  return `${printable(shown)}${more}`;
}

function headerLines(headers: Record<string, string>, style: ChalkInstance): string[] {
  return Object.entries(headers).map(([name, value]) => `  ${style.cyan(name)}: ${printable(value)}`);
}

export function formatFireRequest(request: FireRequest, style: ChalkInstance): string {
  const signing = request.signed ? 'signed' : 'unsigned';
  return [
    style.bold(`→ ${request.method} ${request.url}`),
    style.dim(`  dialect ${request.dialect} · ${signing} · timeout ${formatMs(request.timeoutMs)}`),
    ...headerLines(request.headers, style),
    `  ${displayBody(request.body, Buffer.byteLength(request.body, 'utf8'), style)}`,
    '',
  ].join('\n');
}

function formatAnswer(result: Pick<FireResult, 'answer'>, style: ChalkInstance, success: (status: number) => boolean = (status) => status === 200): string[] {
  const { answer } = result;
  if (answer.kind === 'no-answer') {
    return [
      style.bold(style.red(`← no answer: ${answer.error}`)) + style.dim(` · after ${formatMs(answer.totalMs)}`),
      `  ${printable(answer.message)}`,
    ];
  }
  const statusStyle = success(answer.status) ? style.green : style.red;
  return [
    style.bold(statusStyle(`← HTTP ${answer.status}`)) +
      style.dim(` · TTFB ${formatMs(answer.ttfbMs)} · total ${formatMs(answer.totalMs)}`),
    ...headerLines(answer.headers, style),
    `  ${displayBody(answer.body, answer.bodyBytes, style)}`,
  ];
}

function formatDecision(result: FireResult, style: ChalkInstance): string[] {
  const { decision } = result;
  const verdict = decision.proceed ? style.bold(style.green('PROCEED')) : style.bold(style.red('FAIL'));
  const lines = [`${verdict}  ${printable(decision.explanation)}`];
  if (!decision.proceed) {
    const label = isV2(result.request.dialect) ? "errorMessage (returned to the buyer's SDK)" : 'fail_reason';
    lines.push(`  ${label}: ${decision.failReason === null ? style.dim('(none)') : printable(decision.failReason)}`);
  }
  return lines;
}

/** The answer and the gateway's decision, printed after the request block once the exchange is over. */
export function formatFireOutcome(result: FireResult, style: ChalkInstance): string {
  return [...formatAnswer(result, style), '', ...formatDecision(result, style), ''].join('\n');
}

/** What followed the answer at the gateway (fire --gateway): the charge or decline and every webhook attempt. */
export function formatFireLifecycle(lifecycle: FireLifecycle, style: ChalkInstance): string {
  const lines = [style.bold(`gateway ${lifecycle.gateway}`) + style.dim(` · run ${lifecycle.run}`)];
  const charge =
    lifecycle.charge === 'approved'
      ? style.green(`approved → ${lifecycle.status}`)
      : lifecycle.charge === 'declined'
        ? style.yellow(`declined by the PG after the 200 → ${lifecycle.status}`)
        : `not attempted → ${lifecycle.status}`;
  const reason = lifecycle.failReason === null ? '' : style.dim(` (${printable(lifecycle.failReason)})`);
  lines.push(`  charge   ${charge}${reason}`);
  if (lifecycle.webhooks.length === 0) {
    lines.push(`  webhook  ${style.dim(lifecycle.charge === 'approved' ? 'none (no --webhook-url)' : 'none due')}`);
  }
  lines.push(...webhookLines(lifecycle.webhooks, style));
  if (lifecycle.unsettled) lines.push(style.yellow('  still in progress when fire stopped waiting (raise --settle to see the rest)'));
  return `${lines.join('\n')}\n`;
}

function webhookLines(webhooks: FireWebhook[], style: ChalkInstance): string[] {
  const lines: string[] = [];
  for (const webhook of webhooks) {
    const state = webhook.state === 'delivered' ? style.green(webhook.state) : webhook.state === 'pending' ? style.yellow(webhook.state) : style.red(webhook.state);
    lines.push(`  webhook  ${webhook.event} → ${webhook.url}  ${state}`);
    webhook.attempts.forEach((attempt, index) => {
      const answer = attempt.httpStatus === null ? `no answer (${attempt.error ?? 'unknown'})` : `HTTP ${attempt.httpStatus}`;
      lines.push(style.dim(`    attempt ${index + 1}: ${answer} in ${formatMs(attempt.durationMs)} · ${printable(attempt.message)}`));
    });
  }
  return lines;
}

/** fire --flow manual-confirm's request block: the buyer's completion post (its paymentToken masked). */
export function formatCompletionRequest(request: FireRequest, style: ChalkInstance): string {
  return [
    style.bold(`→ ${request.method} ${request.url}`),
    style.dim(`  manual-confirm completion (what the buyer's front end posts) · timeout ${formatMs(request.timeoutMs)}`),
    ...headerLines(request.headers, style),
    `  ${displayBody(request.body, Buffer.byteLength(request.body, 'utf8'), style)}`,
    '',
  ].join('\n');
}

/** The merchant's answer to the buyer, then what the gateway holds: the two must agree. */
export function formatCompletionOutcome(result: CompletionFireResult, style: ChalkInstance): string {
  const paid = result.told === 'paid';
  const lines = formatAnswer(result, style, () => paid);
  const told = paid ? style.green('TOLD PAID') : result.told === 'refused' ? style.yellow('TOLD NO') : style.red('NO ANSWER');
  lines.push('', `${style.bold(told)}  ${result.told === 'no-answer' ? 'no answer in time' : `HTTP ${result.answer.kind === 'http' ? result.answer.status : ''} ${paid ? 'is' : 'is not'} in --success-status ${result.successStatus}`}`);
  const { payment } = result;
  lines.push('', style.bold(`gateway ${payment.gateway}`) + style.dim(` · run ${payment.run} · paymentId ${result.token.paymentId}`));
  const status = payment.status === 'paid' ? style.green(payment.status) : payment.status === 'ready' ? style.dim('ready (never confirmed)') : style.yellow(payment.status);
  const reason = payment.failReason === null ? '' : style.dim(` (${printable(payment.failReason)})`);
  lines.push(`  payment  ${status}${reason} · ${payment.confirmCalls} confirm call${payment.confirmCalls === 1 ? '' : 's'}, ${payment.confirmed} charged`);
  lines.push(...webhookLines(payment.webhooks, style));
  const verdict = result.verdict === 'agrees' ? style.bold(style.green('AGREES')) : style.bold(style.red(result.verdict.toUpperCase()));
  lines.push('', `${verdict}  ${printable(result.explanation)}`, '');
  return lines.join('\n');
}
