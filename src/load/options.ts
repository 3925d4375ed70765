import { describeBadHeader } from '../util/secrets.js';
import { UsageError } from '../util/errors.js';
import { parseHttpUrl, requireLoopback } from '../util/url.js';
import { DEFAULT_TIMEOUT_MS } from '../protocol/decision.js';
import { isV2, type Dialect } from '../protocol/dialects.js';
import { DEFAULT_FLOW, type Flow, type SuccessStatuses } from '../protocol/flows.js';
import { resolveCompletion } from '../protocol/completion-options.js';
import type { GatewayTarget } from '../gateway/link.js';
import type { WebhookSecret } from '../protocol/signing.js';
import { newRunId } from '../protocol/ids.js';
import type { ArrivalMode } from './schedule.js';
import { MerchantUidTemplate } from './schedule.js';

/** Which slice of a run spread over several machines this process runs: index in [0, count). */
export interface ShardSpec {
  index: number;
  count: number;
}

/** What a caller asks of a burst. Durations are milliseconds; everything but url and buyers has a default. */
export interface BurstOptions {
  url: string | URL;
  buyers: number;
  /** The stock on sale; when omitted, the --stock-url probe before the run says it. */
  stock?: number | undefined;
  dialect?: Dialect | undefined;
  amount?: number | undefined;
  /** merchant_uid template with `{n}` (buyer number) and optionally `{run}` (run id). */
  merchantUid?: string | undefined;
  /** Names the run in merchant_uids and reports; give every shard of one run the same id. */
  runId?: string | undefined;
  secret?: WebhookSecret | undefined;
  headers?: Record<string, string> | undefined;
  timeoutMs?: number | undefined;
  /** How long past the timeout a socket stays open to see a late answer (a late 200 is a stranded payment). */
  strandedWaitMs?: number | undefined;
  rampMs?: number | undefined;
  ratePerSec?: number | undefined;
  connections?: number | undefined;
  /** Fraction of buyers, 0..1, whose confirm is sent twice. */
  duplicates?: number | undefined;
  orderUrl?: string | URL | undefined;
  resetUrl?: string | URL | undefined;
  stockUrl?: string | URL | undefined;
  /** Sent with every set-up call (reset, stock probe, orders), e.g. the sample merchant's admin token; never reported. */
  hookHeaders?: Record<string, string> | undefined;
  p99BudgetMs?: number | undefined;
  /** Share of requests (0..1) that may meet a merchant error (5xx, reset, invalid HTTP) and still pass; default 0. */
  maxErrorRate?: number | undefined;
  /** Arrivals closer than this are treated as simultaneous when judging fairness. */
  fairnessWindowMs?: number | undefined;
  workers?: number | undefined;
  shard?: ShardSpec | undefined;
  /** Unix ms at which the first request goes out; lets shards on several machines start together. */
  startAt?: number | undefined;
  /** NDJSON file receiving one line per request. */
  ledgerPath?: string | undefined;
  /**
   * The simulated gateway to play every payment through: each buyer's payment is registered first (so the
   * merchant's REST lookups find it), each answer is handed over as it arrives, and the verdict is about
   * paid payments against stock. A URL, or a RunningGateway from startGateway().
   */
  gateway?: GatewayTarget | undefined;
  /** Where the gateway sends the payments' webhooks (the merchant's notice_url / V2 webhook endpoint). */
  webhookUrl?: string | URL | undefined;
  /** Fraction 0..1 of charges the PG declines after the merchant answered 200. Needs a gateway. */
  declineRate?: number | undefined;
  /** After the last answer, wait up to this long for webhooks, retries and the merchant's own release logic. */
  settleMs?: number | undefined;
  /**
   * confirm-process (default): each buyer's confirm is the gateway's call to `url`. manual-confirm (V2, needs a
   * gateway): each buyer posts the paymentToken the gateway minted to `url`, the merchant's completion endpoint,
   * and the merchant confirms through the gateway's REST API.
   */
  flow?: Flow | undefined;
  /** manual-confirm: the completion body template ({paymentId}, {paymentToken}, {txId}, {amount}, {n}). */
  body?: string | undefined;
  /** manual-confirm: which merchant answers tell the buyer "paid"; default any 2xx. "200", "200,201", "2xx". */
  successStatus?: string | SuccessStatuses | undefined;
  /** manual-confirm: how long the payment tokens stay valid from registration; default the gateway's. */
  tokenLifetimeMs?: number | undefined;
}

