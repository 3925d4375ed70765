import { setTimeout as sleep } from 'node:timers/promises';
import { isV2 } from '../../protocol/index.js';
import { formatMs } from '../../util/duration.js';
import { outcome, type CaseContext, type ContractCase } from '../context.js';
import { describeAnswer, describeOrder, exchangeDetails } from '../describe.js';
import type { CheckGateway } from '../gateway.js';
import type { CaseOutcome } from '../types.js';
import { waitForStock } from './gateway.js';

/** How often the stock probe is read while waiting for the stock to come back. */
const POLL_INTERVAL_MS = 50;

export const releasesStockOnFailure: ContractCase = {
  id: 10,
  name: 'releases-stock-on-failure',
  title: 'the stock a confirmed payment held comes back when the payment fails',
  doc:
    'Confirms an order, then tells the merchant\'s webhook that the payment failed (V2: a Transaction.Failed ' +
    'webhook, signed when there is a secret; V1: {imp_uid, merchant_uid, status: "failed"}) and reads the ' +
    'stock probe until the stock is back where it was before the confirm. The contract wants it back within ' +
    'the release budget (default 2 s): a card declined or a buyer giving up after the confirm must not lose a ' +
    'sale for good. V1\'s gateway itself sends no webhook for an ordinary failure, so a V1 merchant that ' +
    'releases by a reservation deadline instead should leave out --webhook-url. With --gateway the payment really ' +
    'fails there first (the PG declines it after the 200), so a merchant that looks the notice\'s payment up finds it ' +
    'failed: V1 then gets the failure notice, V2 the gateway\'s own Transaction.Failed. Needs the webhook and the stock probe.',
  unmet: (setup) => {
    const missing = [setup.hooks.webhook === undefined ? '`webhookUrl`' : null, setup.hooks.stock === undefined ? '`stockUrl`' : null];
    const names = missing.filter((name): name is string => name !== null);
    return names.length === 0 ? null : `needs ${names.join(' and ')} to fail a payment and see its stock come back`;
  },
  async run(context) {
    if (context.gateway !== null) return failThroughGateway(context, context.gateway);
    await context.startingStock();
    const before = await context.hooks.readStock();
    const order = await context.knownOrder();
    const confirmed = await context.confirm(order);
    const sent = describeOrder(context.dialect, order.merchantUid, order.amount);
    if (!confirmed.decision.proceed) {
      return outcome('failed', `the confirm for ${sent} got ${describeAnswer(confirmed)}, so there is no held stock to release (wanted HTTP 200 for it; see case 1)`, {
        order: order.merchantUid,
        confirm: exchangeDetails(confirmed),
      });
    }
    const held = await context.hooks.readStock();
    const notice = await context.hooks.notifyPaymentFailed(order, context.dialect, context.setup.secret);
    const budget = context.setup.releaseBudgetMs;
    const started = performance.now();
    let now = await context.hooks.readStock();
    while (now !== before && performance.now() - started < budget) {
      await sleep(POLL_INTERVAL_MS, undefined, { signal: context.signal });
      now = await context.hooks.readStock();
    }
    const waitedMs = performance.now() - started;
    const details = { order: order.merchantUid, stockBefore: before, stockAfterConfirm: held, stockAfterFailure: now, waitedMs, webhook: notice, confirm: exchangeDetails(confirmed) };
    const told = isV2(context.dialect) ? 'a Transaction.Failed webhook' : 'a V1 webhook with status "failed"';
    if (held === before) {
      return outcome('passed', `the merchant took no stock at confirm (${before} before and after), so a failed payment has nothing to give back`, details);
    }
    if (now !== before) {
      return outcome(
        'failed',
        `confirmed ${sent} (stock ${before} → ${held}), then sent ${told} (answered ${notice}); after ${formatMs(waitedMs)} the stock is ${now}, not back to ${before}; the contract wants a failed payment's stock released`,
        details,
      );
    }
    return outcome('passed', `the stock came back to ${before} ${formatMs(waitedMs)} after ${told}`, details);
  },
};

/**
 * With a gateway a failure notice must be true, or a merchant that looks the payment up rightly ignores it:
 * the payment is confirmed, the PG declines it at the gateway, and only then is the merchant told.
 */
async function failThroughGateway(context: CaseContext, gateway: CheckGateway): Promise<CaseOutcome> {
  const before = (await context.startingStock())!;
  const order = await context.knownOrder();
  await gateway.register(order, { outcome: 'decline' });
  const confirmed = await context.confirm(order, {}, { handOver: false });
  const sent = describeOrder(context.dialect, order.merchantUid, order.amount);
  if (!confirmed.decision.proceed) {
    return outcome('failed', `the confirm for ${sent} got ${describeAnswer(confirmed)}, so there is no held stock to release (wanted HTTP 200 for it; see case 1)`, {
      order: order.merchantUid,
      confirm: exchangeDetails(confirmed),
    });
  }
  const held = await context.hooks.readStock();
  await context.handOver(order, confirmed);
  const payment = await gateway.settled(order.merchantUid, context.signal);
  const details: Record<string, unknown> = { order: order.merchantUid, stockBefore: before, stockAfterConfirm: held, paymentStatus: payment.status, confirm: exchangeDetails(confirmed) };
  if (payment.status !== 'failed') {
    return outcome('failed', `confirmed ${sent}, but the gateway shows the payment ${payment.status}, not failed; the merchant changed it before the case could tell it of the failure`, details);
  }
  let told: string;
  if (isV2(context.dialect)) {
    // V2's gateway sends Transaction.Failed itself, to the webhook hook (the payment's notice URL).
    const webhook = payment.webhooks.find((sentWebhook) => sentWebhook.event.includes('Failed'));
    const answered = webhook?.attempts.at(-1);
    details.webhook = webhook === undefined ? null : { event: webhook.event, state: webhook.state, attempts: webhook.attempts.length };
    if (webhook === undefined || webhook.state !== 'delivered') {
      const why = webhook === undefined ? 'the gateway sent no Transaction.Failed' : `the merchant did not answer the gateway's Transaction.Failed with 2xx (${answered?.message ?? 'no attempt'})`;
      return outcome('failed', `the PG declined ${sent} after the 200, but ${why}; the contract wants every webhook answered 2xx`, details);
    }
    told = "the gateway's Transaction.Failed webhook";
  } else {
    details.webhook = await context.hooks.notifyPaymentFailed(order, context.dialect, context.setup.secret);
    told = 'a V1 webhook with status "failed" (the gateway shows the payment failed)';
  }
  const budget = context.setup.releaseBudgetMs;
  const back = await waitForStock(context, before, budget);
  Object.assign(details, { stockAfterFailure: back.stock, waitedMs: back.waitedMs });
  if (held === before) {
    return outcome('passed', `the merchant took no stock at confirm (${before} before and after), so a failed payment has nothing to give back`, details);
  }
  if (back.stock !== before) {
    return outcome(
      'failed',
      `confirmed ${sent} (stock ${before} → ${held}), the PG declined it, then the merchant got ${told}; after ${formatMs(back.waitedMs)} the stock is ${back.stock}, not back to ${before}; the contract wants a failed payment's stock released`,
      details,
    );
  }
  return outcome('passed', `the stock came back to ${before} ${formatMs(back.waitedMs)} after ${told}`, details);
}
