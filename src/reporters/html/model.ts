import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { formatMs } from '../../util/duration.js';
import type { BurstReport, BurstTimeline, LatencySummary } from '../../load/report.js';
import type { LedgerSummary } from '../../load/ledger-read.js';
import type { ChartMarker, ChartModel, ChartSeries, PageModel } from './page-model.js';

/** The terminal's colours (chalk's green, red, yellow, cyan), a little darker to read on white. */
export const COLORS = {
  accepted: '#1f9d3a',
  refused: '#4f6fb0',
  timeouts: '#c98a00',
  errors: '#d0342c',
  serverErrors: '#9c1f6e',
  stock: '#222222',
  sent: '#9aa3ad',
  p50: '#2a9d8f',
  p90: '#4f6fb0',
  p99: '#d0342c',
  budget: '#c98a00',
  timeout: '#555555',
} as const;

/** More colours for series without a meaning of their own (status codes, shards). */
const PALETTE = ['#4f6fb0', '#2a9d8f', '#8e5bb5', '#e07b39', '#6b8e23', '#b5485d', '#3b8bc2', '#a67c00'];

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function msOrDash(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : formatMs(value);
}

/** Time on the x axis in ms or s, whichever keeps tick labels short. */
interface TimeAxis {
  x: number[];
  unit: 'ms' | 's';
  /** Converts ms after the start to the axis unit. */
  scale: (ms: number) => number;
}

/** One point per bucket edge (buckets + 1), so per-bucket steps cover their whole bucket. */
function timeAxis(timeline: Pick<BurstTimeline, 'bucketMs' | 'buckets'>): TimeAxis {
  const unit = timeline.bucketMs * timeline.buckets >= 5000 ? 's' : 'ms';
  const scale = (ms: number): number => (unit === 's' ? ms / 1000 : ms);
  const x = Array.from({ length: timeline.buckets + 1 }, (_, edge) => scale(edge * timeline.bucketMs));
  return { x, unit, scale };
}

/** A per-bucket series on the edge axis: the last edge repeats the last bucket so the step closes. */
function perBucket(values: Array<number | null>): Array<number | null> {
  return [...values, values[values.length - 1] ?? null];
}

/** Running total at each edge: 0 at the start, everything up to bucket i at edge i + 1. */
function cumulative(values: number[]): number[] {
  const out = [0];
  let total = 0;
  for (const value of values) out.push((total += value));
  return out;
}

function constant(length: number, value: number): number[] {
  return new Array<number>(length).fill(value);
}

function bucketWidth(timeline: Pick<BurstTimeline, 'bucketMs'>): string {
  return formatMs(timeline.bucketMs).replace('.00 ', ' ').replace(/\.0 ms$/, ' ms');
}

function statusColor(status: string, index: number): string {
  if (status === '200') return COLORS.accepted;
  if (status.startsWith('5')) return index % 2 === 0 ? COLORS.serverErrors : COLORS.errors;
  return PALETTE[index % PALETTE.length]!;
}

const ERROR_KIND_COLORS: Record<string, string> = { timeout: COLORS.timeouts, refused: COLORS.errors, reset: '#e07b39' };

function stockMarkers(timeline: BurstTimeline, axis: TimeAxis): ChartMarker[] {
  const marks = timeline.stockOut;
  const markers: ChartMarker[] = [];
  if (marks.reachedAtMs !== null) {
    const within = marks.resolutionMs > 0 ? ` (within ${formatMs(marks.resolutionMs)})` : '';
    markers.push({ x: axis.scale(marks.reachedAtMs), label: `stock out: 200 no. ${count(marks.stock)} at ${formatMs(marks.reachedAtMs)}${within}`, color: COLORS.stock });
  }
  if (marks.lastAcceptedAtMs !== null && marks.lastAcceptedAtMs !== marks.reachedAtMs) {
    markers.push({ x: axis.scale(marks.lastAcceptedAtMs), label: `last 200 at ${formatMs(marks.lastAcceptedAtMs)}`, color: COLORS.accepted });
  }
  if (marks.firstRefusedAtMs !== null) {
    markers.push({ x: axis.scale(marks.firstRefusedAtMs), label: `first refusal at ${formatMs(marks.firstRefusedAtMs)}`, color: COLORS.refused });
  }
  return markers;
}

