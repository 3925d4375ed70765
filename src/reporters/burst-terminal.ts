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

/** A gateway run's money side: what the PG did after the merchant's answers, and the webhooks that followed. */
function formatPayments(payments: NonNullable<BurstReport['payments']>, style: ChalkInstance): string[] {
  const declined = payments.declined > 0 ? style.yellow(count(payments.declined)) : '0';
  const ready = payments.ready > 0 ? `   still ready ${style.yellow(count(payments.ready))}` : '';
  const cancelled = payments.cancelled > 0 ? `   cancelled ${count(payments.cancelled)}` : '';
  const { webhooks, settle } = payments;
  const unanswered = webhooks.unanswered > 0 ? style.red(count(webhooks.unanswered)) : '0';
  const pending = webhooks.pending > 0 ? `   still pending ${style.yellow(count(webhooks.pending))}` : '';
  const restored =
    settle.restoredAfterMs === null
      ? 'stock did not balance'
      : settle.restoredAfterMs === 0
        ? 'stock balanced at once'
        : `declined stock back after ${formatMs(settle.restoredAfterMs)}`;
  const where = payments.noticeUrl === null ? style.dim(' (no --notice-url: none sent)') : style.dim(` to ${payments.noticeUrl}`);
  return [
    `${label('gateway', style)}${payments.gateway} ${payments.api.toUpperCase()}, ${count(payments.registered)} payments registered, decline rate ${payments.declineRate}`,
    `${label('payments', style)}paid ${style.green(count(payments.paid))}   declined ${declined}   failed ${count(payments.failed)}${cancelled}${ready}`,
    `${label('webhooks', style)}sent ${count(webhooks.sent)}   retried ${count(webhooks.retried)}   not answered ${unanswered}${pending}${where}`,
    `${label('settle', style)}waited ${formatMs(settle.waitedMs)} of ${formatMs(settle.budgetMs)}, ${restored}`,
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
  if (payments) lines.push(...formatPayments(payments, style));
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

/**
 * Live progress on a terminal: one line, rewritten in place. Nothing when the stream is not a TTY, so CI
 * logs and pipes get only the summary.
 */
export function attachBurstProgress(
  events: TypedEmitter<BurstEvents>,
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  style: ChalkInstance,
): () => void {
  if (stream.isTTY !== true) return () => {};
  let shown = false;
  const show = (text: string): void => {
    stream.write(`\r\u001b[2K${text}`);
    shown = true;
  };
  const onPhase = (event: BurstEvents['phase']): void => show(style.dim(`${event.phase} ${event.detail}…`));
  const onProgress = (event: BurstEvents['progress']): void => {
    show(
      `${style.bold('burst')} ${count(event.sent)}/${count(event.requests)} sent  ${style.green(`${count(event.accepted)} accepted`)}  ` +
        `${count(event.refused)} refused  ${count(event.timeouts)} timeouts  ${count(event.errors)} errors  ` +
        `${count(event.inFlight)} in flight  ${style.dim(formatMs(event.elapsedMs))}`,
    );
  };
  const onWarning = (warning: BurstEvents['warning']): void => {
    show('');
    stream.write(`${style.yellow(`warning ${warning.code}:`)} ${warning.message}\n`);
  };
  events.on('phase', onPhase);
  events.on('progress', onProgress);
  events.on('warning', onWarning);
  return () => {
    events.off('phase', onPhase);
    events.off('progress', onProgress);
    events.off('warning', onWarning);
    if (shown) stream.write('\r\u001b[2K');
  };
}
