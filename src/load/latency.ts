import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencyBucket, LatencySummary } from './report.js';

/** 1-2-5 steps from 0.1 ms to a minute: coarse enough for a terminal, fine enough to see where answers cluster. */
export const BUCKET_BOUNDS_MS = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 60_000,
] as const;

/** Latencies in whole microseconds, 3 significant digits, growing as needed. */
export function newLatencyHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: 3, autoResize: true });
}

export function decodeLatencyHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded);
}

export function recordLatency(histogram: Histogram, buckets: Float64Array, latencyMs: number): void {
  histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  let bucket = 0;
  while (bucket < BUCKET_BOUNDS_MS.length && latencyMs > BUCKET_BOUNDS_MS[bucket]!) bucket++;
  buckets[bucket]!++;
}

export function emptyBuckets(): Float64Array {
  return new Float64Array(BUCKET_BOUNDS_MS.length + 1);
}

export function bucketsFromReport(buckets: LatencyBucket[]): Float64Array {
  const counts = emptyBuckets();
  for (const bucket of buckets) {
    const index = bucket.upToMs === null ? BUCKET_BOUNDS_MS.length : BUCKET_BOUNDS_MS.indexOf(bucket.upToMs as never);
    if (index >= 0) counts[index]! += bucket.count;
  }
  return counts;
}

export function summarizeLatency(histogram: Histogram, buckets: Float64Array): LatencySummary {
  const count = histogram.totalCount;
  const at = (percentile: number): number | null => (count > 0 ? histogram.getValueAtPercentile(percentile) / 1000 : null);
  return {
    count,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: count > 0 ? histogram.maxValue / 1000 : null,
    mean: count > 0 ? histogram.mean / 1000 : null,
    buckets: Array.from(buckets, (bucketCount, index) => ({
      upToMs: BUCKET_BOUNDS_MS[index] ?? null,
      count: bucketCount,
    })),
    hdr: encodeIntoCompressedBase64(histogram),
  };
}
