import { randomBytes } from 'node:crypto';
import { fireThroughGateway, type GatewayFireResult } from '../fire/gateway.js';
import { fireCompletion, type CompletionFireResult } from '../fire/manual-confirm.js';
import { runBurst } from '../load/index.js';
import type { BurstOptions, BurstReport } from '../load/index.js';
import { runCheck, type CheckResult } from '../contract/index.js';
import { startGateway, type RunningGateway } from '../gateway/index.js';
import { startMerchant, FLAW_DESCRIPTIONS, CONFIRM_PROCESS_FLAWS, MANUAL_ONLY_FLAWS, type Flaw, type MerchantOptions, type RunningMerchant } from '../merchants/index.js';
import { MANUAL_CONFIRM_FLAW_DESCRIPTIONS } from '../merchants/flaws.js';
import { DEFAULT_TIMEOUT_MS, isV2, newMerchantUid, parseWebhookSecret, type Dialect, type WebhookSecret } from '../protocol/index.js';
import { DEFAULT_FLOW, parseFlow, type Flow } from '../protocol/flows.js';
import type { ProblemKind } from '../oracle/stock-oracle.js';
import { TypedEmitter } from '../util/events.js';
import { UsageError } from '../util/errors.js';

/**
 * The built-in demo: the whole journey of a sale, with the simulated gateway in the loop. Two sample merchants
 * that look every payment up through the gateway's REST API, as the docs tell a merchant to (one correct, one
 * with a flaw), are each put through fire, burst and check: buyers' payments registered at the gateway,
 * confirms answered, charges approved or declined by the PG, webhooks delivered, and the verdict judged on
 * paid payments against stock, so a newcomer sees in one command what confirm-sim catches and what a pass
 * looks like.
 *
 * With `flow: 'manual-confirm'` the two merchants are PortOne V2 manual-confirm ones (they charge each buyer
 * themselves with the SDK's confirmPayment), each put through the same journey in manual confirm: fire of a
 * known order's completion and of a tampered one, a manual-confirm burst judged on the payments the gateway
 * holds confirmed against the stock and against what each buyer was told, and check's cases 15-20.
 */
export interface DemoOptions {
  /** Which journey: the Confirm Process (default) or manual confirm. */
  flow?: Flow;
  /** The bug the second merchant has; by default `race` (Confirm Process) or `confirm-first` (manual confirm). */
  flaw?: Flaw;
  /** Default v1 for the Confirm Process, v2-2024-04-25 for manual confirm (which is V2's only). */
  dialect?: Dialect;
  buyers?: number;
  stock?: number;
  /** The share of charges the PG declines after the merchant's 200 (manual confirm: of its confirm calls); default 0.2. */
  declineRate?: number;
  signal?: AbortSignal;
}

export const DEMO_DEFAULTS = {
  flow: DEFAULT_FLOW,
  flaw: 'race' as Flaw,
  manualConfirmFlaw: 'confirm-first' as Flaw,
  dialect: 'v1' as Dialect,
  manualConfirmDialect: 'v2-2024-04-25' as Dialect,
  buyers: 500,
  stock: 50,
  declineRate: 0.2,
};

/** The flaws the manual-confirm demo can show, and the burst findings and check cases each must be caught by. */
export const MANUAL_CONFIRM_DEMO_CATCHES: Partial<Record<Flaw, { findings: ProblemKind[]; cases: string[] }>> = {
  'confirm-first': { findings: ['charged-refused', 'oversell'], cases: ['sold-out-confirms-nothing', 'burst-confirms-stock'] },
  race: { findings: ['oversell'], cases: ['burst-confirms-stock'] },
  'double-confirm': { findings: ['double-confirm'], cases: ['replayed-token-confirms-once'] },
  'no-release': { findings: ['leak'], cases: ['decline-gives-stock-back'] },
};
export const MANUAL_CONFIRM_DEMO_FLAWS = Object.keys(MANUAL_CONFIRM_DEMO_CATCHES) as Flaw[];
/**
 * A few buyers double-click: the correct merchant must confirm each payment once. Against `double-confirm`
 * more do, since a repeat shows the flaw only when it lands after the first completion charged.
 */
function demoDuplicates(flaw: Flaw): number {
  return flaw === 'double-confirm' ? 0.3 : 0.05;
}
const DEMO_PRICE = 1000;
/**
 * The merchants' reservation deadline: V1 sends no webhook for a declined payment, so a merchant looks a
 * payment up once its hold runs out. Short, so declined units come back while buyers still arrive.
 */
