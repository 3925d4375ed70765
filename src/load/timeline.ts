import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { SaleTimeline } from '../gateway/runs.js';
import type { BurstTimeline, PaymentsSection, PaymentsTimeline, ShardTimeline, StockOutMarks } from './report.js';

/** A run gets at most this many buckets: enough to see a sale unfold, few enough to keep the report small. */
export const MAX_TIMELINE_BUCKETS = 300;

/**
 * Bucket widths in ms, each a whole multiple of the one before (1, 5, 10, 50, 100, 500 ...), so `merge` can
 * fold a shard's narrower buckets into the whole run's wider ones without splitting any.
 */
export function timelineBucketMs(durationMs: number): number {
  let width = 1;
  let step = 5;
  while (width * MAX_TIMELINE_BUCKETS < durationMs) {
    width *= step;
    step = step === 5 ? 2 : 5;
  }
  return width;
}

/** Per-bucket latency histograms: 2 significant digits (1 %) keeps each encoded one to a few hundred bytes. */
function newBucketHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: 2, autoResize: true });
}

export type TimelineOutcome = 'accepted' | 'refused' | 'timeout' | 'error';

function zeros(length: number): number[] {
  return new Array<number>(length).fill(0);
}

function percentiles(histogram: Histogram | undefined): { p50: number | null; p90: number | null; p99: number | null; max: number | null } {
  if (!histogram || histogram.totalCount === 0) return { p50: null, p90: null, p99: null, max: null };
  const at = (percentile: number): number => histogram.getValueAtPercentile(percentile) / 1000;
  return { p50: at(50), p90: at(90), p99: at(99), max: histogram.maxValue / 1000 };
}

/** The whole series assembled from counts and histograms, shared by a run's summary and `merge`. */
class SeriesParts {
  readonly sent: number[];
  readonly accepted: number[];
  readonly refused: number[];
  readonly timeouts: number[];
  readonly errors: number[];
  readonly statusCodes: Record<string, number[]> = {};
  readonly errorKinds: Record<string, number[]> = {};
  readonly histograms: Array<Histogram | undefined>;

  constructor(readonly bucketMs: number, readonly length: number) {
    this.sent = zeros(length);
    this.accepted = zeros(length);
    this.refused = zeros(length);
    this.timeouts = zeros(length);
    this.errors = zeros(length);
    this.histograms = new Array<Histogram | undefined>(length);
  }

  index(atMs: number): number {
    if (!(atMs > 0)) return 0;
    return Math.min(this.length - 1, Math.floor(atMs / this.bucketMs));
  }

  add(series: Record<string, number[]>, key: string, bucket: number, count: number): void {
    (series[key] ??= zeros(this.length))[bucket]! += count;
  }

  histogram(bucket: number): Histogram {
    let histogram = this.histograms[bucket];
    if (!histogram) {
      histogram = newBucketHistogram();
      this.histograms[bucket] = histogram;
    }
    return histogram;
  }

  finish(stockOut: StockOutMarks, shards: ShardTimeline[] | null, payments: PaymentsTimeline | null): BurstTimeline {
    const p50: Array<number | null> = [];
    const p90: Array<number | null> = [];
    const p99: Array<number | null> = [];
    const max: Array<number | null> = [];
    const hdr: string[] = [];
    for (const histogram of this.histograms) {
      const values = percentiles(histogram);
      p50.push(values.p50);
      p90.push(values.p90);
      p99.push(values.p99);
      max.push(values.max);
      hdr.push(histogram && histogram.totalCount > 0 ? encodeIntoCompressedBase64(histogram) : '');
    }
    for (const histogram of this.histograms) histogram?.destroy();
    return {
      bucketMs: this.bucketMs,
      buckets: this.length,
      sent: this.sent,
      accepted: this.accepted,
      refused: this.refused,
      timeouts: this.timeouts,
      errors: this.errors,
      statusCodes: this.statusCodes,
      errorKinds: this.errorKinds,
      latencyMs: { p50, p90, p99, max, hdr },
      stockOut,
      shards,
      payments,
    };
  }
}

/**
 * Builds a run's timeline one request at a time, from the outcome store's arrays (or a ledger's lines):
 * counts and a small latency histogram per bucket, nothing per buyer. Times are ms after the run's start.
 */
export class TimelineBuilder {
  readonly #parts: SeriesParts;
  /** When each 200 in time was read, to find the instant the stock-th one arrived. */
  #acceptedAt: Float32Array;
  #acceptedCount = 0;
  #lastAcceptedAtMs = Number.NEGATIVE_INFINITY;
  #firstRefusedAtMs = Number.POSITIVE_INFINITY;

  constructor(
    durationMs: number,
    readonly stock: number,
    expectedRequests = 1024,
  ) {
    const bucketMs = timelineBucketMs(durationMs);
    this.#parts = new SeriesParts(bucketMs, Math.max(1, Math.ceil(durationMs / bucketMs)));
    this.#acceptedAt = new Float32Array(Math.max(16, Math.min(expectedRequests, stock + 1)));
  }

  sent(atMs: number): void {
    this.#parts.sent[this.#parts.index(atMs)]!++;
  }

