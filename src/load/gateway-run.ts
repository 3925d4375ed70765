import { setTimeout as sleep } from 'node:timers/promises';
import { connectGateway, type GatewayLink } from '../gateway/link.js';
import type { SaleSummary, SaleTimeline } from '../gateway/runs.js';
import type { SalePayment } from '../gateway/sim/sales.js';
import { isV2 } from '../protocol/dialects.js';
import { UsageError } from '../util/errors.js';
import type { BurstPlan, GatewayPlan } from './options.js';
import { Flag, type OutcomeStore } from './outcomes.js';
import { ConfirmRequestBuilder } from './requests.js';
import type { SliceSpec } from './schedule.js';
import type { PaymentsSection } from './report.js';
import { TokenTable } from '../protocol/completion.js';
import type { SaleStatuses } from '../gateway/sim/sales.js';

/**
 * A run's side of the simulated gateway: every buyer's payment registered before the timed part, every
 * answer handed over as it arrives, and after the last one the settle, where webhooks, retries and the
 * merchant's own release logic get their time before the sale's truth is read.
 */

/** Payments registered per call: bounded, so a million-buyer run never builds all its payments at once. */
const REGISTER_CHUNK = 10_000;
/** How often the stock probe and the gateway's summary are read during the settle. */
const SETTLE_POLL_MS = 50;
/** Readings kept for the report; more are thinned out evenly. */
const MAX_SETTLE_SAMPLES = 50;

/**
 * Whether the PG declines buyer n's charge, decided from the run seed so a rerun with the same --run-id
 * declines the same buyers (a failure can be replayed), and every thread and shard agrees without talking.
 */
export function declinedBySeed(runSeed: number, buyer: number, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  // murmur3's 32-bit finalizer over seed and buyer: well spread, no state.
  let hash = (runSeed ^ Math.imul(buyer + 1, 0x9e3779b1)) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x1_0000_0000 < rate;
}

function gatewayFailure(gateway: GatewayPlan, doing: string, error: unknown): UsageError {
  const reason = error instanceof Error ? error.message : String(error);
  return new UsageError(`\`gateway\`: ${doing} at ${gateway.url} failed (${reason}); check that confirm-sim gateway is running there`);
}

export interface RegisteredSale {
  registered: number;
  /** manual-confirm: each buyer's paymentToken, by global buyer number; null for the Confirm Process. */
  tokens: TokenTable | null;
}

/**
 * Registers every buyer's payment with the ids and amount its confirm will carry (V1 imp_uid + merchant_uid,
 * V2 paymentId = the order id + transactionId), derived from the run seed exactly as the request bytes are.
 * A manual-confirm sale's answer carries each payment's minted token, kept in a token table for the run.
 */
export async function registerSale(
  link: GatewayLink,
  plan: BurstPlan,
  slice: SliceSpec,
  signal?: AbortSignal,
  onRegistered?: (registered: number) => void,
): Promise<RegisteredSale> {
  const gateway = plan.gateway!;
  const builder = new ConfirmRequestBuilder(plan);
  const v2 = isV2(plan.dialect);
  const completion = plan.completion;
  // Tokens are `ptk_` and 32 characters at our gateway; the table widens itself for a longer one.
  const tokens = completion === null ? null : new TokenTable(plan.buyers, 36);
  let registered = 0;
  for (let start = 0; start < slice.count; start += REGISTER_CHUNK) {
    const payments: SalePayment[] = [];
    for (let j = start; j < Math.min(slice.count, start + REGISTER_CHUNK); j++) {
      const buyer = slice.offset + slice.stride * j;
      const order = builder.order(buyer);
      payments.push({
        orderId: order.merchantUid,
        ...(v2 ? { transactionId: order.transactionId } : { impUid: order.impUid }),
        amount: order.amount,
        outcome: declinedBySeed(plan.runSeed, buyer, gateway.declineRate) ? 'decline' : 'approve',
      });
    }
    try {
      const result = await link.register(
        {
          run: gateway.run,
          dialect: plan.dialect,
          ...(gateway.noticeUrl === null ? {} : { noticeUrl: gateway.noticeUrl }),
          declineRate: gateway.declineRate,
          ...(completion === null
            ? {}
            : { flow: 'manual-confirm' as const, ...(completion.tokenLifetimeMs === null ? {} : { tokenLifetimeMs: completion.tokenLifetimeMs }) }),
          payments,
        },
        signal,
      );
      registered += result.registered;
      if (tokens !== null) keepTokens(tokens, result.tokens, payments, slice, start, gateway);
      onRegistered?.(registered);
    } catch (error) {
      if (signal?.aborted) return { registered, tokens };
      if (error instanceof UsageError) throw error;
      throw gatewayFailure(gateway, `registering the sale's payments (run ${gateway.run})`, error);
    }
  }
  return { registered, tokens };
}