const DEMO_HOLD_MS = 500;
/** Buyers arrive over this long, so units that declines gave back are sold again within the sale. */
const DEMO_RAMP_MS = 1_000;
const DEMO_LOAD_MS = 1_000;
/**
 * Manual confirm's check waits this long for a merchant to cancel a payment it charged and then refused: the
 * sample merchants settle a payment before they answer and never cancel one later, so half a second catches
 * them as check's default 2 s does and keeps the demo short.
 */
const DEMO_MANUAL_CHECK_SETTLE_MS = 500;
/** fire's tampered completion: its payment registered at the gateway for a tenth of the order, as check 17 does. */
const DEMO_TAMPERED_AMOUNT = DEMO_PRICE / 10;

export interface DemoMerchantResult {
  label: string;
  flaw: Flaw | null;
  fire: { knownOrder: GatewayFireResult; unknownOrder: GatewayFireResult };
  burst: BurstReport;
  check: CheckResult;
}

export interface ManualConfirmDemoMerchantResult {
  label: string;
  flaw: Flaw | null;
  /**
   * fire --flow manual-confirm: a known order's completion (to be told paid and confirmed), and one whose payment
   * was registered for a tenth of the order's amount (to be refused and never confirmed).
   */
  fire: { knownOrder: CompletionFireResult; tamperedAmount: CompletionFireResult };
  burst: BurstReport;
  /** check --flow manual-confirm: cases 15-20. */
  check: CheckResult;
}

interface DemoResultCommon {
  schemaVersion: 1;
  dialect: Dialect;
  buyers: number;
  stock: number;
  declineRate: number;
  /** The simulated gateway every payment went through (its base URL; gone once the demo ends). */
  gateway: string;
  flaw: Flaw;
  flawDescription: string;
  /** True when the demo showed what it should: the correct merchant passed everything and the flawed one was caught. */
  ok: boolean;
  interrupted: boolean;
}

export interface ConfirmProcessDemoResult extends DemoResultCommon {
  flow: 'confirm-process';
  merchants: DemoMerchantResult[];
}

export interface ManualConfirmDemoResult extends DemoResultCommon {
  flow: 'manual-confirm';
  /** The share of buyers whose completion was posted twice. */
  duplicates: number;
  /** The burst findings the flawed merchant had to be caught by. */
  expectedFindings: ProblemKind[];
  /** The check cases (by name) the flawed merchant had to fail. */
  expectedCases: string[];
  merchants: ManualConfirmDemoMerchantResult[];
}

export type DemoResult = ConfirmProcessDemoResult | ManualConfirmDemoResult;

export type DemoEvents = {
  step: { merchant: string; step: 'fire' | 'burst' | 'check' };
};

/** The correct merchant must pass all of it: both fires answered as they should, the burst and every check case. */
export function passedEverything(merchant: DemoMerchantResult | ManualConfirmDemoMerchantResult): boolean {
  const { fire } = merchant;
  const fired =
    'tamperedAmount' in fire
      ? fire.knownOrder.told === 'paid' && fire.knownOrder.verdict === 'agrees' && fire.tamperedAmount.told === 'refused' && fire.tamperedAmount.verdict === 'agrees'
      : fire.knownOrder.decision.proceed && !fire.unknownOrder.decision.proceed;
  return fired && merchant.burst.verdict.pass && merchant.check.ok;
}

/** V2 confirm calls and webhooks are signed; the demo makes a throwaway secret so gateway and merchants speak V2. */
function demoSecret(dialect: Dialect): WebhookSecret | undefined {
  if (!isV2(dialect)) return undefined;
  return parseWebhookSecret(`whsec_${randomBytes(24).toString('base64')}`);
}

interface Settings {
  dialect: Dialect;
  buyers: number;
  stock: number;
  declineRate: number;
  secret: WebhookSecret | undefined;
  signal: AbortSignal | undefined;
}

/** Both flows' bursts: the sale, ramped so declined units are sold again, through the merchant's hooks and the gateway. */
function demoSale(gateway: RunningGateway, merchant: RunningMerchant, settings: Settings): BurstOptions {
  return {
    url: merchant.confirmUrl,
    buyers: settings.buyers,
    stock: settings.stock,
    dialect: settings.dialect,
    amount: DEMO_PRICE,
    rampMs: DEMO_RAMP_MS,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    gateway,
    declineRate: settings.declineRate,
    // The sale is judged on stock and money; check 8 judges latency. Here only a confirm the gateway gave up on counts.
    p99BudgetMs: DEFAULT_TIMEOUT_MS,
  };
}

