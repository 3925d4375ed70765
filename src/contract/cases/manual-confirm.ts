import { setTimeout as sleep } from 'node:timers/promises';
import { fireConfirm, type FireResult } from '../../fire/index.js';
import type { PaymentTimeline } from '../../gateway/gateway.js';
import type { PaymentToken } from '../../gateway/sim/sales.js';
import { runBurst, type BurstReport } from '../../load/index.js';
import { isSuccessStatus } from '../../protocol/flows.js';
import { UsageError } from '../../util/errors.js';
import { formatMs } from '../../util/duration.js';
import { CaseSkip, isLoopbackTarget, outcome, type CaseContext, type CheckSetup, type ContractCase } from '../context.js';
import { describeAnswer, exchangeDetails } from '../describe.js';
import type { CheckGateway } from '../gateway.js';
import { HookError } from '../hooks.js';
import type { TestOrder } from '../orders.js';

/**
 * The contract of a manual-confirm completion endpoint (check --flow manual-confirm): the buyer's front end
 * posts what requestPayment returned, the merchant checks its order and stock and calls the gateway's
 * confirm, and its answer to the buyer must agree with what the gateway then holds. Every case reads the
 * payment back from the gateway: the truth is what was charged, not what the merchant said.
 */

const POLL_MS = 25;

function gatewayOf(context: CaseContext): CheckGateway {
  if (context.gateway === null) throw new CaseSkip('needs `gateway` <url>');
  return context.gateway;
}

function completionOf(setup: CheckSetup): NonNullable<CheckSetup['completion']> {
  if (setup.completion === null) throw new CaseSkip('a manual-confirm case: run check with `flow` manual-confirm');
  return setup.completion;
}

/** Posts the completion body a buyer's front end would, for `token`, with the amount the front end believes. */
async function complete(context: CaseContext, token: PaymentToken, amount: number): Promise<FireResult> {
  const body = completionOf(context.setup).template.render({ ...token, amount, n: 1 });
  return fireConfirm({ url: context.setup.url, body, timeoutMs: context.setup.timeoutMs, signal: context.signal });
}

function toldPaid(context: CaseContext, result: FireResult): boolean {
  return result.answer.kind === 'http' && isSuccessStatus(completionOf(context.setup).success, result.answer.status);
}

/** Charged and not (fully) cancelled: a partly cancelled payment stays paid. */
function charged(timeline: PaymentTimeline): boolean {
  return timeline.status === 'paid';
}

async function paymentOf(context: CaseContext, paymentId: string): Promise<PaymentTimeline> {
  const gateway = gatewayOf(context);
  return gateway.timeline(paymentId, gateway.manualRun);
}

/** After a "no" to the buyer, gives the merchant the settle to cancel a payment it confirmed anyway. */
async function settledAfterNo(context: CaseContext, paymentId: string): Promise<PaymentTimeline> {
  const started = performance.now();
  let timeline = await paymentOf(context, paymentId);
  while (charged(timeline) && performance.now() - started < gatewayOf(context).plan.settleMs) {
    await sleep(POLL_MS, undefined, { signal: context.signal });
    timeline = await paymentOf(context, paymentId);
  }
  return timeline;
}

function paymentDetails(timeline: PaymentTimeline): Record<string, unknown> {
  return {
    status: timeline.status,
    confirmCalls: timeline.manualConfirm?.calls ?? null,
    confirmed: timeline.manualConfirm?.confirmed ?? null,
    failure: timeline.failure,
  };
}

/** The gateway's view of a payment in words: "paid", "ready (never confirmed)", "failed (declined: ...)". */
function held(timeline: PaymentTimeline): string {
  const calls = timeline.manualConfirm ? `, ${timeline.manualConfirm.calls} confirm call${timeline.manualConfirm.calls === 1 ? '' : 's'}` : '';
  if (timeline.status === 'ready') return `ready (never confirmed${calls})`;
  if (timeline.failure) return `${timeline.status} (${timeline.failure.reason}${calls})`;
  return `${timeline.status}${calls}`;
}