function saleChart(timeline: BurstTimeline, axis: TimeAxis, stock: number | null): ChartModel {
  const edges = axis.x.length;
  const series: ChartSeries[] = [
    { label: 'accepted so far (200s)', color: COLORS.accepted, values: cumulative(timeline.accepted), style: 'line' },
  ];
  if (stock !== null) series.push({ label: `stock (${count(stock)})`, color: COLORS.stock, values: constant(edges, stock), style: 'dash' });
  series.push(
    { label: 'sent per bucket', color: COLORS.sent, values: perBucket(timeline.sent), style: 'step', axis: 1 },
    { label: 'refused per bucket', color: COLORS.refused, values: perBucket(timeline.refused), style: 'step', axis: 1 },
    { label: 'timeouts per bucket', color: COLORS.timeouts, values: perBucket(timeline.timeouts), style: 'step', axis: 1 },
    { label: 'errors per bucket', color: COLORS.errors, values: perBucket(timeline.errors), style: 'step', axis: 1 },
  );
  return {
    id: 'sale',
    title: 'The sale',
    caption:
      `Accepted requests (200 within the timeout) as they were read, against the stock; per ${bucketWidth(timeline)} bucket, ` +
      'what was sent and what was refused, timed out or failed to connect. Vertical lines: when the stock ran out, the last 200, the first refusal.',
    xKind: 'time',
    xLabel: `time since start (${axis.unit})`,
    yLabels: ['accepted so far (requests)', `requests per ${bucketWidth(timeline)}`],
    yLog: false,
    x: axis.x,
    series,
    markers: stockMarkers(timeline, axis),
  };
}

function latencyLimits(edges: number, budgetMs: number | null, timeoutMs: number | null): ChartSeries[] {
  const limits: ChartSeries[] = [];
  if (budgetMs !== null) limits.push({ label: `p99 budget (${formatMs(budgetMs)})`, color: COLORS.budget, values: constant(edges, budgetMs), style: 'dash' });
  if (timeoutMs !== null) limits.push({ label: `gateway timeout (${formatMs(timeoutMs)})`, color: COLORS.timeout, values: constant(edges, timeoutMs), style: 'dash' });
  return limits;
}

function latencyChart(timeline: BurstTimeline, axis: TimeAxis, budgetMs: number | null, timeoutMs: number | null): ChartModel {
  const { latencyMs } = timeline;
  return {
    id: 'latency',
    title: 'Latency over time',
    caption: `p50, p90 and p99 of the answers and timeouts read in each ${bucketWidth(timeline)} bucket (log scale), with the limits they are judged by.`,
    xKind: 'time',
    xLabel: `time since start (${axis.unit})`,
    yLabels: ['latency (ms, log scale)'],
    yLog: true,
    x: axis.x,
    series: [
      { label: 'p50', color: COLORS.p50, values: perBucket(latencyMs.p50), style: 'step', spanGaps: true },
      { label: 'p90', color: COLORS.p90, values: perBucket(latencyMs.p90), style: 'step', spanGaps: true },
      { label: 'p99', color: COLORS.p99, values: perBucket(latencyMs.p99), style: 'step', spanGaps: true },
      ...latencyLimits(axis.x.length, budgetMs, timeoutMs),
    ],
    markers: stockMarkers(timeline, axis),
  };
}

/** Percentiles to plot the HDR histogram at: denser towards the tail, as HdrHistogram's own plots are. */
const SPECTRUM_PERCENTILES = [
  0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 77.5, 80, 82.5, 85, 87.5, 90, 91.25, 92.5, 93.75, 95, 96, 97, 97.5, 98, 98.5, 99,
  99.25, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995, 99.999,
];

