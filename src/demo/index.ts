import { randomBytes } from 'node:crypto';
import { fireThroughGateway, type GatewayFireResult } from '../fire/gateway.js';
import { runBurst } from '../load/index.js';
import type { BurstReport } from '../load/index.js';
import { runCheck, type CheckResult } from '../contract/index.js';
import { startGateway, type RunningGateway } from '../gateway/index.js';
import { startMerchant, FLAW_DESCRIPTIONS, CONFIRM_PROCESS_FLAWS, MANUAL_ONLY_FLAWS, type Flaw, type RunningMerchant } from '../merchants/index.js';
import { DEFAULT_TIMEOUT_MS, isV2, newMerchantUid, parseWebhookSecret, type Dialect, type WebhookSecret } from '../protocol/index.js';
import { TypedEmitter } from '../util/events.js';
import { UsageError } from '../util/errors.js';

/**
 * The built-in demo: the whole journey of a sale, with the simulated gateway in the loop. Two sample merchants
 * that look every payment up through the gateway's REST API, as the docs tell a merchant to (one correct, one
 * with a flaw), are each put through fire, burst and check: buyers' payments registered at the gateway,
 * confirms answered, charges approved or declined by the PG, webhooks delivered, and the verdict judged on
 * paid payments against stock, so a newcomer sees in one command what confirm-sim catches and what a pass
 * looks like.
 */
export interface DemoOptions {
  /** The bug the second merchant has; `race` (oversell under a burst) by default. */
  flaw?: Flaw;
  dialect?: Dialect;
  buyers?: number;
  stock?: number;
  /** The share of charges the PG declines after the merchant's 200; default 0.2. */
  declineRate?: number;
  signal?: AbortSignal;
}

export const DEMO_DEFAULTS = { flaw: 'race' as Flaw, dialect: 'v1' as Dialect, buyers: 500, stock: 50, declineRate: 0.2 };
const DEMO_PRICE = 1000;
/**
 * The merchants' reservation deadline: V1 sends no webhook for a declined payment, so a merchant looks a
 * payment up once its hold runs out. Short, so declined units come back while buyers still arrive.
 */
const DEMO_HOLD_MS = 500;
/** Buyers arrive over this long, so units that declines gave back are sold again within the sale. */
const DEMO_RAMP_MS = 1_000;

export interface DemoMerchantResult {
  label: string;
  flaw: Flaw | null;
  fire: { knownOrder: GatewayFireResult; unknownOrder: GatewayFireResult };
  burst: BurstReport;
  check: CheckResult;
}

export interface DemoResult {
  schemaVersion: 1;
  dialect: Dialect;
  buyers: number;
  stock: number;
  declineRate: number;
  /** The simulated gateway every payment went through (its base URL; gone once the demo ends). */
  gateway: string;
  flaw: Flaw;
  flawDescription: string;
  merchants: DemoMerchantResult[];
  /** True when the demo showed what it should: the correct merchant passed everything and the flawed one was caught. */
  ok: boolean;
  interrupted: boolean;
}

export type DemoEvents = {
  step: { merchant: string; step: 'fire' | 'burst' | 'check' };
};

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
  const burst = await runBurst(
    {
      url: merchant.confirmUrl,
      buyers: settings.buyers,
      stock: settings.stock,
      dialect,
      secret,
      amount: DEMO_PRICE,
      rampMs: DEMO_RAMP_MS,
      orderUrl: merchant.orderUrl,
      resetUrl: merchant.resetUrl,
      stockUrl: merchant.stockUrl,
      gateway,
      webhookUrl: merchant.webhookUrl,
      declineRate: settings.declineRate,
      // The sale is judged on stock and money; check 8 judges latency. Here only a confirm the gateway gave up on counts.
      p99BudgetMs: DEFAULT_TIMEOUT_MS,
    },
    { signal },
  );

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
    signal,
  });
  return { label, flaw: merchant.flaw ?? null, fire: { knownOrder, unknownOrder }, burst, check };
}

export async function runDemo(options: DemoOptions = {}, events = new TypedEmitter<DemoEvents>()): Promise<DemoResult> {
  const flaw = options.flaw ?? DEMO_DEFAULTS.flaw;
  if (MANUAL_ONLY_FLAWS.includes(flaw)) {
    throw new UsageError(`\`flaw\`: "${flaw}" is a manual-confirm flaw and the demo plays the Confirm Process; use one of ${CONFIRM_PROCESS_FLAWS.join(', ')}`);
  }
  const dialect = options.dialect ?? DEMO_DEFAULTS.dialect;
  const settings: Settings = {
    dialect,
    buyers: options.buyers ?? DEMO_DEFAULTS.buyers,
    stock: options.stock ?? DEMO_DEFAULTS.stock,
    declineRate: options.declineRate ?? DEMO_DEFAULTS.declineRate,
    secret: demoSecret(dialect),
    signal: options.signal,
  };
  const gateway = await startGateway({ port: 0, ...(settings.secret ? { secret: settings.secret } : {}) });
  const merchants: DemoMerchantResult[] = [];
  try {
    // One merchant at a time: two bursts at once would share the cores and blur each other's latencies.
    for (const merchantFlaw of [undefined, flaw]) {
      const merchant = await startMerchant({
        stock: settings.stock,
        price: DEMO_PRICE,
        flaw: merchantFlaw,
        secret: settings.secret,
        verify: 'rest',
        gateway: { url: gateway.url },
        holdMs: DEMO_HOLD_MS,
      });
      try {
        const label = merchantFlaw ? `flaw: ${merchantFlaw}` : 'correct merchant';
        merchants.push(await exercise(gateway, merchant, label, settings, events));
      } finally {
        await merchant.close();
      }
      if (settings.signal?.aborted) break;
    }
  } finally {
    await gateway.close();
  }
  const [correct, flawed] = merchants;
  const interrupted = settings.signal?.aborted === true;
  const ok =
    !interrupted &&
    correct !== undefined &&
    flawed !== undefined &&
    correct.burst.verdict.pass &&
    correct.check.ok &&
    !(flawed.burst.verdict.pass && flawed.check.ok);
  return {
    schemaVersion: 1,
    dialect,
    buyers: settings.buyers,
    stock: settings.stock,
    declineRate: settings.declineRate,
    gateway: gateway.url,
    flaw,
    flawDescription: FLAW_DESCRIPTIONS[flaw],
    merchants,
    ok,
    interrupted,
  };
}
