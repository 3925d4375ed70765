import { randomBytes } from 'node:crypto';
import { fireConfirm, type FireResult } from '../fire/index.js';
import { runBurst } from '../load/index.js';
import type { BurstReport } from '../load/index.js';
import { runCheck, type CheckResult } from '../contract/index.js';
import { startMerchant, FLAW_DESCRIPTIONS, type Flaw, type RunningMerchant } from '../merchants/index.js';
import { isV2, newMerchantUid, parseWebhookSecret, type Dialect, type WebhookSecret } from '../protocol/index.js';
import { TypedEmitter } from '../util/events.js';

/**
 * The built-in demo: one correct sample merchant and one with a flaw, each put through fire, burst and
 * check, so a newcomer sees in one command what confirm-sim catches and what a pass looks like.
 */
export interface DemoOptions {
  /** The bug the second merchant has; `race` (oversell under a burst) by default. */
  flaw?: Flaw;
  dialect?: Dialect;
  buyers?: number;
  stock?: number;
  signal?: AbortSignal;
}

export const DEMO_DEFAULTS = { flaw: 'race' as Flaw, dialect: 'v1' as Dialect, buyers: 2000, stock: 100 };
const DEMO_PRICE = 1000;

export interface DemoMerchantResult {
  label: string;
  flaw: Flaw | null;
  fire: { knownOrder: FireResult; unknownOrder: FireResult };
  burst: BurstReport;
  check: CheckResult;
}

export interface DemoResult {
  schemaVersion: 1;
  dialect: Dialect;
  buyers: number;
  stock: number;
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

/** V2 confirm calls are signed; the demo makes a throwaway secret so both sides can speak V2. */
function demoSecret(dialect: Dialect): WebhookSecret | undefined {
  if (!isV2(dialect)) return undefined;
  return parseWebhookSecret(`whsec_${randomBytes(24).toString('base64')}`);
}

async function exercise(
  merchant: RunningMerchant,
  label: string,
  options: Required<Omit<DemoOptions, 'signal'>> & { secret: WebhookSecret | undefined; signal: AbortSignal | undefined },
  events: TypedEmitter<DemoEvents>,
): Promise<DemoMerchantResult> {
  const { dialect, secret, signal } = options;
  events.emit('step', { merchant: label, step: 'fire' });
  const knownUid = newMerchantUid('demo');
  await fetch(merchant.orderUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ merchant_uid: knownUid, amount: DEMO_PRICE, quantity: 1 }),
    signal: signal ?? null,
  });
  const knownOrder = await fireConfirm({ url: merchant.confirmUrl, dialect, secret, order: { merchantUid: knownUid, amount: DEMO_PRICE }, signal });
  const unknownOrder = await fireConfirm({ url: merchant.confirmUrl, dialect, secret, order: { amount: DEMO_PRICE }, signal });

  events.emit('step', { merchant: label, step: 'burst' });
  const burst = await runBurst(
    {
      url: merchant.confirmUrl,
      buyers: options.buyers,
      stock: options.stock,
      dialect,
      secret,
      amount: DEMO_PRICE,
      orderUrl: merchant.orderUrl,
      resetUrl: merchant.resetUrl,
      stockUrl: merchant.stockUrl,
    },
    { signal },
  );

  events.emit('step', { merchant: label, step: 'check' });
  const check = await runCheck({
    url: merchant.confirmUrl,
    dialect,
    secret,
    orderUrl: merchant.orderUrl,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    webhookUrl: merchant.webhookUrl,
    product: { price: DEMO_PRICE, stock: options.stock },
    signal,
  });
  return { label, flaw: merchant.flaw ?? null, fire: { knownOrder, unknownOrder }, burst, check };
}

export async function runDemo(options: DemoOptions = {}, events = new TypedEmitter<DemoEvents>()): Promise<DemoResult> {
  const settings = {
    flaw: options.flaw ?? DEMO_DEFAULTS.flaw,
    dialect: options.dialect ?? DEMO_DEFAULTS.dialect,
    buyers: options.buyers ?? DEMO_DEFAULTS.buyers,
    stock: options.stock ?? DEMO_DEFAULTS.stock,
    secret: demoSecret(options.dialect ?? DEMO_DEFAULTS.dialect),
    signal: options.signal,
  };
  const merchants: DemoMerchantResult[] = [];
  // One merchant at a time: two bursts at once would share two cores and blur each other's latencies.
  for (const flaw of [undefined, settings.flaw]) {
    const merchant = await startMerchant({ stock: settings.stock, price: DEMO_PRICE, flaw, secret: settings.secret });
    try {
      const label = flaw ? `flaw: ${flaw}` : 'correct merchant';
      merchants.push(await exercise(merchant, label, settings, events));
    } finally {
      await merchant.close();
    }
    if (settings.signal?.aborted) break;
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
    dialect: settings.dialect,
    buyers: settings.buyers,
    stock: settings.stock,
    flaw: settings.flaw,
    flawDescription: FLAW_DESCRIPTIONS[settings.flaw],
    merchants,
    ok,
    interrupted,
  };
}