export const DEFAULT_AMOUNT = 1000;
export const DEFAULT_P99_BUDGET_MS = 1000;
export const DEFAULT_STRANDED_WAIT_MS = 5000;
export const DEFAULT_FAIRNESS_WINDOW_MS = 1;
export const DEFAULT_MERCHANT_UID_TEMPLATE = 'burst-{run}-{n}';
/** With a gateway: long enough for webhooks and their compressed retries, short enough to rerun often. */
export const DEFAULT_SETTLE_MS = 2000;
/** Above this a run's per-request arrays alone would need gigabytes; split it into shards instead. */
export const MAX_BUYERS = 50_000_000;
const MAX_WORKERS = 64;
/** A start further ahead than this is a typo, not a plan; waiting for it would look like a hang. */
const MAX_START_DELAY_MS = 24 * 3_600_000;

/** A burst's parameters after validation, in a form that can be posted to worker threads. */
export interface BurstPlan {
  url: string;
  host: string;
  port: number;
  path: string;
  hostHeader: string;
  buyers: number;
  stock: number | null;
  dialect: Dialect;
  amount: number;
  merchantUidTemplate: string;
  runId: string;
  runSeed: number;
  secretKey: Uint8Array | null;
  secretMasked: string | null;
  headers: Array<[string, string]>;
  timeoutMs: number;
  strandedWaitMs: number;
  mode: ArrivalMode;
  rampMs: number | null;
  ratePerSec: number | null;
  duplicates: number;
  connections: number | null;
  orderUrl: string | null;
  resetUrl: string | null;
  stockUrl: string | null;
  hookHeaders: Record<string, string>;
  p99BudgetMs: number;
  maxErrorRate: number;
  fairnessWindowMs: number;
  workers: number;
  shard: ShardSpec | null;
  startAt: number | null;
  ledgerPath: string | null;
  /** With --gateway: where payments are played; null without one. */
  gateway: GatewayPlan | null;
  flow: Flow;
  /** manual-confirm: what each buyer posts and which answers mean "paid"; null for the Confirm Process. */
  completion: CompletionPlan | null;
}

/** A manual-confirm run's request side, as plain data (the template is compiled again on each thread). */
export interface CompletionPlan {
  template: string;
  success: SuccessStatuses;
  tokenLifetimeMs: number | null;
}

/** The gateway side of a run, as plain data: workers open their own link to the same URL. */
export interface GatewayPlan {
  url: string;
  /**
   * The gateway's name for this process's part of the sale: the run id, or for one shard the run id and the
   * shard, so each shard registers, settles and reads back its own payments and `merge` adds them up.
   */
  run: string;
  api: 'v1' | 'v2';
  noticeUrl: string | null;
  declineRate: number;
  settleMs: number;
}

/** "i/n" with 0 <= i < n, matching a Kubernetes Indexed Job's 0-based JOB_COMPLETION_INDEX. */
export function parseShard(text: string, what = '`shard`'): ShardSpec {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = match ? Number(match[1]) : Number.NaN;
  const count = match ? Number(match[2]) : Number.NaN;
  if (!match || count < 1 || index >= count) {
    throw new UsageError(`${what}: "${text}" is not a shard i/n with 0 <= i < n, e.g. 0/4 (i is 0-based, like JOB_COMPLETION_INDEX)`);
  }
  return { index, count };
}

/** Unix milliseconds; seconds are recognised and refused, because a start 1000x too early is a silent no-op. */
export function parseStartAt(text: string, what = '`startAt`'): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new UsageError(`${what}: "${text}" is not a unix time in milliseconds, e.g. $(( $(date +%s) * 1000 + 30000 ))`);
  }
  if (value < 1e12) {
    throw new UsageError(`${what}: ${text} looks like unix seconds; give milliseconds (append 000)`);
  }
  return value;
}

const FORBIDDEN_HEADERS = new Set(['host', 'content-length', 'content-type', 'connection', 'transfer-encoding']);

/** "Name: value", as curl's and autocannon's -H take it. */
export function parseHeader(text: string, what = '`headers`'): [string, string] {
  const at = text.indexOf(':');
  const name = at > 0 ? text.slice(0, at).trim() : '';
  const value = at > 0 ? text.slice(at + 1).trim() : '';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(value)) {
    throw new UsageError(`${what}: ${describeBadHeader(text)} is not a header; write it as 'Name: value' (a name of letters, digits and -, a value on one line)`);
  }
  if (FORBIDDEN_HEADERS.has(name.toLowerCase())) {
    throw new UsageError(`${what}: ${name} is set by confirm-sim itself; leave it out`);
  }
  return [name, value];
}

function optionalLoopbackUrl(value: string | URL | undefined, option: string): string | null {
  if (value === undefined) return null;
  const url = parseHttpUrl(String(value), `\`${option}\``);
  requireLoopback(url, `\`${option}\``);
  return url.href;
}

