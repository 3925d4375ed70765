import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { PaymentTimeline } from '../../gateway/gateway.js';
import { isV2, newImpUid, newTransactionId, signWebhook, type WebhookSecret } from '../../protocol/index.js';
import { formatMs } from '../../util/duration.js';
import { CaseSkip, outcome, type CaseContext, type CheckSetup, type ContractCase } from '../context.js';
import { describeAnswer, describeOrder, exchangeDetails, quoteMerchantText } from '../describe.js';
import type { CheckGateway } from '../gateway.js';
import type { TestOrder } from '../orders.js';

/**
 * The cases only a gateway makes possible: the merchant's REST lookups meet payments that exist (or, on
 * purpose, do not), the PG declines after a 200, and webhooks arrive as the gateway sends them.
 */

/** How often the stock probe is read while waiting for stock to come back. */
const POLL_MS = 25;
/** After a replayed webhook, how long the stock is watched for a change the replay should not make. */
const REPLAY_WATCH_MS = 300;
const REPLAY_TIMEOUT_MS = 10_000;

function needsGateway(setup: CheckSetup): string | null {
  return setup.gateway === null ? 'needs `gateway` <url>: only a gateway has payments for the merchant to look up, declines charges and sends webhooks' : null;
}

function gatewayOf(context: CaseContext): CheckGateway {
  if (context.gateway === null) throw new CaseSkip('needs `gateway` <url>');
  return context.gateway;
}

/** The stock now and, when it moved, a clause saying how. */
async function stockChange(context: CaseContext, before: number | null): Promise<{ after: number | null; moved: string | null }> {
  const after = await context.stock();
  const moved = before === null || after === null || before === after ? null : `the stock went from ${before} to ${after}`;
  return { after, moved };
}

/** Reads the stock until it is `wanted`, or the budget is spent; resolves to the last reading and the wait. */
export async function waitForStock(context: CaseContext, wanted: number, budgetMs: number): Promise<{ stock: number; waitedMs: number }> {
  const started = performance.now();
  let stock = await context.hooks.readStock();
  while (stock !== wanted && performance.now() - started < budgetMs) {
    await sleep(POLL_MS, undefined, { signal: context.signal });
    stock = await context.hooks.readStock();
  }
  return { stock, waitedMs: performance.now() - started };
}

function timelineDetails(timeline: PaymentTimeline): Record<string, unknown> {
  return {
    status: timeline.status,
    failure: timeline.failure,
    timeline: timeline.timeline,
    webhooks: timeline.webhooks.map(({ id, event, state, attempts }) => ({ id, event, state, attempts: attempts.length })),
  };
}

const lookUp = (dialect: CheckSetup['dialect']): string =>
  isV2(dialect)
    ? 'look the payment up (GET /payments/{paymentId}, e.g. PaymentClient.getPayment) and compare its amount and status with the order'
    : 'look the payment up (GET /payments/{imp_uid}) and compare merchant_uid, amount and status with the order';