async function orderWithToken(context: CaseContext, options: { amount?: number; outcome?: 'approve' | 'decline' } = {}): Promise<{ order: TestOrder; token: PaymentToken }> {
  const order = await context.knownOrder();
  const token = await gatewayOf(context).mint(order, options);
  return { order, token };
}

const sentText = (order: TestOrder, amount = order.amount): string => `posted the completion of paymentId "${order.merchantUid}" (amount ${amount})`;

function loopbackOnly(setup: CheckSetup): string | null {
  return isLoopbackTarget(setup) ? null : `load is only sent to this machine, not to ${new URL(setup.url).hostname}; run confirm-sim next to the merchant and target it on 127.0.0.1`;
}

export const completesKnownOrder: ContractCase = {
  id: 15,
  name: 'completes-known-order',
  title: 'manual confirm: a known order in stock is confirmed, and the buyer is told paid',
  doc:
    'Creates an order the merchant knows, registers its payment on a manual-confirm channel (the gateway mints the ' +
    'paymentToken requestPayment would return) and posts the completion body to the merchant. The contract wants ' +
    'a success answer (--success-status, default 2xx) and the payment PAID at the gateway: the merchant called ' +
    'POST /payments/{paymentId}/confirm with the token.',
  unmet: () => null,
  async run(context) {
    const before = await context.startingStock();
    const { order, token } = await orderWithToken(context);
    const result = await complete(context, token, order.amount);
    const told = toldPaid(context, result);
    const timeline = told ? await paymentOf(context, order.merchantUid) : await settledAfterNo(context, order.merchantUid);
    const after = await context.stock();
    const details = { order: order.merchantUid, stockBefore: before, stockAfter: after, ...exchangeDetails(result), payment: paymentDetails(timeline) };
    const sent = sentText(order);
    const gateway = `the gateway holds the payment ${held(timeline)}`;
    if (told && charged(timeline)) {
      if (before !== null && after !== null && before - after !== order.quantity) {
        return outcome('failed', `${sent}; it was confirmed, but the stock went from ${before} to ${after} for ${order.quantity} unit(s) sold`, details);
      }
      return outcome('passed', `${sent}; answered ${describeAnswer(result)} and confirmed it at the gateway`, details);
    }
    if (told) return outcome('failed', `${sent}; answered ${describeAnswer(result)} (told paid), but ${gateway}: the buyer expects an order that was never charged`, details);
    if (charged(timeline)) return outcome('failed', `${sent}; answered ${describeAnswer(result)} (told no), but ${gateway}: charged and told no`, details);
    return outcome('failed', `${sent}; answered ${describeAnswer(result)} and ${gateway}; the contract wants an order in stock confirmed and answered with success`, details);
  },
};

export const soldOutConfirmsNothing: ContractCase = {
  id: 16,
  name: 'sold-out-confirms-nothing',
  title: 'manual confirm: sold out is refused, and nothing is confirmed',
  doc:
    'Sells the product out through the reset hook (stock 0) and posts a known order\'s completion. The contract ' +
    'wants an answer outside --success-status and the payment never confirmed (or cancelled within --settle): a ' +
    'merchant that confirms first and checks stock after charges a buyer it then tells "sold out".',
  unmet: (setup) => (setup.hooks.reset === undefined ? 'needs `resetUrl` to sell the product out' : null),
  async run(context) {
    await context.restock(0);
    const { order, token } = await orderWithToken(context);
    const result = await complete(context, token, order.amount);
    const told = toldPaid(context, result);
    const timeline = await settledAfterNo(context, order.merchantUid);
    const details = { order: order.merchantUid, ...exchangeDetails(result), payment: paymentDetails(timeline) };
    const sent = `${sentText(order)} after the reset hook set the stock to 0`;
    if (charged(timeline)) {
      return outcome(
        'failed',
        `${sent}; answered ${describeAnswer(result)}${told ? '' : ' (told no)'}, yet the gateway holds the payment ${held(timeline)} after the ${formatMs(gatewayOf(context).plan.settleMs)} settle: the merchant charged for an item that is gone; check the stock before calling confirm`,
        details,
      );
    }
    if (told) return outcome('failed', `${sent}; answered ${describeAnswer(result)}: told paid for an item that is gone (the payment is ${held(timeline)})`, details);
    return outcome('passed', `${sent}; answered ${describeAnswer(result)} and confirmed nothing (the payment is ${held(timeline)})`, details);
  },
};