/** The base URL of a gateway given as a URL or as a running gateway; `option` is what a refusal calls it. */
export function gatewayUrlOf(target: GatewayTarget, option = 'gateway'): string {
  const text = typeof target === 'string' || target instanceof URL ? String(target) : target.url;
  const what = `\`${option}\``;
  const url = parseHttpUrl(text, what);
  requireLoopback(url, what);
  if (url.pathname !== '/' || url.search !== '' || url.username !== '' || url.password !== '') {
    throw new UsageError(`${what}: give the gateway's base URL (e.g. http://127.0.0.1:4000), without a path or credentials`);
  }
  return url.origin;
}

function resolveGatewayPlan(options: BurstOptions, dialect: Dialect, runId: string, shard: ShardSpec | null): GatewayPlan | null {
  if (options.gateway === undefined) {
    for (const [value, option] of [[options.webhookUrl, 'webhookUrl'], [options.declineRate, 'declineRate'], [options.settleMs, 'settleMs']] as const) {
      if (value !== undefined) {
        throw new UsageError(`\`${option}\` needs \`gateway\` <url>: only a gateway sends webhooks, declines charges and settles`);
      }
    }
    return null;
  }
  const url = gatewayUrlOf(options.gateway);
  const declineRate = options.declineRate ?? 0;
  if (!Number.isFinite(declineRate) || declineRate < 0 || declineRate > 1) {
    throw new UsageError(`\`declineRate\`: ${declineRate} is not a fraction between 0 and 1 (e.g. 0.2 or 20%)`);
  }
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  if (!Number.isFinite(settleMs) || settleMs < 0) {
    throw new UsageError(`\`settleMs\`: ${settleMs} is not a duration in ms; use e.g. 2000, or 0 to probe at once`);
  }
  return {
    url,
    run: shard === null ? runId : `${runId}.shard-${shard.index}-of-${shard.count}`,
    api: isV2(dialect) ? 'v2' : 'v1',
    noticeUrl: optionalLoopbackUrl(options.webhookUrl, 'webhookUrl'),
    declineRate,
    settleMs,
  };
}

/** FNV-1a, so every shard derives the same imp_uid series from the same run id. */
function seedFromRunId(runId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) {
    hash ^= runId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function requireCount(value: number, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `between ${min} and ${max}`;
    throw new UsageError(`\`${option}\`: ${value} is not a whole number ${range}`);
  }
  return value;
}

function requireDuration(value: number, option: string, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw new UsageError(`\`${option}\`: ${value} ms is too short; give at least ${min} ms (e.g. 5s)`);
  }
  return value;
}