export const refusesForgedConfirm: ContractCase = {
  id: 11,
  name: 'refuses-forged-confirm',
  title: 'a confirm for a payment the gateway does not have, or that belongs to another order, is refused',
  doc:
    'With --gateway. Creates an order the merchant knows, then sends its confirm naming a payment the gateway ' +
    'never issued (V1: an unknown imp_uid; V2: a paymentId the gateway has no payment for) and, for V1, a ' +
    'confirm that borrows the imp_uid of another order\'s real payment. A V1 confirm is unsigned: anyone who ' +
    'can POST to the confirm URL can send one. The contract wants every such confirm refused and no stock ' +
    'moved (with the stock probe): a merchant must look the payment up and compare it with its own order.',
  unmet: needsGateway,
  async run(context) {
    const gateway = gatewayOf(context);
    const before = await context.startingStock();
    const order = await context.knownOrder();
    const attempts: Array<{ what: string; order: TestOrder }> = [];
    const v2 = isV2(context.dialect);
    const unknown = { ...order, impUid: newImpUid(), transactionId: newTransactionId() };
    attempts.push({
      what: v2 ? 'no payment at the gateway (its paymentId was never registered there)' : `imp_uid "${unknown.impUid}", which the gateway never issued`,
      order: unknown,
    });
    if (!v2) {
      const other = await context.knownOrder();
      await gateway.register(other);
      attempts.push({ what: `imp_uid "${other.impUid}", the gateway's payment of another order ("${other.merchantUid}")`, order: { ...order, impUid: other.impUid } });
    }
    const exchanges: Record<string, unknown>[] = [];
    for (const attempt of attempts) {
      const result = await context.forgedConfirm(attempt.order);
      const { after, moved } = await stockChange(context, before);
      exchanges.push({ what: attempt.what, ...exchangeDetails(result), stockAfter: after });
      const sent = `sent a confirm for ${describeOrder(context.dialect, order.merchantUid, order.amount)} (a real order) naming ${attempt.what}`;
      if (result.decision.proceed) {
        return outcome(
          'failed',
          `${sent}; got HTTP 200, so the merchant took the confirm body on faith and anyone who can reach its confirm URL can take its stock; ` +
            `the contract wants it refused: ${lookUp(context.dialect)}`,
          { order: order.merchantUid, stockBefore: before, exchanges },
        );
      }
      if (moved !== null) {
        return outcome('failed', `${sent}; it was refused (${describeAnswer(result)}), but ${moved}; a refused confirm must take no stock`, {
          order: order.merchantUid,
          stockBefore: before,
          exchanges,
        });
      }
    }
    return outcome('passed', `refused ${attempts.length === 1 ? 'the forged confirm' : `all ${attempts.length} forged confirms`} and moved no stock`, {
      order: order.merchantUid,
      stockBefore: before,
      exchanges,
    });
  },
};

export const refusesTamperedAmount: ContractCase = {
  id: 12,
  name: 'refuses-tampered-amount',
  title: "a payment whose amount at the gateway differs from the order's is refused, whatever the confirm body says",
  doc:
    'With --gateway. Creates an order and registers its payment at the gateway for a different amount (a buyer ' +
    'who tampered with the price in the browser), while the confirm body claims the order\'s right amount. The ' +
    'contract wants a refusal and no stock moved: only the amount the gateway is about to charge counts, and the ' +
    'confirm body is not to be trusted for it.',
  unmet: needsGateway,
  async run(context) {
    const gateway = gatewayOf(context);
    const before = await context.startingStock();
    const order = await context.knownOrder();
    const charged = order.amount > 1 ? Math.floor(order.amount / 2) : order.amount + 1;
    await gateway.register(order, { amount: charged });
    const result = await context.confirm(order);
    const { after, moved } = await stockChange(context, before);
    const details = { order: order.merchantUid, orderAmount: order.amount, gatewayAmount: charged, stockBefore: before, stockAfter: after, ...exchangeDetails(result) };
    const sent = `the gateway's payment for ${describeOrder(context.dialect, order.merchantUid)} is for ${charged} while the order and the confirm body say ${order.amount}`;
    if (result.decision.proceed) {
      return outcome(
        'failed',
        `${sent}; got HTTP 200, so the gateway charges ${charged} for an order worth ${order.amount}; the contract wants it refused: ${lookUp(context.dialect)}`,
        details,
      );
    }
    if (moved !== null) return outcome('failed', `${sent}; it was refused, but ${moved}; a refused confirm must take no stock`, details);
    return outcome('passed', `${sent}: refused with ${describeAnswer(result)}, no stock moved`, details);
  },
};