function keepTokens(
  table: TokenTable,
  minted: Array<{ paymentId: string; paymentToken: string }> | undefined,
  payments: SalePayment[],
  slice: SliceSpec,
  start: number,
  gateway: GatewayPlan,
): void {
  if (minted === undefined || minted.length !== payments.length) {
    throw new UsageError(
      `\`gateway\`: the gateway at ${gateway.url} registered the manual-confirm sale but returned ${minted?.length ?? 'no'} payment tokens for ${payments.length} payments; is it a confirm-sim gateway with manual confirm?`,
    );
  }
  for (let k = 0; k < minted.length; k++) {
    const token = minted[k]!;
    if (token.paymentId !== payments[k]!.orderId) {
      throw new UsageError(`\`gateway\`: the gateway returned the token for ${token.paymentId} where ${payments[k]!.orderId}'s was due; its tokens are out of order`);
    }
    try {
      table.set(slice.offset + slice.stride * (start + k), token.paymentToken);
    } catch (error) {
      throw new UsageError(`\`gateway\`: the gateway's token for ${token.paymentId} cannot be sent: ${(error as Error).message}`);
    }
  }
}

/** manual-confirm: the gateway's letter for each payment of the run, in registration order. */
export async function readStatuses(link: GatewayLink, plan: BurstPlan): Promise<SaleStatuses> {
  try {
    return await link.statuses(plan.gateway!.run);
  } catch (error) {
    throw gatewayFailure(plan.gateway!, `reading the payments' statuses (run ${plan.gateway!.run})`, error);
  }
}

/**
 * What the engine calls with each answer: the order id is rendered only here, once per buyer. A buyer's
 * duplicate confirm is the merchant being asked again; the payment's fate is its original confirm's.
 */
export function answerReporter(
  plan: BurstPlan,
  link: GatewayLink,
  store: () => OutcomeStore,
): (request: number, status: number | null, body: string | undefined) => void {
  const builder = new ConfirmRequestBuilder(plan);
  const run = plan.gateway!.run;
  return (request, status, body) => {
    const outcomes = store();
    if ((outcomes.arrays.flags[request]! & Flag.Duplicate) !== 0) return;
    const orderId = builder.merchantUid(outcomes.globalBuyer(request));
    link.answer(body === undefined ? { run, orderId, status } : { run, orderId, status, body });
  };
}

/** Waits until the gateway has applied every answer this thread handed over. */
export async function flushAnswers(link: GatewayLink, gateway: GatewayPlan): Promise<void> {
  try {
    await link.flush();
  } catch (error) {
    throw gatewayFailure(gateway, 'handing the confirm answers over', error);
  }
}

/** Opens a link for one thread of a run; each worker thread opens its own to the same URL. */
export function openRunLink(gateway: GatewayPlan): GatewayLink {
  return connectGateway(gateway.url);
}

/**
 * Tells the gateway the run has read its summary, so its payments are the first forgotten: a gateway that
 * serves run after run (CI, a soak) keeps its memory bounded. The summary is already in hand, so a gateway
 * that cannot take the call only keeps the payments through its grace period; the run goes on.
 */
export async function endRun(link: GatewayLink, run: string): Promise<void> {
  await link.end(run).catch(() => undefined);
}

export interface SettleInput {
  link: GatewayLink;
  plan: BurstPlan;
  /** Reads the merchant's stock; null without --stock-url. */
  probe: (() => Promise<number>) | null;
  /** The stock at the start of the sale (the probe before the run), or null without a probe. */
  stockBefore: number | null;
  signal?: AbortSignal | undefined;
  /**
   * manual-confirm: told each reading of the gateway's status line; true while it shows something the merchant
   * may still put right (a buyer told no whose payment is confirmed, not yet cancelled), so the settle waits on.
   */
  awaiting?: ((statuses: string) => boolean) | undefined;
}

