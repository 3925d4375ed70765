import type { ChalkInstance } from 'chalk';
import { formatMs } from '../util/duration.js';
import type { TypedEmitter } from '../util/events.js';
import type { BurstEvents, BurstReport } from '../load/index.js';

const BAR_WIDTH = 32;

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function ms(value: number | null): string {
  return value === null ? '-' : formatMs(value);
}

/** A left-column label, padded to line the figures up; a label as wide as the column still gets its space. */
function label(text: string, style: ChalkInstance): string {
  return style.dim(text.padEnd(Math.max(11, text.length + 1)));
}

/** The latency distribution as a small bar chart, from the first to the last non-empty bucket. */
export function formatLatencyHistogram(report: BurstReport, style: ChalkInstance): string[] {
  const buckets = report.latencyMs.buckets;
  const first = buckets.findIndex((bucket) => bucket.count > 0);
  if (first < 0) return [];
  let last = buckets.length - 1;
  while (last > first && buckets[last]!.count === 0) last--;
  const most = Math.max(...buckets.map((bucket) => bucket.count));
  const shown = buckets.slice(first, last + 1);
  const labels = shown.map((bucket) => (bucket.upToMs === null ? `> ${formatMs(buckets[buckets.length - 2]!.upToMs!)}` : `≤ ${formatMs(bucket.upToMs)}`));
  const width = Math.max(...labels.map((text) => text.length));
  return shown.map((bucket, index) => {
    const bar = '█'.repeat(Math.round((bucket.count / most) * BAR_WIDTH)) || (bucket.count > 0 ? '▏' : '');
    const overBudget = bucket.upToMs === null || bucket.upToMs > report.config.p99BudgetMs;
    return `${' '.repeat(11)}${labels[index]!.padStart(width)} ${(overBudget ? style.yellow : style.cyan)(bar)} ${style.dim(count(bucket.count))}`;
  });
}

/** How the settle ended: whether the stock came to balance with what was sold, and when. */
function settleOutcome(report: BurstReport): string {
  const payments = report.payments!;
  const restoredAfterMs = payments.settle.restoredAfterMs;
  const manualConfirm = report.manualConfirm ?? null;
  // A shard's payments are a slice of the sale's, so only the merged sale can balance against the stock.
  if (report.config.shard) return 'each shard waits the settle out; merge tells whether the stock balanced';
  if (report.shards !== null) {
    const probe = report.stock.probe;
    if (probe === null) return 'stock not probed';
    const sold = manualConfirm === null ? payments.paid : manualConfirm.confirmed;
    return probe.after + sold === probe.before ? 'stock balanced' : 'stock did not balance';
  }
  if (restoredAfterMs === null) return 'stock did not balance';
  if (restoredAfterMs === 0) return 'stock balanced at once';
  return `${manualConfirm === null ? 'declined stock back' : 'stock balanced'} after ${formatMs(restoredAfterMs)}`;
}

/** A gateway run's money side: what the PG did after the merchant's answers, and the webhooks that followed. */
function formatPayments(report: BurstReport, style: ChalkInstance): string[] {
  const payments = report.payments!;
  const manualConfirm = report.manualConfirm != null;
  const declined = payments.declined > 0 ? style.yellow(count(payments.declined)) : '0';
  const ready = payments.ready > 0 ? `   still ready ${style.yellow(count(payments.ready))}` : '';
  const cancelled = payments.cancelled > 0 ? `   cancelled ${count(payments.cancelled)}` : '';
  const { webhooks, settle } = payments;
  const unanswered = webhooks.unanswered > 0 ? style.red(count(webhooks.unanswered)) : '0';
  const pending = webhooks.pending > 0 ? `   still pending ${style.yellow(count(webhooks.pending))}` : '';
  const where = payments.noticeUrl === null ? style.dim(' (no --webhook-url: none sent)') : style.dim(` to ${payments.noticeUrl}`);
  return [
    `${label('gateway', style)}${payments.gateway} ${payments.api.toUpperCase()}, ${count(payments.registered)} payments registered, decline rate ${payments.declineRate}`,
    // In manual confirm a payment stays ready until the merchant confirms it: the statuses line says it better.
    ...(manualConfirm ? [] : [`${label('payments', style)}paid ${style.green(count(payments.paid))}   declined ${declined}   failed ${count(payments.failed)}${cancelled}${ready}`]),
    `${label('webhooks', style)}sent ${count(webhooks.sent)}   retried ${count(webhooks.retried)}   not answered ${unanswered}${pending}${where}`,
    `${label('settle', style)}waited ${formatMs(settle.waitedMs)} of ${formatMs(settle.budgetMs)}, ${settleOutcome(report)}`,
  ];
}