export const tamperedAmountNotConfirmed: ContractCase = {
  id: 17,
  name: 'tampered-amount-not-confirmed',
  title: 'manual confirm: a payment for less than the order is not confirmed',
  doc:
    'Creates an order the merchant knows, but registers its payment at the gateway for a tenth of the amount (a ' +
    'front end whose requestPayment was tampered with), and posts the completion with that amount in {amount}. ' +
    'The merchant must send its own order\'s amount as totalAmount, so the gateway refuses with ' +
    'INFORMATION_MISMATCH. The contract wants the payment not confirmed and the buyer not told paid. Needs the ' +
    'order hook, or --price so an open-orders merchant knows the amount.',
  unmet: (setup) =>
    setup.hooks.order === undefined && !setup.product.priceKnown ? 'needs `orderUrl` (or `product.price`) so the merchant knows the order\'s real amount' : null,
  async run(context) {
    const before = await context.startingStock();
    const order = await context.knownOrder();
    const tampered = Math.max(1, Math.floor(order.amount / 10));
    const token = await gatewayOf(context).mint(order, { amount: tampered });
    const result = await complete(context, token, tampered);
    const told = toldPaid(context, result);
    const timeline = await settledAfterNo(context, order.merchantUid);
    const after = await context.stock();
    const details = { order: order.merchantUid, orderAmount: order.amount, paidAmount: tampered, ...exchangeDetails(result), payment: paymentDetails(timeline), stockBefore: before, stockAfter: after };
    const sent = `${sentText(order, tampered)} for an order of ${order.amount}, its payment registered for ${tampered}`;
    if (charged(timeline)) {
      return outcome(
        'failed',
        `${sent}; the merchant confirmed it (${held(timeline)}): it sold a ${order.amount} order for ${tampered}; send the order's own amount as totalAmount so the gateway refuses a mismatch`,
        details,
      );
    }
    if (told) return outcome('failed', `${sent}; nothing was charged, but the merchant answered ${describeAnswer(result)}: told paid for an order it never confirmed`, details);
    if (before !== null && after !== null && after !== before) {
      return outcome('failed', `${sent}; refused and not confirmed, but the stock went from ${before} to ${after}: a refused completion must give its unit back`, details);
    }
    return outcome('passed', `${sent}; answered ${describeAnswer(result)} and the payment is ${held(timeline)}`, details);
  },
};