export interface Settled {
  payments: PaymentsSection;
  /** The gateway's per-bucket series, read with the last summary; undefined from a gateway without one. */
  sale: SaleTimeline | undefined;
  /** Epoch ms the settle began. */
  startedAt: number;
  /** The last stock reading, after the settle; null without a probe. */
  stockAfter: { value: number; at: number } | null;
  /** manual-confirm: the status line read last; null for the Confirm Process. */
  statuses: SaleStatuses | null;
  /** The gateway's summary of the sale, read last. */
  summary: SaleSummary;
}

function thin(samples: Array<{ atMs: number; stock: number }>): Array<{ atMs: number; stock: number }> {
  if (samples.length <= MAX_SETTLE_SAMPLES) return samples;
  const step = samples.length / MAX_SETTLE_SAMPLES;
  const kept = Array.from({ length: MAX_SETTLE_SAMPLES - 1 }, (_, i) => samples[Math.floor(i * step)]!);
  return [...kept, samples[samples.length - 1]!];
}

export function paymentsSection(
  gateway: GatewayPlan,
  url: string,
  summary: SaleSummary,
  settle: PaymentsSection['settle'],
): PaymentsSection {
  const { payments, webhooks, examples } = summary;
  return {
    gateway: url,
    api: gateway.api,
    noticeUrl: gateway.noticeUrl,
    declineRate: gateway.declineRate,
    registered: payments.registered,
    paid: payments.paid,
    declined: payments.declined,
    failed: payments.failed,
    cancelled: payments.cancelled,
    ready: payments.ready,
    webhooks: { sent: webhooks.sent, retried: webhooks.retried, unanswered: webhooks.unanswered, pending: webhooks.pending },
    settle,
    examples: { declined: [...examples.declined], failed: [...examples.failed] },
  };
}

/**
 * After the last answer: waits up to --settle, reading the gateway's summary and the stock probe, and ends
 * early once nothing more can change (stock left + paid makes the stock at the start again and no webhook
 * is pending). How long that took is how long declined stock stayed held: reported, never judged.
 */
export async function settleSale(input: SettleInput): Promise<Settled> {
  const { link, plan, probe, stockBefore, signal, awaiting } = input;
  const gateway = plan.gateway!;
  const started = performance.now();
  const startedAt = Date.now();
  const samples: Array<{ atMs: number; stock: number }> = [];
  let restoredAfterMs: number | null = null;
  let summary: SaleSummary;
  let stockAfter: Settled['stockAfter'] = null;
  let statuses: SaleStatuses | null = null;
  for (;;) {
    try {
      summary = await link.summary(gateway.run);
    } catch (error) {
      throw gatewayFailure(gateway, `reading the sale's summary (run ${gateway.run})`, error);
    }
    const atMs = performance.now() - started;
    if (probe !== null) {
      const value = await probe();
      stockAfter = { value, at: Date.now() };
      samples.push({ atMs, stock: value });
      // A shard's paid payments are not the whole sale's, so the stock cannot tell it when the sale has
      // settled: a shard waits the settle out.
      const balanced = plan.shard === null && stockBefore !== null && value + summary.payments.paid === stockBefore;
      if (!balanced) restoredAfterMs = null;
      else restoredAfterMs ??= atMs;
    }
    if (awaiting !== undefined) statuses = await readStatuses(link, plan);
    const settled =
      summary.webhooks.pending === 0 &&
      (probe === null || restoredAfterMs !== null) &&
      (statuses === null || awaiting === undefined || !awaiting(statuses.statuses));
    if (settled || atMs >= gateway.settleMs || signal?.aborted) break;
    await sleep(Math.min(SETTLE_POLL_MS, Math.max(1, gateway.settleMs - atMs)));
  }
  await endRun(link, gateway.run);
  return {
    payments: paymentsSection(gateway, link.url, summary, {
      budgetMs: gateway.settleMs,
      waitedMs: performance.now() - started,
      restoredAfterMs: restoredAfterMs === null ? null : Math.round(restoredAfterMs),
      samples: thin(samples.map((sample) => ({ atMs: Math.round(sample.atMs), stock: sample.stock }))),
    }),
    sale: summary.timeline,
    startedAt,
    stockAfter,
    statuses,
    summary,
  };
}