  /**
   * One request's fate at the moment the gateway learned it: the answer read, the timeout, the connection
   * failure. `latencyMs` goes into the bucket's histogram (answers and timeouts, as in the report's latency).
   */
  settled(outcome: TimelineOutcome, atMs: number, detail: { status?: number; errorKind?: string; latencyMs?: number }): void {
    const parts = this.#parts;
    const bucket = parts.index(atMs);
    switch (outcome) {
      case 'accepted':
        parts.accepted[bucket]!++;
        this.#noteAccepted(atMs);
        break;
      case 'refused':
        parts.refused[bucket]!++;
        if (detail.status !== undefined && detail.status < 500 && atMs < this.#firstRefusedAtMs) this.#firstRefusedAtMs = atMs;
        break;
      case 'timeout':
        parts.timeouts[bucket]!++;
        parts.add(parts.errorKinds, 'timeout', bucket, 1);
        break;
      case 'error':
        parts.errors[bucket]!++;
        parts.add(parts.errorKinds, detail.errorKind ?? 'other', bucket, 1);
        break;
    }
    if (detail.status !== undefined && (outcome === 'accepted' || outcome === 'refused')) {
      parts.add(parts.statusCodes, String(detail.status), bucket, 1);
    }
    if (detail.latencyMs !== undefined && outcome !== 'error') {
      parts.histogram(bucket).recordValue(Math.max(1, Math.round(detail.latencyMs * 1000)));
    }
  }

  #noteAccepted(atMs: number): void {
    if (atMs > this.#lastAcceptedAtMs) this.#lastAcceptedAtMs = atMs;
    // Kept as float32 (4 bytes a 200) and sorted once at the end: the stock-th earliest is the stock-out.
    if (this.#acceptedCount === this.#acceptedAt.length) {
      const grown = new Float32Array(this.#acceptedAt.length * 2);
      grown.set(this.#acceptedAt);
      this.#acceptedAt = grown;
    }
    this.#acceptedAt[this.#acceptedCount++] = atMs;
  }

  /** `payments`: the gateway's side, built by `paymentsTimeline` once the settle is over. */
  finish(payments: PaymentsTimeline | null = null): BurstTimeline {
    let reachedAtMs: number | null = null;
    if (this.stock > 0 && this.#acceptedCount >= this.stock) {
      const times = this.#acceptedAt.subarray(0, this.#acceptedCount).sort();
      reachedAtMs = times[this.stock - 1]!;
    }
    return this.#parts.finish(
      {
        stock: this.stock,
        reachedAtMs,
        lastAcceptedAtMs: Number.isFinite(this.#lastAcceptedAtMs) ? this.#lastAcceptedAtMs : null,
        firstRefusedAtMs: Number.isFinite(this.#firstRefusedAtMs) ? this.#firstRefusedAtMs : null,
        resolutionMs: 0,
      },
      null,
      payments,
    );
  }
}

export interface PaymentsTimelineInput {
  /** The gateway's series from its sale summary; undefined from a gateway that keeps none. */
  sale: SaleTimeline | undefined;
  /** Epoch ms of the run's start (`timing.startedAt`): bucket 0 begins there. */
  runStartedAt: number;
  /** Epoch ms the settle began (after the last answer was handed over). */
  settleStartedAt: number;
  settle: PaymentsSection['settle'];
  /** The stock probed before the run; null without --stock-url. */
  stockBefore: number | null;
  /** Payments paid when the settle ended, for the stock held when the gateway kept no series. */
  paid: number;
}

function lastBucketEnd(sale: SaleTimeline): number {
  const longest = Math.max(sale.paid.length, sale.declined.length, sale.webhookAttempts.length, sale.webhookFailures.length);
  return longest * sale.bucketMs;
}

/**
 * The gateway's side of a sale on the run's clock, from the run's start through the settle: the gateway's
 * own buckets (counted from its first change) each placed where it began, and the stock probe's readings
 * during the settle turned into units held and released.
 */
export function paymentsTimeline(input: PaymentsTimelineInput): PaymentsTimeline {
  const { sale, runStartedAt, settle, stockBefore } = input;
  const settleStartMs = Math.max(0, input.settleStartedAt - runStartedAt);
  const saleShiftMs = sale ? sale.originMs - runStartedAt : 0;
  const spanMs = Math.max(1, settleStartMs + settle.waitedMs, sale ? saleShiftMs + lastBucketEnd(sale) : 0);
  const bucketMs = Math.max(timelineBucketMs(spanMs), sale?.bucketMs ?? 1);
  const buckets = Math.max(1, Math.ceil(spanMs / bucketMs));
  const index = (atMs: number): number => Math.min(buckets - 1, Math.max(0, Math.floor(atMs / bucketMs)));
  const place = (values: number[] | undefined): number[] => {
    const placed = zeros(buckets);
    values?.forEach((count, bucket) => {
      if (count !== 0) placed[index(saleShiftMs + bucket * sale!.bucketMs)]! += count;
    });
    return placed;
  };
  const paid = place(sale?.paid);
  let stockHeld: Array<number | null> | null = null;
  let stockReleased: number[] | null = null;
  if (stockBefore !== null) {
    stockHeld = new Array<number | null>(buckets).fill(null);
    stockReleased = zeros(buckets);
    // The probe before the run: nothing held yet.
    stockHeld[0] = 0;
    const paidBy = cumulativeCounts(paid);
    let previous: number | null = null;
    for (const sample of settle.samples) {
      const bucket = index(settleStartMs + sample.atMs);
      stockHeld[bucket] = stockBefore - sample.stock - (sale ? paidBy[bucket]! : input.paid);
      if (previous !== null && sample.stock > previous) stockReleased[bucket]! += sample.stock - previous;
      previous = sample.stock;
    }
  }
  return {
    bucketMs,
    buckets,
    resolutionMs: sale?.bucketMs ?? 0,
    settleStartMs,
    paid,
    declined: place(sale?.declined),
    webhooksSent: place(sale?.webhookAttempts),
    webhooksFailed: place(sale?.webhookFailures),
    stockHeld,
    stockReleased,
  };
}

/** Running totals: everything up to and including each bucket. */
function cumulativeCounts(values: number[]): number[] {
  let total = 0;
  return values.map((value) => (total += value));
}

export interface ShardTimelineInput {
  shard: number;
  /** This shard's start minus the whole run's start, ms. */
  shiftMs: number;
  timeline: BurstTimeline;
}

function foldInto(target: number[], source: number[], map: (bucket: number) => number): void {
  source.forEach((count, bucket) => {
    if (count !== 0) target[map(bucket)]! += count;
  });
}

/**
 * The whole run's timeline from its shards': each shard bucket lands in the merged bucket where it began
 * (shards start within ms of each other under --start-at), histograms add up, and each shard keeps its own
 * line. The stock-th 200 can then only be placed to a bucket: `stockOut.resolutionMs` says so.
 */
export function mergeTimelines(inputs: ShardTimelineInput[], durationMs: number, stock: number): BurstTimeline {
  const bucketMs = Math.max(timelineBucketMs(durationMs), ...inputs.map((input) => input.timeline.bucketMs));
  const parts = new SeriesParts(bucketMs, Math.max(1, Math.ceil(durationMs / bucketMs)));
  const shards: ShardTimeline[] = [];
  let lastAccepted: number | null = null;
  let firstRefused: number | null = null;
  for (const { shard, shiftMs, timeline } of inputs) {
    const map = (bucket: number): number => parts.index(bucket * timeline.bucketMs + shiftMs);
    foldInto(parts.sent, timeline.sent, map);
    foldInto(parts.accepted, timeline.accepted, map);
    foldInto(parts.refused, timeline.refused, map);
    foldInto(parts.timeouts, timeline.timeouts, map);
    foldInto(parts.errors, timeline.errors, map);
    for (const [status, series] of Object.entries(timeline.statusCodes)) foldInto((parts.statusCodes[status] ??= zeros(parts.length)), series, map);
    for (const [kind, series] of Object.entries(timeline.errorKinds)) foldInto((parts.errorKinds[kind] ??= zeros(parts.length)), series, map);
    const own = new SeriesParts(bucketMs, parts.length);
    foldInto(own.accepted, timeline.accepted, map);
    foldInto(own.refused, timeline.refused, map);
    foldInto(own.timeouts, timeline.timeouts, map);
    foldInto(own.errors, timeline.errors, map);
    timeline.latencyMs.hdr.forEach((encoded, bucket) => {
      if (encoded === '') return;
      const histogram = decodeFromCompressedBase64(encoded);
      parts.histogram(map(bucket)).add(histogram);
      own.histogram(map(bucket)).add(histogram);
      histogram.destroy();
    });
    const ownSeries = own.finish({ stock, reachedAtMs: null, lastAcceptedAtMs: null, firstRefusedAtMs: null, resolutionMs: bucketMs }, null, null);
    shards.push({
      shard,
      accepted: ownSeries.accepted,
      refused: ownSeries.refused,
      timeouts: ownSeries.timeouts,
      errors: ownSeries.errors,
      latencyP99Ms: ownSeries.latencyMs.p99,
    });
    const marks = timeline.stockOut;
    if (marks.lastAcceptedAtMs !== null) lastAccepted = Math.max(lastAccepted ?? Number.NEGATIVE_INFINITY, marks.lastAcceptedAtMs + shiftMs);
    if (marks.firstRefusedAtMs !== null) firstRefused = Math.min(firstRefused ?? Number.POSITIVE_INFINITY, marks.firstRefusedAtMs + shiftMs);
  }
  let reachedAtMs: number | null = null;
  let cumulative = 0;
  for (let bucket = 0; bucket < parts.length && stock > 0; bucket++) {
    cumulative += parts.accepted[bucket]!;
    if (cumulative >= stock) {
      reachedAtMs = (bucket + 1) * bucketMs;
      break;
    }
  }
  shards.sort((a, b) => a.shard - b.shard);
  return parts.finish({ stock, reachedAtMs, lastAcceptedAtMs: lastAccepted, firstRefusedAtMs: firstRefused, resolutionMs: bucketMs }, shards, null);
}