async function exercise(
  gateway: RunningGateway,
  merchant: RunningMerchant,
  label: string,
  settings: Settings,
  events: TypedEmitter<DemoEvents>,
): Promise<DemoMerchantResult> {
  const { dialect, secret, signal } = settings;
  const played = { url: merchant.confirmUrl, gateway, webhookUrl: merchant.webhookUrl, dialect, secret, signal };
  events.emit('step', { merchant: label, step: 'fire' });
  const knownUid = newMerchantUid('demo');
  await fetch(merchant.orderUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ merchant_uid: knownUid, amount: DEMO_PRICE, quantity: 1 }),
    signal: signal ?? null,
  });
  const knownOrder = await fireThroughGateway({ ...played, order: { merchantUid: knownUid, amount: DEMO_PRICE } });
  const unknownOrder = await fireThroughGateway({ ...played, order: { amount: DEMO_PRICE } });

  events.emit('step', { merchant: label, step: 'burst' });
  const burst = await runBurst({ ...demoSale(gateway, merchant, settings), secret, orderUrl: merchant.orderUrl, webhookUrl: merchant.webhookUrl }, { signal });

  events.emit('step', { merchant: label, step: 'check' });
  const check = await runCheck({
    url: merchant.confirmUrl,
    dialect,
    secret,
    gateway,
    orderUrl: merchant.orderUrl,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    webhookUrl: merchant.webhookUrl,
    product: { price: DEMO_PRICE, stock: settings.stock },
    // A second of load shows a slow merchant's p99 as well as check's default three do, and the demo stays short.
    load: { durationMs: DEMO_LOAD_MS },
    signal,
  });
  return { label, flaw: merchant.flaw ?? null, fire: { knownOrder, unknownOrder }, burst, check };
}

/**
 * A gateway, then the correct merchant and the flawed one, each started, played and closed in turn: two bursts
 * at once would share the cores and blur each other's latencies.
 */
async function playMerchants<T>(
  settings: Settings,
  flaw: Flaw,
  merchantOptions: (gatewayUrl: string) => MerchantOptions,
  play: (gateway: RunningGateway, merchant: RunningMerchant, label: string) => Promise<T>,
): Promise<{ gatewayUrl: string; results: T[] }> {
  const gateway = await startGateway({ port: 0, ...(settings.secret ? { secret: settings.secret } : {}) });
  const results: T[] = [];
  try {
    for (const merchantFlaw of [undefined, flaw]) {
      const merchant = await startMerchant({ ...merchantOptions(gateway.url), stock: settings.stock, amount: DEMO_PRICE, flaw: merchantFlaw });
      try {
        results.push(await play(gateway, merchant, merchantFlaw ? `flaw: ${merchantFlaw}` : 'correct merchant'));
      } finally {
        await merchant.close();
      }
      if (settings.signal?.aborted) break;
    }
  } finally {
    await gateway.close();
  }
  return { gatewayUrl: gateway.url, results };
}

function settingsOf(options: DemoOptions, dialect: Dialect): Settings {
  return {
    dialect,
    buyers: options.buyers ?? DEMO_DEFAULTS.buyers,
    stock: options.stock ?? DEMO_DEFAULTS.stock,
    declineRate: options.declineRate ?? DEMO_DEFAULTS.declineRate,
    secret: demoSecret(dialect),
    signal: options.signal,
  };
}

export async function runDemo(options: DemoOptions = {}, events = new TypedEmitter<DemoEvents>()): Promise<DemoResult> {
  const flow = parseFlow(String(options.flow ?? DEMO_DEFAULTS.flow));
  if (flow === 'manual-confirm') return runManualConfirmDemo(options, events);
  const flaw = options.flaw ?? DEMO_DEFAULTS.flaw;
  if (MANUAL_ONLY_FLAWS.includes(flaw)) {
    throw new UsageError(`\`flaw\`: "${flaw}" is a manual-confirm flaw and the demo plays the Confirm Process; add \`flow\` manual-confirm, or use one of ${CONFIRM_PROCESS_FLAWS.join(', ')}`);
  }
  const dialect = options.dialect ?? DEMO_DEFAULTS.dialect;
  const settings = settingsOf(options, dialect);
  const { gatewayUrl, results: merchants } = await playMerchants(
    settings,
    flaw,
    (url) => ({ secret: settings.secret, verify: 'rest', gateway: { url }, holdMs: DEMO_HOLD_MS }),
    (gateway, merchant, label) => exercise(gateway, merchant, label, settings, events),
  );
  const [correct, flawed] = merchants;
  const interrupted = settings.signal?.aborted === true;
  const ok =
    !interrupted &&
    correct !== undefined &&
    flawed !== undefined &&
    passedEverything(correct) &&
    !(flawed.burst.verdict.pass && flawed.check.ok);
  return {
    schemaVersion: 1,
    flow,
    dialect,
    buyers: settings.buyers,
    stock: settings.stock,
    declineRate: settings.declineRate,
    gateway: gatewayUrl,
    flaw,
    flawDescription: FLAW_DESCRIPTIONS[flaw],
    merchants,
    ok,
    interrupted,
  };
}