function distributionChart(latency: LatencySummary, budgetMs: number | null, timeoutMs: number | null): ChartModel | null {
  if (latency.count === 0) return null;
  const histogram = decodeFromCompressedBase64(latency.hdr);
  // Beyond 1 / count the tail is a single request: stop there, then show the maximum.
  const shown = SPECTRUM_PERCENTILES.filter((p) => p === 0 || 1 - p / 100 >= 1 / latency.count);
  const x = shown.map((p) => Math.log10(1 / (1 - p / 100)));
  const values = shown.map((p) => histogram.getValueAtPercentile(p) / 1000);
  x.push(Math.max(x[x.length - 1]! + 0.25, Math.log10(latency.count)));
  values.push(histogram.maxValue / 1000);
  histogram.destroy();
  return {
    id: 'distribution',
    title: 'Latency distribution',
    caption: `Every measured request (${count(latency.count)}: answers in time and timeouts) from the HDR histogram, by percentile; the last point is the maximum.`,
    xKind: 'percentile',
    xLabel: 'percentile',
    yLabels: ['latency (ms, log scale)'],
    yLog: true,
    x,
    series: [
      { label: 'latency', color: COLORS.p90, values, style: 'line' },
      ...latencyLimits(x.length, budgetMs, timeoutMs),
    ],
    markers: [],
  };
}

function answersChart(timeline: BurstTimeline, axis: TimeAxis): ChartModel {
  const statuses = Object.keys(timeline.statusCodes).sort((a, b) => Number(a) - Number(b));
  const kinds = Object.keys(timeline.errorKinds).sort();
  const series: ChartSeries[] = [
    ...statuses.map((status, index): ChartSeries => ({ label: `HTTP ${status}`, color: statusColor(status, index), values: perBucket(timeline.statusCodes[status]!), style: 'step' })),
    ...kinds.map((kind, index): ChartSeries => ({
      label: kind === 'timeout' ? 'timeout (no answer in time)' : `${kind} (no HTTP answer)`,
      color: ERROR_KIND_COLORS[kind] ?? PALETTE[(index + 3) % PALETTE.length]!,
      values: perBucket(timeline.errorKinds[kind]!),
      style: 'step',
    })),
  ];
  return {
    id: 'answers',
    title: 'Status codes and error classes over time',
    caption: `Answers in time per status code, and requests without an answer per cause, in each ${bucketWidth(timeline)} bucket.`,
    xKind: 'time',
    xLabel: `time since start (${axis.unit})`,
    yLabels: [`requests per ${bucketWidth(timeline)}`],
    yLog: false,
    x: axis.x,
    series,
    markers: stockMarkers(timeline, axis),
  };
}

function shardCharts(timeline: BurstTimeline, axis: TimeAxis, stock: number): ChartModel[] {
  if (!timeline.shards || timeline.shards.length === 0) return [];
  const color = (index: number): string => PALETTE[index % PALETTE.length]!;
  return [
    {
      id: 'shards',
      title: 'Accepted per shard',
      caption: 'Each shard\'s 200s as they were read, on the merged run\'s clock (each shard shifted by its start).',
      xKind: 'time',
      xLabel: `time since start (${axis.unit})`,
      yLabels: ['accepted so far (requests)'],
      yLog: false,
      x: axis.x,
      series: [
        ...timeline.shards.map((line, index): ChartSeries => ({ label: `shard ${line.shard}`, color: color(index), values: cumulative(line.accepted), style: 'line' })),
        { label: `stock (${count(stock)})`, color: COLORS.stock, values: constant(axis.x.length, stock), style: 'dash' },
      ],
      markers: stockMarkers(timeline, axis),
    },
    {
      id: 'shard-latency',
      title: 'p99 latency per shard',
      caption: `Each shard's p99 per ${bucketWidth(timeline)} bucket (log scale).`,
      xKind: 'time',
      xLabel: `time since start (${axis.unit})`,
      yLabels: ['p99 latency (ms, log scale)'],
      yLog: true,
      x: axis.x,
      series: timeline.shards.map((line, index): ChartSeries => ({ label: `shard ${line.shard} p99`, color: color(index), values: perBucket(line.latencyP99Ms), style: 'step', spanGaps: true })),
      markers: [],
    },
  ];
}

