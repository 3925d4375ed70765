import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { formatMs } from '../../util/duration.js';
import type { BurstReport, BurstTimeline, LatencySummary, ManualConfirmSection, PaymentsSection, PaymentsTimeline } from '../../load/report.js';
import type { LedgerManualConfirm, LedgerSummary } from '../../load/ledger-read.js';
import type { ChartMarker, ChartModel, ChartSeries, PageModel, PageTruth, TruthRow } from './page-model.js';

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

/** What a "yes" to a buyer is called: the gateway's 200 in the Confirm Process, the merchant's own success answer in manual confirm. */
interface SaleWords {
  line: string;
  caption: string;
  axis: string;
}

const CONFIRM_PROCESS_WORDS: SaleWords = {
  line: 'accepted so far (200s)',
  caption: 'Accepted requests (200 within the timeout) as they were read',
  axis: 'accepted so far (requests)',
};

const MANUAL_CONFIRM_WORDS: SaleWords = {
  line: 'told paid so far',
  caption: 'Buyers the merchant told "paid" (a success status within the timeout) as the answers were read',
  axis: 'told paid so far (requests)',
};

function saleChart(timeline: BurstTimeline, axis: TimeAxis, stock: number | null, words: SaleWords): ChartModel {
  const edges = axis.x.length;
  const series: ChartSeries[] = [
    { label: words.line, color: COLORS.accepted, values: cumulative(timeline.accepted), style: 'line' },
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
      `${words.caption}, against the stock; per ${bucketWidth(timeline)} bucket, ` +
      'what was sent and what was refused, timed out or failed to connect. Vertical lines: when the stock ran out, the last 200, the first refusal.',
    xKind: 'time',
    xLabel: `time since start (${axis.unit})`,
    yLabels: [words.axis, `requests per ${bucketWidth(timeline)}`],
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

/**
 * Manual confirm: the merchant charges each buyer itself, so the gateway's confirmed payments, not the
 * buyers' 200s, are what must stay within the stock.
 */
function confirmedChart(payments: PaymentsTimeline, stock: number): ChartModel {
  const axis = timeAxis(payments);
  const width = bucketWidth(payments);
  const within = payments.resolutionMs > 0 ? ` (placed to within ${formatMs(payments.resolutionMs)})` : '';
  return {
    id: 'confirmed',
    title: 'Confirmed at the gateway, against the stock',
    caption:
      `Payments the merchant's confirm calls charged (PAID), as the gateway approved them, against the stock: above the stock line, buyers were ` +
      `charged for items that do not exist. On the right, per ${width} bucket${within}: confirms approved and confirms the PG declined (PG_PROVIDER), through the settle.`,
    xKind: 'time',
    xLabel: `time since start (${axis.unit})`,
    yLabels: ['confirmed so far (payments)', `confirms per ${width}`],
    yLog: false,
    x: axis.x,
    series: [
      { label: 'confirmed so far (PAID)', color: COLORS.accepted, values: cumulative(payments.paid), style: 'line' },
      { label: `stock (${count(stock)})`, color: COLORS.stock, values: constant(axis.x.length, stock), style: 'dash' },
      { label: 'confirmed per bucket', color: COLORS.p50, values: perBucket(payments.paid), style: 'step', axis: 1 },
      { label: 'declined by the PG per bucket', color: COLORS.errors, values: perBucket(payments.declined), style: 'step', axis: 1 },
    ],
    markers: [{ x: axis.scale(payments.settleStartMs), label: `settle begins at ${formatMs(payments.settleStartMs)}`, color: COLORS.timeout }],
  };
}

/** The stock probe through the settle: every confirmed payment takes one unit, and nothing else keeps one. */
function settleChart(samples: PaymentsSection['settle']['samples'], start: number, sold: number, manualConfirm: boolean): ChartModel {
  const x = samples.map((sample) => sample.atMs);
  const expected = start - sold;
  const series: ChartSeries[] = [{ label: 'stock the merchant reported', color: COLORS.stock, values: samples.map((sample) => sample.stock), style: 'step' }];
  if (expected >= 0) {
    series.push({ label: `expected when all is released (${count(expected)})`, color: COLORS.accepted, values: constant(x.length, expected), style: 'dash' });
  }
  const target = `(${count(start)} − ${count(sold)}${expected < 0 ? `: no stock level accounts for ${count(sold)} ${manualConfirm ? 'confirmed' : 'paid'} payments` : ''})`;
  return {
    id: 'settle',
    title: 'Stock after the last answer',
    caption: manualConfirm
      ? `The merchant's stock as probed while waiting for the sale to settle (--settle). Units taken for confirms the PG declined should come back: ` +
        `the stock should reach the start minus what was confirmed ${target}.`
      : `The merchant's stock as probed while waiting for the sale to settle (--settle). Units held for payments the PG declined ` +
        `should come back: the stock should reach the start minus what was paid ${target}.`,
    xKind: 'time',
    xLabel: 'time after the last answer (ms)',
    yLabels: ['units of stock'],
    yLog: false,
    x,
    series,
    markers: [],
  };
}

function paymentCharts(report: BurstReport): ChartModel[] {
  const manualConfirm = report.manualConfirm ?? null;
  if (manualConfirm !== null) {
    const charts = report.timeline.payments ? [confirmedChart(report.timeline.payments, report.stock.stock)] : [];
    const samples = report.payments?.settle.samples ?? [];
    if (samples.length > 0) charts.push(settleChart(samples, report.stock.probe?.before ?? report.stock.stock, manualConfirm.confirmed, true));
    return charts;
  }
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
  if (section && samples.length > 0) charts.push(settleChart(samples, report.stock.probe?.before ?? report.stock.stock, section.paid, false));
  return charts;
}

/** Each finding a buyer can count toward, in the words the truth table uses. */
const FINDING_WORDS = {
  'charged-refused': 'told no, yet charged (confirmed and not cancelled within the settle)',
  'told-paid-unconfirmed': 'told paid, yet the gateway never confirmed the payment',
  'double-confirm': 'a repeated completion confirmed twice, or cancelled a payment its buyer was told paid',
  'charged-unanswered': 'charged, but no answer reached the buyer in time',
} as const;

function findingRow(kind: keyof typeof FINDING_WORDS, found: number, examples: string[]): TruthRow {
  return { label: kind, value: `${count(found)} · ${FINDING_WORDS[kind]}`, bad: found > 0, examples: found > 0 ? examples : [] };
}

function cancelledText(cancelled: number, partly: number): string {
  return `${count(cancelled)}${partly > 0 ? `, ${count(partly)} partly` : ''}`;
}

/** A burst report's manual-confirm truth: the gateway's payments against the stock and against the answers. */
function manualConfirmTruth(report: BurstReport, mc: ManualConfirmSection): PageTruth {
  const stock = report.stock.stock;
  const problem = (kind: string): { count: number; examples: string[] } => {
    const found = report.verdict.problems.find((entry) => entry.kind === kind);
    return found ? { count: found.count, examples: found.examples } : { count: 0, examples: [] };
  };
  const refusals = Object.entries(mc.confirmsRefused)
    .filter(([, n]) => n > 0)
    .map(([type, n]) => `${type} ×${count(n)}`);
  const oversell = problem('oversell');
  const undersell = problem('undersell');
  const probe = report.stock.probe;
  const rows: TruthRow[] = [
    { label: 'confirmed (PAID)', value: `${count(mc.confirmed)} of ${count(stock)} in stock`, bad: mc.confirmed > stock, examples: mc.examples.confirmed },
    { label: 'told paid', value: `${count(mc.toldPaid)} (${mc.successStatus} in time)`, bad: null, examples: [] },
    { label: 'declined by the PG', value: `${count(mc.statuses.failed)} (PG_PROVIDER)`, bad: null, examples: mc.examples.declined },
    { label: 'never confirmed', value: `${count(mc.statuses.ready)} (READY)`, bad: null, examples: [] },
    { label: 'cancelled', value: cancelledText(mc.statuses.cancelled, mc.statuses.partiallyCancelled), bad: null, examples: [] },
    { label: 'oversell', value: `${count(oversell.count)} · confirmed past the stock: charged for items that do not exist`, bad: oversell.count > 0, examples: oversell.examples },
    { label: 'undersell', value: `${count(undersell.count)} · fewer confirmed than min(stock, buyers), declines that came back too late allowed`, bad: undersell.count > 0, examples: undersell.examples },
    findingRow('charged-refused', mc.chargedRefused, mc.examples.chargedRefused),
    findingRow('told-paid-unconfirmed', mc.toldPaidUnconfirmed, mc.examples.toldPaidUnconfirmed),
    findingRow('double-confirm', mc.doubleConfirm, mc.examples.doubleConfirm),
    findingRow('charged-unanswered', mc.chargedUnanswered, mc.examples.chargedUnanswered),
    {
      label: 'confirm calls',
      value: `${count(mc.confirmCalls)}: ${count(mc.confirmsSucceeded)} succeeded${refusals.length > 0 ? `, refused ${refusals.join(', ')}` : ''}`,
      bad: null,
      examples: [],
    },
  ];
  if (probe) rows.push({ label: 'stock probe', value: `${count(probe.before)} → ${count(probe.after)} (fell by ${count(probe.before - probe.after)} for ${count(mc.confirmed)} confirmed)`, bad: null, examples: [] });
  return {
    title: 'Manual confirm: what the gateway holds',
    caption:
      'The merchant charged each buyer itself (POST /payments/{id}/confirm), so the truth is the gateway\'s: payments confirmed against the stock, ' +
      'and against what each buyer was told, read after the settle. Each finding names a few merchant_uids to look up.',
    rows,
  };
}

/** A manual-confirm ledger's truth, buyer by buyer: the ledger holds no verdict, so no finding here is judged anew. */
function ledgerTruth(mc: LedgerManualConfirm, stock: number | null): PageTruth {
  const { payments, findings } = mc;
  const over = stock !== null && mc.confirmed > stock ? mc.confirmed - stock : 0;
  const rows: TruthRow[] = [
    {
      label: 'confirmed (PAID)',
      value: `${count(mc.confirmed)}${stock !== null ? ` of ${count(stock)} in stock` : ' (give --stock N to set it against the stock)'}`,
      bad: stock === null ? null : mc.confirmed > stock,
      examples: mc.examples.confirmed,
    },
    { label: 'declined by the PG', value: `${count(payments.failed)} (PG_PROVIDER)`, bad: null, examples: mc.examples.declined },
    { label: 'never confirmed', value: `${count(payments.ready)} (READY)`, bad: null, examples: [] },
    { label: 'cancelled', value: cancelledText(payments.cancelled, payments['partially-cancelled']), bad: null, examples: [] },
  ];
  if (payments.unknown > 0) rows.push({ label: 'not known', value: `${count(payments.unknown)} (the gateway could not be asked)`, bad: null, examples: [] });
  if (stock !== null) rows.push({ label: 'oversell', value: `${count(over)} · confirmed past the stock: charged for items that do not exist`, bad: over > 0, examples: [] });
  rows.push(
    findingRow('charged-refused', findings['charged-refused'].count, findings['charged-refused'].examples),
    findingRow('told-paid-unconfirmed', findings['told-paid-unconfirmed'].count, findings['told-paid-unconfirmed'].examples),
    findingRow('double-confirm', findings['double-confirm'].count, findings['double-confirm'].examples),
    findingRow('charged-unanswered', findings['charged-unanswered'].count, findings['charged-unanswered'].examples),
  );
  return {
    title: 'Manual confirm: what the gateway held for each buyer',
    caption: 'From the ledger\'s payment and findings fields: each buyer\'s payment at the gateway after the run\'s settle, and the findings the run counted it toward.',
    rows,
  };
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
  const manualConfirm = report.manualConfirm ?? null;
  // Manual confirm's truth is the gateway's confirmed payments: drawn next to the answers buyers were given.
  const payments = paymentCharts(report);
  const charts = [
    saleChart(timeline, axis, config.stock, manualConfirm ? MANUAL_CONFIRM_WORDS : CONFIRM_PROCESS_WORDS),
    ...(manualConfirm ? payments : []),
    latencyChart(timeline, axis, config.p99BudgetMs, config.timeoutMs),
    distributionChart(report.latencyMs, config.p99BudgetMs, config.timeoutMs),
    answersChart(timeline, axis),
    ...(manualConfirm ? [] : payments),
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
  if (manualConfirm) {
    facts.push(
      { label: 'flow', value: `manual-confirm: each buyer posted ${manualConfirm.body}; "paid" is ${manualConfirm.successStatus}` },
      { label: 'token lifetime', value: manualConfirm.tokenLifetimeMs === null ? 'the gateway\'s own' : formatMs(manualConfirm.tokenLifetimeMs) },
    );
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
  const title = `${report.verdict.pass ? 'PASS' : 'FAIL'} · confirm-sim burst${manualConfirm ? ' --flow manual-confirm' : ''} · ${count(counts.buyers)} buyers for ${count(config.stock)} in stock`;
  return {
    title,
    pass: report.verdict.pass,
    summary: report.verdict.summary.replace(/^(PASS|FAIL) /, ''),
    problems: report.verdict.problems.map(({ kind, count: n, message, examples }) => ({ kind, count: n, message, examples })),
    notes: [...report.verdict.notes, ...(report.interrupted ? ['the run was stopped early; these figures cover what happened until then'] : [])],
    warnings: selfCheck.warnings.map(({ code, message }) => ({ code, message })),
    truth: manualConfirm ? manualConfirmTruth(report, manualConfirm) : null,
    facts,
    charts,
    footer: `confirm-sim ${options.version} · burst report schemaVersion ${report.schemaVersion}`,
  };
}

/** The page for a ledger: what its requests show, without a verdict (the ledger does not hold the run's settings). */
export function ledgerPageModel(ledger: LedgerSummary, options: ModelOptions): PageModel {
  const { timeline } = ledger;
  const axis = timeAxis(timeline);
  const manualConfirm = ledger.manualConfirm;
  const charts = [
    saleChart(timeline, axis, ledger.stock, manualConfirm ? MANUAL_CONFIRM_WORDS : CONFIRM_PROCESS_WORDS),
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
    { label: ledger.manualConfirm ? 'told paid' : 'accepted buyers', value: `${count(ledger.acceptedBuyers)}${ledger.stock !== null ? ` for ${count(ledger.stock)} in stock` : ''}` },
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
  const inStock = ledger.stock !== null ? ` for ${count(ledger.stock)} in stock` : '';
  const sold = manualConfirm
    ? `${count(manualConfirm.confirmed)} payments confirmed${inStock}${ledger.stock !== null && manualConfirm.confirmed > ledger.stock ? ' (more than the stock)' : ''}, ` +
      `${count(ledger.acceptedBuyers)} buyers told paid`
    : `${count(ledger.acceptedBuyers)} buyers accepted${inStock}${ledger.stock !== null && ledger.acceptedBuyers > ledger.stock ? ' (more than the stock)' : ''}`;
  return {
    title: `confirm-sim ledger${manualConfirm ? ' --flow manual-confirm' : ''} · ${count(ledger.requests)} requests`,
    pass: null,
    summary: `${sold}; a ledger holds the requests, not the verdict: render the run's --json report for that`,
    problems: [],
    notes: ledger.stock === null ? ['no --stock given, so no stock line is drawn'] : [],
    warnings: [],
    truth: manualConfirm ? ledgerTruth(manualConfirm, ledger.stock) : null,
    facts,
    charts,
    footer: `confirm-sim ${options.version} · from a --ledger file`,
  };
}