/**
 * Manual confirm's journey for one merchant: fire of a known order's completion and of a tampered one, a burst
 * of buyers posting the paymentToken their requestPayment returned, then check's cases 15-20. The merchant
 * charges through the gateway's confirm itself, so every verdict is what the gateway holds against what the
 * buyer was told.
 */
async function exerciseManualConfirm(
  gateway: RunningGateway,
  merchant: RunningMerchant,
  label: string,
  settings: Settings,
  duplicates: number,
  events: TypedEmitter<DemoEvents>,
): Promise<ManualConfirmDemoMerchantResult> {
  const { dialect, signal } = settings;
  events.emit('step', { merchant: label, step: 'fire' });
  const fired = { url: merchant.confirmUrl, gateway, signal };
  const knownOrder = await fireCompletion({ ...fired, paymentId: newMerchantUid('demo'), amount: DEMO_PRICE });
  const tamperedAmount = await fireCompletion({ ...fired, paymentId: newMerchantUid('demo'), amount: DEMO_TAMPERED_AMOUNT });

  events.emit('step', { merchant: label, step: 'burst' });
  const burst = await runBurst({ ...demoSale(gateway, merchant, settings), flow: 'manual-confirm', duplicates }, { signal });

  events.emit('step', { merchant: label, step: 'check' });
  const check = await runCheck({
    url: merchant.confirmUrl,
    flow: 'manual-confirm',
    dialect,
    gateway,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    // Open orders: the merchant knows every order's amount is the price, so case 17 can tamper with it.
    product: { price: DEMO_PRICE, priceKnown: true, stock: settings.stock },
    settleMs: DEMO_MANUAL_CHECK_SETTLE_MS,
    signal,
  });
  return { label, flaw: merchant.flaw ?? null, fire: { knownOrder, tamperedAmount }, burst, check };
}

async function runManualConfirmDemo(options: DemoOptions, events: TypedEmitter<DemoEvents>): Promise<ManualConfirmDemoResult> {
  const flaw = options.flaw ?? DEMO_DEFAULTS.manualConfirmFlaw;
  const catches = MANUAL_CONFIRM_DEMO_CATCHES[flaw];
  if (catches === undefined) {
    throw new UsageError(`\`flaw\`: "${flaw}" is a Confirm Process flaw; with \`flow\` manual-confirm use one of ${MANUAL_CONFIRM_DEMO_FLAWS.join(', ')}`);
  }
  const dialect = options.dialect ?? DEMO_DEFAULTS.manualConfirmDialect;
  if (!isV2(dialect)) {
    throw new UsageError(`\`dialect\`: manual confirm is PortOne V2's; give a V2 dialect (v2-2024-04-25 or v2-2024-01-01, the webhook version), not ${dialect}`);
  }
  // Unsigned: the gateway's confirm answer reaches the merchant as an HTTP answer, and no webhook is asked for.
  const settings = { ...settingsOf(options, dialect), secret: undefined };
  const duplicates = demoDuplicates(flaw);
  const { gatewayUrl, results: merchants } = await playMerchants(
    settings,
    flaw,
    (url) => ({ flow: 'manual-confirm', openOrders: true, gateway: { url } }),
    (gateway, merchant, label) => exerciseManualConfirm(gateway, merchant, label, settings, duplicates, events),
  );
  const [correct, flawed] = merchants;
  const interrupted = settings.signal?.aborted === true;
  const caught =
    flawed !== undefined &&
    catches.findings.every((kind) => flawed.burst.verdict.problems.some((problem) => problem.kind === kind)) &&
    catches.cases.every((name) => flawed.check.cases.some((entry) => entry.name === name && entry.status === 'failed'));
  return {
    schemaVersion: 1,
    flow: 'manual-confirm',
    dialect,
    buyers: settings.buyers,
    stock: settings.stock,
    declineRate: settings.declineRate,
    duplicates,
    gateway: gatewayUrl,
    flaw,
    flawDescription: MANUAL_CONFIRM_FLAW_DESCRIPTIONS[flaw] ?? FLAW_DESCRIPTIONS[flaw],
    expectedFindings: catches.findings,
    expectedCases: catches.cases,
    merchants,
    ok: !interrupted && correct !== undefined && passedEverything(correct) && caught,
    interrupted,
  };
}