export const releasesStockOnDecline: ContractCase = {
  id: 13,
  name: 'releases-stock-on-decline',
  title: 'the stock of a confirmed payment the PG declines comes back within --settle',
  doc:
    'With --gateway and the stock probe. Confirms an order whose payment the PG then declines (the card company ' +
    'says no after the merchant said 200) and reads the stock until it is back where it was. V1 sends no webhook ' +
    'for a failed payment, so a V1 merchant must find out itself (a reservation deadline, a lookup); V2 sends ' +
    'Transaction.Failed to the webhook hook. The contract wants the unit back within --settle (default 2 s): ' +
    'otherwise every decline loses a sale for good.',
  unmet: (setup) => needsGateway(setup) ?? (setup.hooks.stock === undefined ? 'needs `stockUrl` to see the declined stock come back' : null),
  async run(context) {
    const gateway = gatewayOf(context);
    const before = (await context.startingStock())!;
    const order = await context.knownOrder();
    await gateway.register(order, { outcome: 'decline' });
    // The answer reaches the gateway only once the stock the confirm took has been read: a decline (and
    // V2's Transaction.Failed) follows within milliseconds.
    const confirmed = await context.confirm(order, {}, { handOver: false });
    const sent = describeOrder(context.dialect, order.merchantUid, order.amount);
    if (!confirmed.decision.proceed) {
      return outcome('failed', `the confirm for ${sent} got ${describeAnswer(confirmed)}, so nothing was held to give back (wanted HTTP 200 for it; see case 1)`, {
        order: order.merchantUid,
        confirm: exchangeDetails(confirmed),
      });
    }
    const held = await context.hooks.readStock();
    const started = performance.now();
    await context.handOver(order, confirmed);
    const budget = context.setup.gateway!.settleMs;
    const back = await waitForStock(context, before, Math.max(0, budget - (performance.now() - started)));
    const timeline = await gateway.settled(order.merchantUid, context.signal);
    const sinceAnswer = performance.now() - started;
    const details = { order: order.merchantUid, stockBefore: before, stockAfterConfirm: held, stockAfterDecline: back.stock, settleMs: budget, payment: timelineDetails(timeline), confirm: exchangeDetails(confirmed) };
    const how = isV2(context.dialect)
      ? context.setup.gateway!.noticeUrl === null
        ? 'V2, and without a webhook hook (--webhook-url) the merchant got no Transaction.Failed'
        : 'V2: the gateway sent Transaction.Failed to the webhook hook'
      : 'V1: the gateway sends no webhook for a failed payment, so the merchant must release by itself';
    if (timeline.status !== 'failed') {
      return outcome('failed', `confirmed ${sent}, but the gateway shows the payment ${timeline.status}, not declined; the merchant changed it (cancelled, paid again?) before the case could judge the release`, details);
    }
    if (held === before) {
      return outcome('passed', `the merchant took no stock at confirm (${before} before and after), so a declined payment has nothing to give back`, details);
    }
    if (back.stock !== before) {
      return outcome(
        'failed',
        `confirmed ${sent} (stock ${before} → ${held}), then the PG declined it (${how}); ${formatMs(sinceAnswer)} later the stock is ${back.stock}, not back to ${before}; ` +
          `the contract wants a declined payment's stock released within --settle (${formatMs(budget)})`,
        details,
      );
    }
    return outcome('passed', `the PG declined ${sent}; its stock was back to ${before} ${formatMs(back.waitedMs)} after the answer (${how})`, details);
  },
};

/** Sends a webhook again exactly as the gateway sent it: same body, same webhook-id, signed afresh. */
async function replay(webhook: PaymentTimeline['webhooks'][number], secret: WebhookSecret | undefined, signal: AbortSignal): Promise<{ status: number | null; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (webhook.signed && secret) Object.assign(headers, signWebhook(secret, webhook.body, { id: webhook.id }));
  try {
    const answer = await request(webhook.url, {
      method: 'POST',
      headers,
      body: webhook.body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(REPLAY_TIMEOUT_MS)]),
    });
    const text = (await answer.body.text()).slice(0, 200);
    return { status: answer.statusCode, text };
  } catch (error) {
    if (signal.aborted) throw error;
    return { status: null, text: (error as Error).message };
  }
}

/**
 * Plays one payment through (confirm, then charge or decline and its webhook), waits for its stock to
 * settle, replays the webhook, and says what the replay changed; null when nothing did.
 */