export const replayedTokenConfirmsOnce: ContractCase = {
  id: 18,
  name: 'replayed-token-confirms-once',
  title: 'manual confirm: a replayed completion confirms nothing twice, and a token pays only its own payment',
  doc:
    'Completes a known order, posts the very same completion again (a double click, a retried request), then ' +
    'posts that paymentToken with another order\'s paymentId. The contract wants the first confirmed once, still ' +
    'PAID after the replay (not cancelled, not charged twice, stock taken once with the stock probe), and the ' +
    'other order neither confirmed nor told paid.',
  unmet: () => null,
  async run(context) {
    const before = await context.startingStock(2 * context.setup.product.quantity);
    const first = await orderWithToken(context);
    const original = await complete(context, first.token, first.order.amount);
    const replay = await complete(context, first.token, first.order.amount);
    const afterReplay = await paymentOf(context, first.order.merchantUid);
    const other = await orderWithToken(context);
    const borrowed = await complete(context, { ...other.token, paymentToken: first.token.paymentToken }, other.order.amount);
    const otherTimeline = await settledAfterNo(context, other.order.merchantUid);
    const after = await context.stock();
    const details = {
      order: first.order.merchantUid,
      original: exchangeDetails(original),
      replay: exchangeDetails(replay),
      payment: paymentDetails(afterReplay),
      otherOrder: other.order.merchantUid,
      borrowed: exchangeDetails(borrowed),
      otherPayment: paymentDetails(otherTimeline),
      stockBefore: before,
      stockAfter: after,
    };
    const sent = `${sentText(first.order)} twice`;
    if (!toldPaid(context, original) || !charged(afterReplay)) {
      const which = !charged(afterReplay) ? `the payment is ${held(afterReplay)}` : `the first answer was ${describeAnswer(original)}`;
      return outcome('failed', `${sent}; ${which}; the contract wants a completion in stock confirmed and a replay to change nothing`, details);
    }
    if ((afterReplay.manualConfirm?.confirmed ?? 1) > 1) {
      return outcome('failed', `${sent}; the gateway charged the payment ${afterReplay.manualConfirm!.confirmed} times`, details);
    }
    if (before !== null && after !== null && before - after !== first.order.quantity) {
      return outcome('failed', `${sent}; the payment was confirmed once, but the stock went from ${before} to ${after}: the replay took stock again`, details);
    }
    const borrowedText = `posted paymentId "${other.order.merchantUid}" with the paymentToken of "${first.order.merchantUid}"`;
    if (charged(otherTimeline)) return outcome('failed', `${borrowedText}; the gateway holds that payment ${held(otherTimeline)}`, details);
    if (toldPaid(context, borrowed)) {
      return outcome('failed', `${borrowedText}; the merchant answered ${describeAnswer(borrowed)} (told paid) though the payment is ${held(otherTimeline)}`, details);
    }
    const replayNote = toldPaid(context, replay) ? 'the replay was answered as paid again' : `the replay was answered ${describeAnswer(replay)}`;
    return outcome('passed', `${sent}: confirmed once and still ${afterReplay.status} (${replayNote}); a borrowed token confirmed nothing (${describeAnswer(borrowed)})`, details);
  },
};

export const declineGivesStockBack: ContractCase = {
  id: 19,
  name: 'decline-gives-stock-back',
  title: 'manual confirm: a PG decline (PG_PROVIDER) gives the stock back, and the buyer is told no',
  doc:
    'Registers a known order\'s payment to be declined by the PG and posts its completion: the merchant\'s confirm ' +
    'call gets 502 PG_PROVIDER and the payment fails. The contract wants an answer outside --success-status and ' +
    'the stock back where it was within the release budget (default 2 s). Needs the stock probe.',
  unmet: (setup) => (setup.hooks.stock === undefined ? 'needs `stockUrl` to see the stock come back' : null),
  async run(context) {
    const before = (await context.startingStock())!;
    const { order, token } = await orderWithToken(context, { outcome: 'decline' });
    const result = await complete(context, token, order.amount);
    const timeline = await paymentOf(context, order.merchantUid);
    const started = performance.now();
    let stock = await context.hooks.readStock();
    while (stock !== before && performance.now() - started < context.setup.releaseBudgetMs) {
      await sleep(POLL_MS, undefined, { signal: context.signal });
      stock = await context.hooks.readStock();
    }
    const details = { order: order.merchantUid, ...exchangeDetails(result), payment: paymentDetails(timeline), stockBefore: before, stockAfter: stock };
    const sent = `${sentText(order)}, which the PG declines`;
    if (timeline.status !== 'failed') {
      return outcome('failed', `${sent}; the payment is ${held(timeline)}: the merchant never called confirm with the token, so the decline was not tested`, details);
    }
    if (toldPaid(context, result)) return outcome('failed', `${sent}; the confirm was declined (PG_PROVIDER), but the merchant answered ${describeAnswer(result)}: told paid for nothing`, details);
    if (stock !== before) {
      return outcome('failed', `${sent}; declined and answered ${describeAnswer(result)}, but the stock stayed at ${stock} (was ${before}) for ${formatMs(context.setup.releaseBudgetMs)}: the declined buyer's unit was never given back`, details);
    }
    return outcome('passed', `${sent}; answered ${describeAnswer(result)} and the stock came back to ${before}`, details);
  },
};