/** Validates a caller's options, fills the defaults and says in one line what is wrong when something is. */
export function resolveBurstPlan(options: BurstOptions): BurstPlan {
  const url = parseHttpUrl(String(options.url), 'URL');
  if (url.protocol !== 'http:') {
    throw new UsageError(`URL: burst sends plain HTTP on loopback; use the merchant's http:// port instead of ${url.href}`);
  }
  requireLoopback(url, 'URL');
  const buyers = requireCount(options.buyers, 'buyers', 1, MAX_BUYERS);
  const stockUrl = optionalLoopbackUrl(options.stockUrl, 'stockUrl');
  const stock = options.stock === undefined ? null : requireCount(options.stock, 'stock', 0);
  if (stock === null && stockUrl === null) {
    throw new UsageError('`stock`: say how many items are on sale, or give `stockUrl` to read it from the merchant');
  }
  if (options.rampMs !== undefined && options.ratePerSec !== undefined) {
    throw new UsageError('`rampMs` and `ratePerSec` both set an arrival pattern; pick one');
  }
  const rampMs = options.rampMs === undefined ? null : requireDuration(options.rampMs, 'rampMs', 1);
  let ratePerSec: number | null = null;
  if (options.ratePerSec !== undefined) {
    if (!Number.isFinite(options.ratePerSec) || options.ratePerSec <= 0) {
      throw new UsageError(`\`ratePerSec\`: ${options.ratePerSec} is not a positive number of requests per second`);
    }
    ratePerSec = options.ratePerSec;
  }
  const mode: ArrivalMode = rampMs !== null ? 'ramp' : ratePerSec !== null ? 'rate' : 'burst';
  const duplicates = options.duplicates ?? 0;
  if (!Number.isFinite(duplicates) || duplicates < 0 || duplicates > 1) {
    throw new UsageError(`\`duplicates\`: ${duplicates} is not a fraction between 0 and 1`);
  }
  const amount = requireCount(options.amount ?? DEFAULT_AMOUNT, 'amount', 0);
  const runId = options.runId ?? newRunId();
  if (!/^[A-Za-z0-9_.-]{1,24}$/.test(runId)) {
    throw new UsageError(`\`runId\`: "${runId}" must be 1-24 letters, digits, '.', '_' or '-'`);
  }
  const template = new MerchantUidTemplate(options.merchantUid ?? DEFAULT_MERCHANT_UID_TEMPLATE, runId, buyers);
  const timeoutMs = requireDuration(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs', 1);
  const strandedWaitMs = options.strandedWaitMs ?? DEFAULT_STRANDED_WAIT_MS;
  if (!Number.isFinite(strandedWaitMs) || strandedWaitMs < 0) {
    throw new UsageError(`\`strandedWaitMs\`: ${strandedWaitMs} is not a duration in ms; use e.g. 5000, or 0 to close at the timeout`);
  }
  const p99BudgetMs = requireDuration(options.p99BudgetMs ?? DEFAULT_P99_BUDGET_MS, 'p99BudgetMs', 1);
  const maxErrorRate = options.maxErrorRate ?? 0;
  if (!Number.isFinite(maxErrorRate) || maxErrorRate < 0 || maxErrorRate > 1) {
    throw new UsageError(`\`maxErrorRate\`: ${maxErrorRate} is not a fraction between 0 and 1 (e.g. 0.01 or 1%)`);
  }
  const fairnessWindowMs = options.fairnessWindowMs ?? DEFAULT_FAIRNESS_WINDOW_MS;
  if (!Number.isFinite(fairnessWindowMs) || fairnessWindowMs < 0) {
    throw new UsageError(`\`fairnessWindowMs\`: ${fairnessWindowMs} is not a duration in ms; use e.g. 1`);
  }
  const connections = options.connections === undefined ? null : requireCount(options.connections, 'connections', 1);
  const workers = requireCount(options.workers ?? 1, 'workers', 1, MAX_WORKERS);
  const shard = options.shard ?? null;
  if (shard !== null) {
    if (!Number.isSafeInteger(shard.count) || shard.count < 1 || !Number.isSafeInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
      throw new UsageError(`\`shard\`: ${shard.index}/${shard.count} is not a shard i/n with 0 <= i < n`);
    }
    if (shard.count > buyers) {
      throw new UsageError(`\`shard\`: ${shard.count} shards for ${buyers} buyers leaves some shards empty; use fewer shards`);
    }
  }
  const startAt = options.startAt ?? null;
  if (startAt !== null && !(Number.isSafeInteger(startAt) && startAt >= 1e12)) {
    throw new UsageError(`\`startAt\`: ${startAt} is not a unix time in milliseconds`);
  }
  if (startAt !== null && startAt > Date.now() + MAX_START_DELAY_MS) {
    throw new UsageError(`\`startAt\`: ${new Date(startAt).toISOString()} is more than a day ahead; check the unix milliseconds`);
  }
  const headers = Object.entries(options.headers ?? {}).map(([name, value]) => parseHeader(`${name}: ${value}`, '`headers`'));
  const flow = options.flow ?? DEFAULT_FLOW;
  // A manual-confirm sale is V2's: its dialect only names the webhook version the gateway sends.
  const dialect = options.dialect ?? (flow === 'manual-confirm' ? 'v2-2024-04-25' : 'v1');
  const gateway = resolveGatewayPlan(options, dialect, runId, shard);
  const completionSettings = resolveCompletion(options, flow, dialect, gateway !== null);
  const completion = completionSettings === null ? null : { ...completionSettings, template: completionSettings.template.text };
  return {
    url: url.href,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || 80),
    path: `${url.pathname}${url.search}`,
    hostHeader: url.host,
    buyers,
    stock,
    dialect,
    amount,
    merchantUidTemplate: template.template,
    runId,
    runSeed: seedFromRunId(runId),
    secretKey: options.secret ? new Uint8Array(options.secret.key) : null,
    secretMasked: options.secret ? options.secret.masked : null,
    headers,
    timeoutMs,
    strandedWaitMs,
    mode,
    rampMs,
    ratePerSec,
    duplicates,
    connections,
    orderUrl: optionalLoopbackUrl(options.orderUrl, 'orderUrl'),
    resetUrl: optionalLoopbackUrl(options.resetUrl, 'resetUrl'),
    stockUrl,
    hookHeaders: Object.fromEntries(
      Object.entries(options.hookHeaders ?? {}).map(([name, value]) => parseHeader(`${name}: ${value}`, '`hookHeaders`')),
    ),
    p99BudgetMs,
    maxErrorRate,
    fairnessWindowMs,
    workers,
    shard,
    startAt,
    ledgerPath: options.ledgerPath ?? null,
    gateway,
    flow,
    completion,
  };
}