async function replayOne(
  context: CaseContext,
  gateway: CheckGateway,
  outcomeWanted: 'approve' | 'decline',
  details: Record<string, unknown>[],
): Promise<string | null> {
  const order = await context.knownOrder();
  await gateway.register(order, { outcome: outcomeWanted });
  const before = await context.hooks.readStock();
  const confirmed = await context.confirm(order);
  const sent = describeOrder(context.dialect, order.merchantUid, order.amount);
  if (!confirmed.decision.proceed) return `the confirm for ${sent} got ${describeAnswer(confirmed)}, so no webhook followed (wanted HTTP 200; see case 1)`;
  const timeline = await gateway.settled(order.merchantUid, context.signal);
  const webhook = timeline.webhooks.at(-1);
  const entry: Record<string, unknown> = { order: order.merchantUid, outcome: outcomeWanted, payment: timelineDetails(timeline) };
  details.push(entry);
  if (webhook === undefined) return `the gateway sent no webhook for ${sent} (${timeline.status}); nothing to replay`;
  if (webhook.state !== 'delivered') {
    return `the merchant did not answer the ${webhook.event} webhook for ${sent} with 2xx (${webhook.attempts.at(-1)?.message ?? 'no attempt'}); the gateway keeps retrying a webhook until it is`;
  }
  // A decline's unit comes back; wait for that before the replay, so only the replay's effect is measured.
  const settledStock = outcomeWanted === 'decline' ? (await waitForStock(context, before, context.setup.gateway!.settleMs)).stock : await context.hooks.readStock();
  const again = await replay(webhook, context.setup.secret, context.signal);
  const watched = await waitForChange(context, settledStock, REPLAY_WATCH_MS);
  Object.assign(entry, { webhook: webhook.event, stockBeforeReplay: settledStock, stockAfterReplay: watched, replayAnswer: again });
  if (watched !== settledStock) {
    return `replayed the ${webhook.event} webhook for ${sent} (same webhook-id and body); the stock went from ${settledStock} to ${watched}: the same webhook applied twice (a retry or a duplicate delivery would ${watched > settledStock ? 'give stock back that is not there' : 'take stock again'})`;
  }
  if (again.status === null || again.status < 200 || again.status >= 300) {
    const answer = again.status === null ? `no answer (${again.text})` : `HTTP ${again.status} ${quoteMerchantText(again.text)}`;
    return `replayed the ${webhook.event} webhook for ${sent}; it changed nothing but got ${answer}: a delivery the merchant has already seen must still be answered 2xx, or the gateway retries it for hours`;
  }
  return null;
}

async function waitForChange(context: CaseContext, from: number, budgetMs: number): Promise<number> {
  const started = performance.now();
  let stock = await context.hooks.readStock();
  while (stock === from && performance.now() - started < budgetMs) {
    await sleep(POLL_MS, undefined, { signal: context.signal });
    stock = await context.hooks.readStock();
  }
  return stock;
}

export const webhookReplay: ContractCase = {
  id: 14,
  name: 'webhook-replay',
  title: 'the same webhook delivered twice changes nothing the second time',
  doc:
    'With --gateway, the webhook hook and the stock probe. Plays a payment through to its webhook (V1 paid; V2 ' +
    'Transaction.Paid, and Transaction.Failed after a decline, whose unit comes back), then sends that webhook ' +
    'again exactly as the gateway did (same body, same webhook-id, signed afresh), as a retry after a lost answer ' +
    'or a duplicate delivery does. The contract wants the stock unchanged by the replay and the replay answered ' +
    '2xx: a merchant that releases stock twice sells units it does not have.',
  unmet: (setup) => {
    const gatewayReason = needsGateway(setup);
    if (gatewayReason !== null) return gatewayReason;
    const missing = [setup.hooks.webhook === undefined ? '`webhookUrl` (the notice URL)' : null, setup.hooks.stock === undefined ? '`stockUrl`' : null];
    const names = missing.filter((name): name is string => name !== null);
    return names.length === 0 ? null : `needs ${names.join(' and ')} to deliver a webhook twice and see what the second changed`;
  },
  async run(context) {
    const gateway = gatewayOf(context);
    await context.startingStock();
    const details: Record<string, unknown>[] = [];
    const plays: Array<'approve' | 'decline'> = isV2(context.dialect) ? ['approve', 'decline'] : ['approve'];
    for (const play of plays) {
      const problem = await replayOne(context, gateway, play, details);
      if (problem !== null) return outcome('failed', problem, { plays: details });
    }
    const replayed = details.map((entry) => entry.webhook).join(' and ');
    return outcome('passed', `replayed ${replayed}: the merchant answered 2xx and the stock did not move`, { plays: details });
  },
};