/** manual-confirm: what the merchant told buyers against what it confirmed at the gateway. */
function formatManualConfirm(mc: NonNullable<BurstReport['manualConfirm']>, stock: number, style: ChalkInstance): string[] {
  const flagged = (value: number): string => (value > 0 ? style.red(count(value)) : '0');
  const { statuses } = mc;
  const letters = (
    [
      ['P', statuses.paid],
      ['R', statuses.ready],
      ['F', statuses.failed],
      ['C', statuses.cancelled],
      ['X', statuses.partiallyCancelled],
      ['D', statuses.doubleConfirmed],
    ] as const
  )
    .filter(([letter, value]) => value > 0 || letter === 'P')
    .map(([letter, value]) => `${letter} ${count(value)}`)
    .join('   ');
  const refusals = Object.entries(mc.confirmsRefused)
    .filter(([, value]) => value > 0)
    .map(([type, value]) => `${type} ×${count(value)}`);
  return [
    `${label('confirmed', style)}${style.green(count(mc.confirmed))} of ${count(stock)} in stock   told paid ${count(mc.toldPaid)} (${mc.successStatus})   charged-refused ${flagged(mc.chargedRefused)}   told-paid-unconfirmed ${flagged(mc.toldPaidUnconfirmed)}   double-confirm ${flagged(mc.doubleConfirm)}`,
    `${label('statuses', style)}${letters}   ${style.dim('(P paid, R never confirmed, F declined, C cancelled, X partly cancelled, D confirmed twice)')}`,
    `${label('confirms', style)}${count(mc.confirmCalls)} calls: ${count(mc.confirmsSucceeded)} succeeded${refusals.length > 0 ? `, refused ${refusals.join(', ')}` : ''}`,
  ];
}

