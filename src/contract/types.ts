import type { Dialect, Flow, SuccessStatuses, WebhookSecret } from '../protocol/index.js';

/**
 * `warning` is a case that kept the contract but in a way that hurts buyers (a refusal without a reason);
 * `--strict` turns warnings into failures. `skipped` always carries the reason, so a CI log never shows a
 * case as passing when it did not run.
 */
export const CASE_STATUSES = ['passed', 'failed', 'warning', 'skipped'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const CASE_NAMES = [
  'confirms-known-order',
  'refuses-sold-out',
  'refuses-unknown-order',
  'refuses-wrong-amount',
  'idempotent-repeat',
  'survives-bad-input',
  'rejects-bad-signatures',
  'latency-under-load',
  'first-come-burst',
  'releases-stock-on-failure',
  'refuses-forged-confirm',
  'refuses-tampered-amount',
  'releases-stock-on-decline',
  'webhook-replay',
] as const;

/** check --flow manual-confirm's cases (src/contract/cases/manual-confirm.ts), ids 15-20. */
export const MANUAL_CONFIRM_CASE_NAMES = [
  'completes-known-order',
  'sold-out-confirms-nothing',
  'tampered-amount-not-confirmed',
  'replayed-token-confirms-once',
  'decline-gives-stock-back',
  'burst-confirms-stock',
] as const;
export type CaseName = (typeof CASE_NAMES)[number] | (typeof MANUAL_CONFIRM_CASE_NAMES)[number];

/** What one case concluded; the runner adds the id, name and timing. */
export interface CaseOutcome {
  status: CaseStatus;
  /** One or two sentences: what was sent, what came back, what the contract wants. */
  message: string;
  /** Plain JSON facts behind the verdict (answers, stock readings, percentiles) for --reporter json. */
  details: Record<string, unknown>;
}

export interface CaseResult extends CaseOutcome {
  id: number;
  name: CaseName;
  title: string;
  durationMs: number;
}

export interface CheckSummary {
  total: number;
  passed: number;
  failed: number;
  warning: number;
  skipped: number;
}

export interface CheckResult {
  schemaVersion: 2;
  /** True when no case failed (warnings do not fail a run unless --strict made them failures). */
  ok: boolean;
  target: {
    url: string;
    dialect: Dialect;
    /** Masked: whether a secret was used, never the secret. */
    secret: string | null;
    timeoutMs: number;
  };
  /** The gateway the payments were played through (check --gateway), or null. */
  gateway: string | null;
  /** The contract checked; absent in older results (confirm-process). */
  flow?: Flow;
  hooks: MerchantHookUrls;
  strict: boolean;
  /** True when the run was stopped (Ctrl-C) before every case ran. */
  interrupted: boolean;
  startedAt: string;
  durationMs: number;
  summary: CheckSummary;
  cases: CaseResult[];
}

/** The merchant's test hooks as a check result reports them; each one a case needs and is missing makes that case skip. */
export interface MerchantHookUrls {
  /** POST {merchant_uid, amount, quantity}: the merchant creates the order the next confirm refers to. */
  order?: string | undefined;
  /** POST {stock}: the merchant forgets its orders and sets the product's stock. */
  reset?: string | undefined;
  /** GET: the product's stock now, as a bare number or {"stock": n}. */
  stock?: string | undefined;
  /** POST: the merchant's payment webhook (notice_url), told that a confirmed payment failed. */
  webhook?: string | undefined;
}

export interface CheckProduct {
  /** Price of one unit in KRW; the amount of a test order is price × quantity. */
  price: number;
  /**
   * Whether the merchant knows this price without being told about each order (an open-orders merchant with
   * a fixed price). With an order hook the merchant always knows the amount, so this only matters without one.
   */
  priceKnown: boolean;
  /** Units per test order. */
  quantity: number;
  /** The stock the reset hook sets before each case. */
  stock: number;
}

export interface LoadSettings {
  /** Concurrent connections of case 8. */
  connections: number;
  /** How long case 8 keeps the load on. */
  durationMs: number;
}

export interface BurstSettings {
  /** Buyers of case 9, all at once; more than the stock. */
  buyers: number;
  /** The stock the burst is run against. */
  stock: number;
}

export interface CheckOptions {
  /** The merchant's confirm URL. */
  url: string;
  /** Default 'v1'. */
  dialect?: Dialect;
  /** Signs V2 confirms and lets case 7 craft bad signatures. */
  secret?: WebhookSecret | undefined;
  /** POST {merchant_uid, amount, quantity}: the merchant creates the order the next confirm refers to (`--order-url`). */
  orderUrl?: string | undefined;
  /** POST {stock}: the merchant forgets its orders and sets the product's stock (`--reset-url`). */
  resetUrl?: string | undefined;
  /** GET: the product's stock now, as a bare number or {"stock": n} (`--stock-url`). */
  stockUrl?: string | undefined;
  /**
   * The merchant's payment webhook, its notice_url (`--webhook-url`): told that a confirmed payment failed, and
   * with a gateway where the gateway sends its webhooks.
   */
  webhookUrl?: string | undefined;
  /** Sent with every order, reset and stock hook call (e.g. the sample merchant's admin token); never reported. */
  hookHeaders?: Record<string, string>;
  product?: Partial<CheckProduct>;
  /** The gateway's deadline for each confirm; default 5 s. */
  timeoutMs?: number;
  /** Warnings fail the run. */
  strict?: boolean;
  /** Case 8 fails when p99 latency is above this; default 1 s. */
  p99BudgetMs?: number;
  /** Cases 8 and 9: the share of confirms (0..1) that may meet a merchant error (5xx, reset, invalid HTTP); default 0. */
  maxErrorRate?: number;
  /** Case 10 fails when a failed payment's stock is not back within this; default 2 s. */
  releaseBudgetMs?: number;
  load?: Partial<LoadSettings>;
  burst?: Partial<BurstSettings>;
  /** Run only cases whose "id name" matches. */
  grep?: RegExp;
  /** Leave out cases whose "id name" matches. */
  skip?: RegExp;
  /**
   * The simulated gateway (its base URL, or a RunningGateway): every confirm's payment is registered there
   * first and every answer handed over, so a merchant that looks payments up works unchanged, and the
   * gateway cases (11-14) can run. The merchant's webhook hook is the payments' notice URL.
   */
  gateway?: string | URL | { readonly url: string } | undefined;
  /** With a gateway: how long a case waits for what follows a confirm (decline, webhooks, release); default 2 s. */
  settleMs?: number | undefined;
  /** Cases to report as skipped with the given reason (a scenario file's `skip`). */
  skipReasons?: Partial<Record<CaseName, string>>;
  /** Stop at the first failed case; the rest are reported as skipped. */
  bail?: boolean;
  /** confirm-process (default) checks the confirm URL; manual-confirm checks a completion endpoint (cases 15-20; needs a gateway). */
  flow?: Flow | undefined;
  /** manual-confirm: the completion body template ({paymentId}, {paymentToken}, {txId}, {amount}, {n}). */
  body?: string | undefined;
  /** manual-confirm: the merchant answers that tell a buyer "paid"; default any 2xx. */
  successStatus?: string | SuccessStatuses | undefined;
  /** manual-confirm: how long each minted paymentToken stays valid; default the gateway's own lifetime. */
  tokenLifetimeMs?: number | undefined;
  signal?: AbortSignal;
}

export type CheckEvents = {
  /** The cases about to run, in order, before the first starts. */
  start: { url: string; cases: { id: number; name: CaseName; title: string }[] };
  'case:start': { id: number; name: CaseName; title: string };
  'case:end': CaseResult;
  done: CheckResult;
};
