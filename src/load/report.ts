import type { Dialect } from '../protocol/dialects.js';
import type { ErrorTally, StockTally, Verdict } from '../oracle/stock-oracle.js';
import type { ArrivalMode } from './schedule.js';
import type { ShardSpec } from './options.js';
import type { Flow } from '../protocol/flows.js';
import type { ManualConfirmTally } from '../oracle/manual-confirm.js';

/**
 * Bumped whenever a field changes meaning or disappears, or a closed list (problem kinds, warning codes) grows;
 * adding fields keeps the version. docs/burst-report-schema.md keeps the changelog.
 */
export const BURST_REPORT_SCHEMA_VERSION = 2;
export const BURST_REPORT_KIND = 'confirm-sim.burst';

export const WARNING_CODES = [
  'generator-saturated',
  'event-loop-delay',
  'cpu-bound',
  'no-overlap',
  'behind-schedule',
  'connections-capped',
  'local-errors',
  'target-down',
  'stranded-unobserved',
  'late-start',
  'stock-differs',
  'probe-failed',
  'secret-unused',
  'setup-interrupted',
  'slow-connect',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

/** Something about the run itself, not the merchant, that the reader should know before trusting the figures. */
export interface BurstWarning {
  code: WarningCode;
  message: string;
}

export interface LatencyBucket {
  /** Upper bound of the bucket in ms; null for the overflow bucket. */
  upToMs: number | null;
  count: number;
}

export interface LatencySummary {
  /** Requests measured: answered in time plus timed out (at the time the gateway gave up). */
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
  buckets: LatencyBucket[];
  /** The HDR histogram in microseconds, compressed base64 (HdrHistogram V2 encoding), for merging. */
  hdr: string;
}

export interface RefusalReasonSummary {
  status: number;
  detail: string | null;
  /** What the gateway records on the failed payment (V1 fail_reason / V2 errorMessage). */
  failReason: string | null;
  count: number;
  examples: string[];
}

export interface BurstReportConfig {
  buyers: number;
  stock: number;
  dialect: Dialect;
  amount: number;
  merchantUid: string;
  runId: string;
  signed: boolean;
  /** Masked: whsec_**** at most. */
  secret: string | null;
  mode: ArrivalMode;
  rampMs: number | null;
  ratePerSec: number | null;
  connections: number;
  duplicates: number;
  timeoutMs: number;
  strandedWaitMs: number;
  p99BudgetMs: number;
  /** --max-error-rate: the share of requests that may meet a merchant error (schemaVersion 2). */
  maxErrorRate: number;
  fairnessWindowMs: number;
  workers: number;
  shard: ShardSpec | null;
  startAt: number | null;
  /** How buyers reached the merchant: confirm-process (the gateway's confirm call) or manual-confirm. Absent in older reports. */
  flow?: Flow;
}

/**
 * manual-confirm runs: what each buyer posted, which answers meant "paid", and the gateway's truth set
 * against the merchant's answers, buyer by buyer. The verdict of such a run is judged from this section.
 */
export interface ManualConfirmSection extends ManualConfirmTally {
  /** The completion body template each buyer's post was made from. */
  body: string;
  /** --success-status: the merchant's answers that told a buyer "paid". */
  successStatus: string;
  /** --token-lifetime given to the gateway, or null for the gateway's own. */
  tokenLifetimeMs: number | null;
}

export interface StockSection {
  /** The stock the verdict judged against. */
  stock: number;
  resetTo: number | null;
  probeUrl: string | null;
  probe: { before: number; after: number; beforeAt: number; afterAt: number } | null;
}

/** What became of one sale's payments at the gateway, read after --settle. */
export interface PaymentsSection {
  /** The gateway's REST API base URL the merchant looked payments up through. */
  gateway: string;
  api: 'v1' | 'v2';
  noticeUrl: string | null;
  /** The fraction of approved-for-charge payments the simulated PG declined. */
  declineRate: number;
  /** Payments registered before the timed part, one per buyer. */
  registered: number;
  paid: number;
  /** Answered 200 by the merchant, then declined by the PG. */
  declined: number;
  /** Not charged because of the confirm: refused, unanswered in time, or never sent. */
  failed: number;
  cancelled: number;
  /** Registered payments still ready (no confirm answer reached the gateway, e.g. an interrupted run). */
  ready: number;
  webhooks: {
    /** Webhook messages sent (each counted once, however many attempts it took). */
    sent: number;
    /** Attempts after the first, for messages the merchant did not answer 2xx. */
    retried: number;
    /** Messages that were never answered 2xx, all retries spent. */
    unanswered: number;
    /** Messages still waiting for a retry when the summary was read. */
    pending: number;
  };
  settle: {
    /** --settle: the longest wait after the last answer. */
    budgetMs: number;
    /** How long was waited: less than the budget once the stock balanced and no webhook was pending. */
    waitedMs: number;
    /**
     * Time after the last answer until remaining stock + paid equalled the stock at the start (every unit of
     * a failed payment back); 0 when it already did, null when it never did or the stock was not probed.
     */
    restoredAfterMs: number | null;
    /** The stock probe's readings during the settle, ms after the last answer (at most 50, evenly kept). */
    samples: Array<{ atMs: number; stock: number }>;
  };
  /** A few merchant_uids per outcome, to look up with `confirm-sim gateway`'s payment view or the REST API. */
  examples: { declined: string[]; failed: string[] };
}

/** When the stock ran out, in ms after `timing.startedAt`. */
export interface StockOutMarks {
  stock: number;
  /** The stock-th 200 in time was read; null when fewer were accepted (or the stock was 0). */
  reachedAtMs: number | null;
  lastAcceptedAtMs: number | null;
  /** The first refusal (non-200, non-5xx answer) read. */
  firstRefusedAtMs: number | null;
  /** 0 when exact; in a merged report, `reachedAtMs` is the end of the bucket where the stock-th 200 fell. */
  resolutionMs: number;
}

/** One shard's own line in a merged report, on the merged buckets. */
export interface ShardTimeline {
  shard: number;
  accepted: number[];
  refused: number[];
  timeouts: number[];
  errors: number[];
  latencyP99Ms: Array<number | null>;
}

/**
 * The gateway's side of the sale over time (burst --gateway), on its own buckets: bucket i covers
 * [i, i+1) x bucketMs after `timing.startedAt`, through the settle after the last answer, when webhooks,
 * retries and the merchant's releases still happen. Null without a gateway.
 */
export interface PaymentsTimeline {
  bucketMs: number;
  buckets: number;
  /** The gateway counted in buckets of this width from its own origin: each count is placed to within it. */
  resolutionMs: number;
  /** Where the timed part ended and the settle began, ms after `timing.startedAt`. */
  settleStartMs: number;
  /** Payments charged, by when the gateway charged them. */
  paid: number[];
  /** 200s the PG then declined. */
  declined: number[];
  /** Webhook delivery attempts (first tries and retries). */
  webhooksSent: number[];
  /** Attempts the merchant did not answer 2xx. */
  webhooksFailed: number[];
  /**
   * Units out of the merchant's shelf for payments not paid (stock at the start − stock probed − paid so far),
   * at the last probe reading in the bucket, null between readings; negative when the stock fell by less than
   * was sold. Null without --stock-url.
   */
  stockHeld: Array<number | null> | null;
  /** Units the stock probe saw come back between readings during the settle; null without --stock-url. */
  stockReleased: number[] | null;
}

/**
 * The run as a story in time: per bucket of `bucketMs` (bucket i covers [i, i+1) × bucketMs after
 * `timing.startedAt`), requests written and every request's fate at the moment the gateway learned it.
 */
export interface BurstTimeline {
  bucketMs: number;
  buckets: number;
  /** Requests written, by send time. */
  sent: number[];
  /** 200s in time, by when they were read (requests: a duplicate's 200 counts too). */
  accepted: number[];
  /** Other answers in time, 5xx included. */
  refused: number[];
  /** Requests the gateway gave up on, at the moment it did. */
  timeouts: number[];
  /** Connection errors (no HTTP answer), when they happened. */
  errors: number[];
  statusCodes: Record<string, number[]>;
  errorKinds: Record<string, number[]>;
  latencyMs: {
    p50: Array<number | null>;
    p90: Array<number | null>;
    p99: Array<number | null>;
    max: Array<number | null>;
    /** Each bucket's HDR histogram (µs, 2 significant digits, compressed base64), '' when empty; for merge. */
    hdr: string[];
  };
  stockOut: StockOutMarks;
  /** Merged reports: each shard's line; null otherwise. */
  shards: ShardTimeline[] | null;
  payments: PaymentsTimeline | null;
}

export interface BurstReport {
  schemaVersion: typeof BURST_REPORT_SCHEMA_VERSION;
  kind: typeof BURST_REPORT_KIND;
  interrupted: boolean;
  target: string;
  config: BurstReportConfig;
  /** The shard indices this report covers; null for a run that was not sharded. */
  shards: number[] | null;
  verdict: Verdict & {
    /** True for one shard's report: the stock checks wait for `confirm-sim merge`. */
    partial: boolean;
  };
  /** Buyer-level except requests/sent: accepted + refused + errors + timeouts + notSent + aborted = buyers. */
  counts: {
    buyers: number;
    requests: number;
    sent: number;
    accepted: number;
    refused: number;
    errors: number;
    timeouts: number;
    notSent: number;
    aborted: number;
  };
  /** HTTP answers received within the timeout, per status code (requests). */
  statusCodes: Record<string, number>;
  /** Requests without an answer, per cause (timeout, refused, reset, invalid-http, other). */
  errorKinds: Record<string, number>;
  refusalReasons: RefusalReasonSummary[];
  latencyMs: LatencySummary;
  /** In-time HTTP answers per second, from the first request written to the last answer read. */
  throughputPerSec: number;
  /** First to last request written. */
  dispatchSpreadMs: number;
  dispatch: {
    firstSentAt: number | null;
    lastSentAt: number | null;
    /** Burst mode: first to last write of the opening wave (the requests released by the barrier). */
    waveSpreadMs: number | null;
    waveSize: number;
    /** Paced modes: how late requests left compared with their intended send time. */
    lagP99Ms: number | null;
    lagMaxMs: number | null;
  };
  timing: { startedAt: number; endedAt: number; durationMs: number };
  stock: StockSection;
  /** Present when a gateway took part (--gateway): the sale's truth in money, judged against the stock. */
  payments: PaymentsSection | null;
  /** --flow manual-confirm: the buyers' answers against the payments the merchant confirmed; absent or null otherwise. */
  manualConfirm?: ManualConfirmSection | null;
  fairness: {
    windowMs: number;
    inversions: number;
    /** Sharded paced runs: each buyer's state and time, deflated and base64, so merge can count inversions exactly. */
    timeline: string | null;
  } | null;
  /** Always has `errors` (schemaVersion 2); the oracle also judges tallies made without it. */
  tally: StockTally & { errors: ErrorTally };
  transport: {
    connections: number;
    connectionsOpened: number;
    bytesWritten: number;
    bytesRead: number;
    /** Opening the connection pool, before the barrier (schemaVersion 2). */
    connectMs: number;
    /** Answers that came with no request in flight; each closed its connection (schemaVersion 2). */
    strayAnswers: number;
  };
  selfCheck: {
    fdLimit: number | null;
    threads: number;
    eventLoopUtilization: number;
    eventLoopDelayP99Ms: number;
    eventLoopDelayMaxMs: number;
    cpuCoresBusy: number;
    warnings: BurstWarning[];
  };
  ledger: string | null;
  timeline: BurstTimeline;
}