/** The verdict first, then what happened: the summary a person reads after a burst. */
export function formatBurstSummary(report: BurstReport, style: ChalkInstance): string {
  const { verdict, counts, config } = report;
  const lines: string[] = [];
  const head = verdict.pass ? style.green.bold('PASS') : style.red.bold('FAIL');
  lines.push(`${head} ${verdict.summary.replace(/^(PASS|FAIL) /, '')}`);
  for (const problem of verdict.problems) {
    const examples = problem.examples.length > 0 ? style.dim(` e.g. ${problem.examples.join(', ')}`) : '';
    lines.push(`  ${style.red('✗')} ${style.bold(problem.kind.padEnd(14))} ${problem.message}${examples}`);
  }
  for (const note of verdict.notes) lines.push(`  ${style.dim(`- ${note}`)}`);
  lines.push('');

  const pacing =
    config.mode === 'ramp'
      ? `ramped over ${formatMs(config.rampMs ?? 0)}`
      : config.mode === 'rate'
        ? `at ${count(config.ratePerSec ?? 0)}/s`
        : 'all at once';
  const shards = report.shards ? `, shards ${report.shards.join(',')}${config.shard ? ` of ${config.shard.count}` : ''}` : '';
  lines.push(
    `${label('burst', style)}${report.target}  ${count(counts.buyers)} buyers ${pacing}, ${count(config.stock)} in stock, ` +
      `${count(config.connections)} connections, ${config.dialect}${config.signed ? ' signed' : ''}${shards}`,
  );
  const duplicates = counts.requests > counts.buyers ? style.dim(` (${count(counts.requests - counts.buyers)} sent twice)`) : '';
  lines.push(
    `${label('buyers', style)}accepted ${style.green(count(counts.accepted))}   refused ${count(counts.refused)}   ` +
      `timeouts ${counts.timeouts > 0 ? style.yellow(count(counts.timeouts)) : '0'}   errors ${counts.errors > 0 ? style.yellow(count(counts.errors)) : '0'}` +
      `${counts.notSent + counts.aborted > 0 ? `   not sent ${count(counts.notSent)}   aborted ${count(counts.aborted)}` : ''}${duplicates}`,
  );
  const statuses = Object.entries(report.statusCodes)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, n]) => `${status === '200' ? style.green(status) : status} ×${count(n)}`);
  const failures = Object.entries(report.errorKinds).map(([kind, n]) => `${style.yellow(kind)} ×${count(n)}`);
  lines.push(`${label('answers', style)}${[...statuses, ...failures].join('   ') || style.dim('none')}`);
  for (const reason of report.refusalReasons.slice(0, 3)) {
    const detail = reason.detail === null ? style.dim('(no reason given)') : JSON.stringify(reason.detail);
    lines.push(`${label('refusals', style)}${reason.status} ${detail} ×${count(reason.count)} ${style.dim(`e.g. ${reason.examples.join(', ')}`)}`);
  }
  const latency = report.latencyMs;
  lines.push(
    `${label('latency', style)}p50 ${ms(latency.p50)}   p90 ${ms(latency.p90)}   p99 ${ms(latency.p99)}   ` +
      `p99.9 ${ms(latency.p999)}   max ${ms(latency.max)}`,
  );
  lines.push(...formatLatencyHistogram(report, style));
  const wave = report.dispatch.waveSpreadMs !== null && config.mode === 'burst' ? ` (opening wave of ${count(report.dispatch.waveSize)} in ${formatMs(report.dispatch.waveSpreadMs)})` : '';
  const lag = report.dispatch.lagP99Ms !== null ? `   send lag p99 ${formatMs(report.dispatch.lagP99Ms)}` : '';
  lines.push(
    `${label('throughput', style)}${count(report.throughputPerSec)} answers/s   dispatch spread ${formatMs(report.dispatchSpreadMs)}${wave}${lag}   duration ${formatMs(report.timing.durationMs)}`,
  );
  const probe = report.stock.probe;
  const payments = report.payments;
  const manualConfirm = report.manualConfirm ?? null;
  const soldFor = manualConfirm
    ? `${count(manualConfirm.confirmed)} confirmed`
    : payments
      ? `${count(payments.paid)} paid`
      : `${count(report.tally.accepted)} accepted`;
  const stockLine = probe
    ? `${count(probe.before)} → ${count(probe.after)} (fell by ${count(probe.before - probe.after)} for ${soldFor})`
    : `${count(report.stock.stock)} ${style.dim('(no --stock-url, so stock was not probed)')}`;
  if (payments) lines.push(...formatPayments(report, style));
  if (manualConfirm) lines.push(...formatManualConfirm(manualConfirm, report.stock.stock, style));
  lines.push(`${label('stock', style)}${stockLine}`);
  if (report.fairness) lines.push(`${label('fairness', style)}${count(report.fairness.inversions)} inversions (window ${formatMs(report.fairness.windowMs)})`);
  if (report.tally.stranded > 0) lines.push(`${label('stranded', style)}${style.red(count(report.tally.stranded))} late 200s after the timeout`);
  for (const warning of report.selfCheck.warnings) {
    lines.push(`${label('warning', style)}${style.yellow(`${warning.code}:`)} ${warning.message}`);
  }
  if (report.interrupted) lines.push(`${label('interrupted', style)}${style.yellow('the run was stopped early; these figures cover what happened until then')}`);
  return `${lines.join('\n')}\n`;
}

/** How far back the actual send rate is measured: long enough to be steady, short enough to follow a change. */
const RATE_WINDOW_MS = 1000;
const PROGRESS_BAR_WIDTH = 16;

const ANSI = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

function percent(done: number, total: number): string {
  return `${total > 0 ? Math.floor((100 * done) / total) : 100}%`;
}

function progressBar(done: number, total: number, style: ChalkInstance): string {
  const filled = total > 0 ? Math.min(PROGRESS_BAR_WIDTH, Math.floor((PROGRESS_BAR_WIDTH * done) / total)) : PROGRESS_BAR_WIDTH;
  return `${style.cyan('█'.repeat(filled))}${style.dim('░'.repeat(PROGRESS_BAR_WIDTH - filled))}`;
}

/** Requests a second over the last RATE_WINDOW_MS of progress readings. */
class SendRate {
  readonly #readings: Array<{ atMs: number; sent: number }> = [];