export const burstConfirmsStock: ContractCase = {
  id: 20,
  name: 'burst-confirms-stock',
  title: 'manual confirm: more buyers than stock at once: exactly the stock is confirmed',
  doc:
    'Runs burst --flow manual-confirm: sets the stock through the reset hook (default 10), mints a token for each ' +
    'of 30 buyers and posts all their completions at once. The manual-confirm oracle wants exactly min(stock, ' +
    'buyers) confirmed at the gateway, no buyer told no while charged, none told paid while not charged, and no ' +
    'unit held without a payment (with the stock probe). Load goes only to loopback.',
  unmet: (setup) => loopbackOnly(setup) ?? (setup.hooks.reset === undefined ? 'needs the reset hook (`resetUrl`) to set a small stock for the sale' : null),
  async run(context) {
    const { setup } = context;
    const completion = completionOf(setup);
    const gateway = gatewayOf(context);
    let report: BurstReport;
    try {
      report = await runBurst(
        {
          url: setup.url,
          buyers: setup.burst.buyers,
          stock: setup.burst.stock,
          dialect: setup.dialect,
          flow: 'manual-confirm',
          body: completion.template.text,
          successStatus: completion.success,
          tokenLifetimeMs: completion.tokenLifetimeMs ?? undefined,
          amount: setup.product.price,
          merchantUid: `${context.newOrderId()}-{n}`,
          timeoutMs: setup.timeoutMs,
          p99BudgetMs: setup.timeoutMs,
          maxErrorRate: setup.maxErrorRate,
          orderUrl: setup.hooks.order,
          resetUrl: setup.hooks.reset,
          stockUrl: setup.hooks.stock,
          hookHeaders: setup.hookHeaders,
          gateway: gateway.plan.url,
          webhookUrl: gateway.plan.noticeUrl ?? undefined,
          settleMs: gateway.plan.settleMs,
        },
        { signal: context.signal },
      );
    } catch (error) {
      if (error instanceof UsageError) throw new HookError(`the burst's set-up failed: ${error.message}`);
      throw error;
    }
    const { verdict, counts } = report;
    const mc = report.manualConfirm!;
    const details = {
      buyers: counts.buyers,
      stock: report.stock.stock,
      toldPaid: mc.toldPaid,
      confirmed: mc.confirmed,
      statuses: mc.statuses,
      stockProbe: report.stock.probe,
      problems: verdict.problems.map(({ kind, count, message, examples }) => ({ kind, count, message, examples })),
      notes: verdict.notes,
    };
    const sale = `${counts.buyers} buyers at once for ${report.stock.stock} in stock`;
    if (verdict.pass) return outcome('passed', `${sale}: ${mc.confirmed} confirmed at the gateway, ${mc.toldPaid} told paid (${verdict.summary})`, details);
    const problems = verdict.problems.map((problem) => `${problem.kind}: ${problem.message}`).join('; ');
    return outcome('failed', `${sale}: ${mc.confirmed} confirmed; ${problems}`, details);
  },
};

export const MANUAL_CONFIRM_CASES: readonly ContractCase[] = [
  completesKnownOrder,
  soldOutConfirmsNothing,
  tamperedAmountNotConfirmed,
  replayedTokenConfirmsOnce,
  declineGivesStockBack,
  burstConfirmsStock,
];