function paymentCharts(report: BurstReport): ChartModel[] {
  const charts: ChartModel[] = [];
  const payments = report.timeline.payments;
  if (payments) {
    const axis = timeAxis(payments);
    const width = bucketWidth(payments);
    const series: ChartSeries[] = [
      { label: 'paid', color: COLORS.accepted, values: perBucket(payments.paid), style: 'step' },
      { label: 'declined by the PG', color: COLORS.errors, values: perBucket(payments.declined), style: 'step' },
      { label: 'webhook attempts', color: COLORS.refused, values: perBucket(payments.webhooksSent), style: 'step' },
      { label: 'webhook attempts failed', color: COLORS.timeouts, values: perBucket(payments.webhooksFailed), style: 'step' },
    ];
    const stock = payments.stockHeld !== null && payments.stockReleased !== null;
    if (payments.stockHeld) series.push({ label: 'stock held for unpaid payments', color: COLORS.stock, values: [...payments.stockHeld, null], style: 'points', axis: 1 });
    if (payments.stockReleased) series.push({ label: 'stock released', color: '#8e5bb5', values: perBucket(payments.stockReleased), style: 'step', axis: 1 });
    const within = payments.resolutionMs > 0 ? ` (placed to within ${formatMs(payments.resolutionMs)})` : '';
    charts.push({
      id: 'payments',
      title: 'Payments at the gateway',
      caption:
        `Per ${width} bucket${within}, through the settle after the last answer: payments charged and declined, webhook delivery attempts and the ones ` +
        `the merchant did not answer 2xx${stock ? '; on the right, the units out of the shelf for payments not paid (at each stock probe) and the units the probe saw come back' : ''}.`,
      xKind: 'time',
      xLabel: `time since start (${axis.unit})`,
      yLabels: stock ? [`payments, attempts per ${width}`, 'units of stock'] : [`payments, attempts per ${width}`],
      yLog: false,
      x: axis.x,
      series,
      markers: [{ x: axis.scale(payments.settleStartMs), label: `settle begins at ${formatMs(payments.settleStartMs)}`, color: COLORS.timeout }],
    });
  }
  const section = report.payments;
  const samples = section?.settle.samples ?? [];
  if (section && samples.length > 0) {
    const x = samples.map((sample) => sample.atMs);
    const start = report.stock.probe?.before ?? report.stock.stock;
    charts.push({
      id: 'settle',
      title: 'Stock after the last answer',
      caption:
        `The merchant's stock as probed while waiting for the sale to settle (--settle). Units held for payments the PG declined ` +
        `should come back: the stock should reach the start minus what was paid (${count(start)} − ${count(section.paid)}).`,
      xKind: 'time',
      xLabel: 'time after the last answer (ms)',
      yLabels: ['units of stock'],
      yLog: false,
      x,
      series: [
        { label: 'stock the merchant reported', color: COLORS.stock, values: samples.map((sample) => sample.stock), style: 'step' },
        { label: `expected when all is released (${count(start - section.paid)})`, color: COLORS.accepted, values: constant(x.length, start - section.paid), style: 'dash' },
      ],
      markers: [],
    });
  }
  return charts;
}

function modeText(config: BurstReport['config']): string {
  if (config.mode === 'ramp') return `ramp over ${formatMs(config.rampMs ?? 0)}`;
  if (config.mode === 'rate') return `rate ${count(config.ratePerSec ?? 0)}/s`;
  return 'burst (all at once)';
}

export interface ModelOptions {
  /** Turns the report's target into what may be shown (credentials masked). */
  maskUrl: (url: string) => string;
  version: string;
}