  add(atMs: number, sent: number): number | null {
    this.#readings.push({ atMs, sent });
    while (this.#readings.length > 2 && atMs - this.#readings[1]!.atMs >= RATE_WINDOW_MS) this.#readings.shift();
    const first = this.#readings[0]!;
    const spanMs = atMs - first.atMs;
    return spanMs > 0 ? ((sent - first.sent) * 1000) / spanMs : null;
  }
}

/** The run's one live line: how far, how fast against the target, what is left of the stock, what came back. */
export function formatProgressLine(event: BurstEvents['progress'], start: BurstEvents['start'] | null, actualRatePerSec: number | null, style: ChalkInstance): string[] {
  const parts = [
    `${style.bold('burst')} ${progressBar(event.settled, event.requests, style)} ${percent(event.settled, event.requests).padStart(4)}`,
    `${count(event.sent)}/${count(event.requests)} sent`,
  ];
  if (start?.targetRatePerSec != null) {
    const actual = actualRatePerSec === null ? '-' : count(actualRatePerSec);
    const behind = actualRatePerSec !== null && event.sent < event.requests && actualRatePerSec < 0.9 * start.targetRatePerSec;
    parts.push(`${(behind ? style.yellow : (text: string) => text)(`${actual}/s`)} of ${count(start.targetRatePerSec)}/s target`);
  }
  parts.push(style.green(`${count(event.accepted)} accepted`));
  if (start?.stock != null) {
    const left = start.stock - event.accepted;
    // The shelf at the start (probed, or --stock) less the 200s so far: what the merchant should have left.
    parts.push(left >= 0 ? `stock ~${count(left)}/${count(start.stock)} left` : style.red(`${count(-left)} 200s over the stock of ${count(start.stock)}`));
  }
  parts.push(`${count(event.refused)} refused`);
  if (event.timeouts > 0) parts.push(style.yellow(`${count(event.timeouts)} timeouts`));
  if (event.errors > 0) parts.push(style.yellow(`${count(event.errors)} errors`));
  parts.push(`${count(event.inFlight)} in flight`, style.dim(formatMs(event.elapsedMs)));
  return parts;
}

/** Parts joined on one line, dropping the last ones until the line fits the terminal (a wrapped line cannot be rewritten). */
function fit(parts: string[], columns: number | undefined): string {
  const kept = [...parts];
  const line = (): string => kept.join('  ');
  while (columns !== undefined && columns > 0 && kept.length > 1 && visibleLength(line()) >= columns) kept.splice(kept.length - 2, 1);
  return line();
}

/**
 * Live progress on a terminal: one line, rewritten in place, with the set-up's counters (orders created,
 * payments registered), then the run's percent done, send rate against the target (ramp, rate), stock left
 * and answers. Nothing when the stream is not a TTY, so CI logs and pipes get only the summary.
 */
export function attachBurstProgress(
  events: TypedEmitter<BurstEvents>,
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  style: ChalkInstance,
): () => void {
  if (stream.isTTY !== true) return () => {};
  let shown = false;
  let start: BurstEvents['start'] | null = null;
  const rate = new SendRate();
  const show = (text: string): void => {
    stream.write(`\r\u001b[2K${text}`);
    shown = true;
  };
  const onPhase = (event: BurstEvents['phase']): void => {
    // These two count up through `setup` events instead.
    if (event.phase !== 'orders' && event.phase !== 'payments') show(style.dim(`${event.phase} ${event.detail}…`));
  };
  const onSetup = (event: BurstEvents['setup']): void => {
    const verb = event.phase === 'orders' ? 'created' : 'registered';
    show(`${style.dim(event.phase)} ${progressBar(event.done, event.total, style)} ${percent(event.done, event.total).padStart(4)}  ${count(event.done)}/${count(event.total)} ${verb}`);
  };
  const onStart = (event: BurstEvents['start']): void => {
    start = event;
  };
  const onProgress = (event: BurstEvents['progress']): void => {
    const actual = rate.add(event.elapsedMs, event.sent);
    show(fit(formatProgressLine(event, start, actual, style), stream.columns));
  };
  const onWarning = (warning: BurstEvents['warning']): void => {
    show('');
    stream.write(`${style.yellow(`warning ${warning.code}:`)} ${warning.message}\n`);
  };
  events.on('phase', onPhase);
  events.on('setup', onSetup);
  events.on('start', onStart);
  events.on('progress', onProgress);
  events.on('warning', onWarning);
  return () => {
    events.off('phase', onPhase);
    events.off('setup', onSetup);
    events.off('start', onStart);
    events.off('progress', onProgress);
    events.off('warning', onWarning);
    if (shown) stream.write('\r\u001b[2K');
  };
}