/** The page for a burst or merged report: verdict first, then the charts, then every fact the report holds. */
export function reportPageModel(report: BurstReport, options: ModelOptions): PageModel {
  const { config, counts, timeline } = report;
  const axis = timeAxis(timeline);
  const charts = [
    saleChart(timeline, axis, config.stock),
    latencyChart(timeline, axis, config.p99BudgetMs, config.timeoutMs),
    distributionChart(report.latencyMs, config.p99BudgetMs, config.timeoutMs),
    answersChart(timeline, axis),
    ...paymentCharts(report),
    ...shardCharts(timeline, axis, config.stock),
  ].filter((chart): chart is ChartModel => chart !== null);
  const latency = report.latencyMs;
  const facts: PageModel['facts'] = [
    { label: 'target', value: options.maskUrl(report.target) },
    { label: 'dialect', value: `${config.dialect}${config.signed ? `, signed (${config.secret ?? 'secret masked'})` : ''}` },
    { label: 'mode', value: modeText(config) },
    { label: 'buyers', value: `${count(counts.buyers)}${counts.requests > counts.buyers ? ` (${count(counts.requests - counts.buyers)} confirms sent twice)` : ''}` },
    { label: 'stock', value: count(config.stock) },
    { label: 'outcome', value: `accepted ${count(counts.accepted)}, refused ${count(counts.refused)}, timeouts ${count(counts.timeouts)}, errors ${count(counts.errors)}${counts.notSent + counts.aborted > 0 ? `, not sent ${count(counts.notSent)}, aborted ${count(counts.aborted)}` : ''}` },
    { label: 'connections', value: `${count(config.connections)} (${count(report.transport.connectionsOpened)} opened)` },
    { label: 'workers', value: count(config.workers) },
    { label: 'dispatch spread', value: `${formatMs(report.dispatchSpreadMs)}${report.dispatch.waveSpreadMs !== null && config.mode === 'burst' ? ` (opening wave of ${count(report.dispatch.waveSize)} in ${formatMs(report.dispatch.waveSpreadMs)})` : ''}${report.dispatch.lagP99Ms !== null ? `, send lag p99 ${formatMs(report.dispatch.lagP99Ms)}` : ''}` },
    { label: 'latency', value: `p50 ${msOrDash(latency.p50)}, p90 ${msOrDash(latency.p90)}, p99 ${msOrDash(latency.p99)}, p99.9 ${msOrDash(latency.p999)}, max ${msOrDash(latency.max)} (budget ${formatMs(config.p99BudgetMs)}, timeout ${formatMs(config.timeoutMs)})` },
    { label: 'throughput', value: `${count(report.throughputPerSec)} answers/s` },
    { label: 'duration', value: `${formatMs(report.timing.durationMs)}, started ${new Date(report.timing.startedAt).toISOString()}` },
    { label: 'run id', value: config.runId },
    { label: 'timeline', value: `${count(timeline.buckets)} buckets of ${bucketWidth(timeline)}` },
  ];
  if (report.shards) facts.push({ label: 'shards', value: `${report.shards.join(', ')}${config.shard ? ` of ${config.shard.count}` : ''}` });
  if (report.stock.probe) facts.push({ label: 'stock probe', value: `${count(report.stock.probe.before)} → ${count(report.stock.probe.after)} (fell by ${count(report.stock.probe.before - report.stock.probe.after)})` });
  if (report.fairness) facts.push({ label: 'fairness', value: `${count(report.fairness.inversions)} inversions (window ${formatMs(report.fairness.windowMs)})` });
  if (report.tally.stranded > 0) facts.push({ label: 'stranded', value: `${count(report.tally.stranded)} late 200s after the timeout` });
  if (report.payments) {
    const p = report.payments;
    facts.push({
      label: 'gateway',
      value: `${options.maskUrl(p.gateway)} (${p.api}): paid ${count(p.paid)}, declined ${count(p.declined)}, failed ${count(p.failed)}, webhooks sent ${count(p.webhooks.sent)} (${count(p.webhooks.unanswered)} unanswered)`,
    });
  }
  const statuses = Object.entries(report.statusCodes).map(([status, n]) => `${status} ×${count(n)}`);
  const failures = Object.entries(report.errorKinds).map(([kind, n]) => `${kind} ×${count(n)}`);
  facts.push({ label: 'answers', value: [...statuses, ...failures].join(', ') || 'none' });
  for (const reason of report.refusalReasons.slice(0, 5)) {
    facts.push({ label: 'refusal', value: `${reason.status} ${reason.detail === null ? '(no reason given)' : JSON.stringify(reason.detail)} ×${count(reason.count)}, e.g. ${reason.examples.join(', ')}` });
  }
  const selfCheck = report.selfCheck;
  facts.push({
    label: 'self-check',
    value: `event loop ${(selfCheck.eventLoopUtilization * 100).toFixed(0)}% busy, delay p99 ${formatMs(selfCheck.eventLoopDelayP99Ms)}, ${selfCheck.cpuCoresBusy.toFixed(2)} cores for ${selfCheck.threads} thread(s)${selfCheck.fdLimit !== null ? `, open-file limit ${count(selfCheck.fdLimit)}` : ''}`,
  });
  const title = `${report.verdict.pass ? 'PASS' : 'FAIL'} · confirm-sim burst · ${count(counts.buyers)} buyers for ${count(config.stock)} in stock`;
  return {
    title,
    pass: report.verdict.pass,
    summary: report.verdict.summary.replace(/^(PASS|FAIL) /, ''),
    problems: report.verdict.problems.map(({ kind, count: n, message, examples }) => ({ kind, count: n, message, examples })),
    notes: [...report.verdict.notes, ...(report.interrupted ? ['the run was stopped early; these figures cover what happened until then'] : [])],
    warnings: selfCheck.warnings.map(({ code, message }) => ({ code, message })),
    facts,
    charts,
    footer: `confirm-sim ${options.version} · burst report schemaVersion ${report.schemaVersion}`,
  };
}

/** The page for a ledger: what its requests show, without a verdict (the ledger does not hold the run's settings). */
export function ledgerPageModel(ledger: LedgerSummary, options: ModelOptions): PageModel {
  const { timeline } = ledger;
  const axis = timeAxis(timeline);
  const charts = [
    saleChart(timeline, axis, ledger.stock),
    latencyChart(timeline, axis, null, null),
    distributionChart(ledger.latencyMs, null, null),
    answersChart(timeline, axis),
  ].filter((chart): chart is ChartModel => chart !== null);
  const latency = ledger.latencyMs;
  const outcomes = Object.entries(ledger.outcomes).map(([outcome, n]) => `${outcome} ${count(n)}`);
  const facts: PageModel['facts'] = [
    { label: 'ledger', value: ledger.source },
    { label: 'requests', value: `${count(ledger.requests)} (${count(ledger.buyers)} buyers${ledger.duplicates > 0 ? `, ${count(ledger.duplicates)} confirms sent twice` : ''})` },
    { label: 'mode', value: ledger.paced ? 'paced (--ramp or --rate): latency counts from the intended send time' : 'burst (all at once)' },
    { label: 'requests by outcome', value: outcomes.join(', ') },
    { label: 'accepted buyers', value: `${count(ledger.acceptedBuyers)}${ledger.stock !== null ? ` for ${count(ledger.stock)} in stock` : ''}` },
    { label: 'latency', value: `p50 ${msOrDash(latency.p50)}, p90 ${msOrDash(latency.p90)}, p99 ${msOrDash(latency.p99)}, p99.9 ${msOrDash(latency.p999)}, max ${msOrDash(latency.max)}` },
    { label: 'duration', value: formatMs(ledger.durationMs) },
    { label: 'timeline', value: `${count(timeline.buckets)} buckets of ${bucketWidth(timeline)}` },
  ];
  if (ledger.stranded > 0) facts.push({ label: 'stranded', value: `${count(ledger.stranded)} late 200s after the timeout` });
  const statuses = Object.entries(ledger.statusCodes).map(([status, n]) => `${status} ×${count(n)}`);
  const failures = Object.entries(ledger.errorKinds).map(([kind, n]) => `${kind} ×${count(n)}`);
  facts.push({ label: 'answers', value: [...statuses, ...failures].join(', ') || 'none' });
  for (const reason of ledger.refusalReasons.slice(0, 5)) {
    facts.push({ label: 'refusal', value: `${reason.status} ${reason.detail === null ? '(no reason given)' : JSON.stringify(reason.detail)} ×${count(reason.count)}, e.g. ${reason.examples.join(', ')}` });
  }
  const overStock = ledger.stock !== null && ledger.acceptedBuyers > ledger.stock;
  return {
    title: `confirm-sim ledger · ${count(ledger.requests)} requests`,
    pass: null,
    summary:
      `${count(ledger.acceptedBuyers)} buyers accepted${ledger.stock !== null ? ` for ${count(ledger.stock)} in stock${overStock ? ' (more than the stock)' : ''}` : ''}; ` +
      'a ledger holds the requests, not the verdict: render the run\'s --json report for that',
    problems: [],
    notes: ledger.stock === null ? ['no --stock given, so no stock line is drawn'] : [],
    warnings: [],
    facts,
    charts,
    footer: `confirm-sim ${options.version} · from a --ledger file`,
  };
}
