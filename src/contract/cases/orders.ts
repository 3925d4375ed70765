import { isV2, refusalDetail, saysUnknownOrder, UNKNOWN_ORDER_FIX } from '../../protocol/index.js';
import { outcome, type CaseContext, type ContractCase } from '../context.js';
import { describeAnswer, describeOrder, exchangeDetails } from '../describe.js';
import type { TestOrder } from '../orders.js';

/** How the case came by its order, for messages: the merchant was told, or is trusted to take any id. */
function orderSource(context: CaseContext): string {
  return context.setup.hooks.order === undefined ? 'an open order (no order hook)' : 'created through the order hook';
}

/** A stock change the case did not expect, said in one clause; null when the stock held or was not probed. */
function stockMoved(before: number | null, after: number | null): string | null {
  if (before === null || after === null || before === after) return null;
  return `the stock went from ${before} to ${after}`;
}

export const confirmsKnownOrder: ContractCase = {
  id: 1,
  name: 'confirms-known-order',
  title: 'a known order in stock is confirmed with HTTP 200',
  doc:
    'Restocks through the reset hook when there is one, creates an order through the order hook (without one, ' +
    'the merchant is trusted to take any order id, as an open-orders shop does) and sends its confirm exactly ' +
    'as the gateway does. The contract wants HTTP 200: it is the only answer the gateway reads as "go on", so ' +
    '201, 204 or a redirect fail the payment.',
  unmet: () => null,
  async run(context) {
    const before = await context.startingStock();
    const order = await context.knownOrder();
    const result = await context.confirm(order);
    const details = { order: order.merchantUid, stockBefore: before, stockAfter: await context.stock(), ...exchangeDetails(result) };
    const sent = describeOrder(context.dialect, order.merchantUid, order.amount);
    if (result.decision.proceed) return outcome('passed', `confirmed ${sent} with HTTP 200`, details);
    const unknown = result.answer.kind === 'http' && saysUnknownOrder(result.answer.status, refusalDetail(context.dialect, result.answer.body));
    const hint = !unknown
      ? ''
      : context.setup.hooks.order === undefined
        ? ` The merchant does not know the order: ${UNKNOWN_ORDER_FIX}.`
        : ' The order hook answered, yet the merchant does not know the order: check that the order hook and the confirm URL reach the same shop.';
    return outcome(
      'failed',
      `sent a confirm for ${sent} (${orderSource(context)}) while in stock; got ${describeAnswer(result)}; ` +
        `the contract wants HTTP 200 (${result.decision.explanation}).${hint}`,
      details,
    );
  },
};

export const refusesSoldOut: ContractCase = {
  id: 2,
  name: 'refuses-sold-out',
  title: 'a sold-out order is refused, with a reason the buyer can read',
  doc:
    'Sells the product out (the reset hook sets the stock to 0; without one, orders one unit more than the ' +
    'stock probe reports) and confirms an order for it. The contract wants any answer but 200, carrying the ' +
    'reason in the field the dialect reads: V1 {"reason": ...} becomes the payment\'s fail_reason, V2 ' +
    '{"errorMessage": ...} is returned to the buyer\'s SDK. Without it the buyer sees "알 수 없음" (unknown): ' +
    'a warning, or a failure with --strict.',
  unmet: (setup) =>
    setup.hooks.reset !== undefined || (setup.hooks.order !== undefined && setup.hooks.stock !== undefined)
      ? null
      : 'needs `resetUrl` to sell the product out (or `orderUrl` with `stockUrl` to order more than the stock)',
  async run(context) {
    let order: TestOrder;
    let soldOut: string;
    if (context.setup.hooks.reset !== undefined) {
      await context.restock(0);
      order = await context.knownOrder();
      soldOut = 'after the reset hook set the stock to 0';
    } else {
      const stock = await context.hooks.readStock();
      order = await context.knownOrder(stock + 1);
      soldOut = `for ${order.quantity} units while the stock probe said ${stock}`;
    }
    const result = await context.confirm(order);
    const details = { order: order.merchantUid, quantity: order.quantity, ...exchangeDetails(result) };
    const sent = `sent a confirm for ${describeOrder(context.dialect, order.merchantUid, order.amount)} ${soldOut}`;
    if (result.decision.proceed) {
      return outcome(
        'failed',
        `${sent}; got HTTP 200, so the gateway charges the buyer for an item that is gone; the contract wants a refusal (any status but 200) with a reason`,
        details,
      );
    }
    const field = isV2(context.dialect) ? 'errorMessage' : 'reason';
    const buyerSees = result.decision.failReason === null ? 'no errorMessage at all' : `"${result.decision.failReason}"`;
    if (result.answer.kind === 'no-answer') {
      return outcome(
        'warning',
        `${sent}; got ${describeAnswer(result)}, which fails the payment only after the buyer waited, and the buyer sees ${buyerSees}; answer at once with a non-200 status and a "${field}"`,
        details,
      );
    }
    const detail = refusalDetail(context.dialect, result.answer.body);
    if (detail === null) {
      return outcome(
        'warning',
        `${sent}; got ${describeAnswer(result)}: refused, but without a "${field}" in a JSON body, so the buyer sees ${buyerSees}; add {"${field}": "..."} to the refusal`,
        details,
      );
    }
    return outcome('passed', `refused with HTTP ${result.answer.status}; the buyer sees ${buyerSees}`, details);
  },
};

export const refusesUnknownOrder: ContractCase = {
  id: 3,
  name: 'refuses-unknown-order',
  title: 'a confirm for an order the merchant never issued is refused',
  doc:
    'Confirms an order id the merchant was never told about, while the product is in stock. The contract wants ' +
    'any answer but 200, and no stock taken: a merchant that confirms ids it never issued lets anyone buy at ' +
    'any price. Needs the order hook, since an open-orders merchant knows every id by design.',
  unmet: (setup) =>
    setup.hooks.order === undefined
      ? 'needs `orderUrl`: without it the merchant is treated as open-orders, which knows every order id'
      : null,
  async run(context) {
    const before = await context.startingStock();
    const order = await context.knownOrder();
    const unknown: TestOrder = { ...order, merchantUid: context.newOrderId() };
    const result = await context.confirm(unknown);
    const after = await context.stock();
    const details = { order: unknown.merchantUid, stockBefore: before, stockAfter: after, ...exchangeDetails(result) };
    const sent = `sent a confirm for ${describeOrder(context.dialect, unknown.merchantUid, unknown.amount)}, never created through the order hook`;
    if (result.decision.proceed) {
      return outcome('failed', `${sent}; got HTTP 200; the contract wants a refusal (any status but 200) for an order the merchant never issued`, details);
    }
    const moved = stockMoved(before, after);
    if (moved !== null) {
      return outcome('failed', `${sent}; it was refused (${describeAnswer(result)}) but ${moved}; an unknown order must not touch stock`, details);
    }
    return outcome('passed', `refused an unknown order with ${describeAnswer(result)}`, details);
  },
};

export const refusesWrongAmount: ContractCase = {
  id: 4,
  name: 'refuses-wrong-amount',
  title: 'a confirm whose amount differs from the order is refused',
  doc:
    'Creates an order and confirms it with the amount one won lower, then another with one won higher. The ' +
    'contract wants both refused and no stock taken: a merchant that does not compare the amount lets a ' +
    'tampered checkout pay less. Runs only where the merchant can know the amount: through the order hook, or ' +
    'an open-orders merchant with a fixed price given as --price; never with v1-status, which sends no amount.',
  unmet: (setup) => {
    if (setup.dialect === 'v1-status') return 'the v1-status dialect sends no amount, so there is no amount to get wrong';
    if (setup.hooks.order === undefined && !setup.product.priceKnown) {
      return 'needs `orderUrl`, or `product.price` for an open-orders merchant with a fixed price, so the merchant knows the right amount';
    }
    return null;
  },
  async run(context) {
    const before = await context.startingStock();
    const probes: Record<string, unknown>[] = [];
    const wrongs: string[] = [];
    for (const delta of [-1, 1]) {
      const order = await context.knownOrder();
      const sentAmount = order.amount + delta;
      const result = await context.confirm({ ...order, amount: sentAmount });
      probes.push({ order: order.merchantUid, expectedAmount: order.amount, sentAmount, ...exchangeDetails(result) });
      if (result.decision.proceed) {
        wrongs.push(`sent amount ${sentAmount} for ${describeOrder(context.dialect, order.merchantUid)} whose amount is ${order.amount} and got HTTP 200`);
      }
    }
    const after = await context.stock();
    const details = { stockBefore: before, stockAfter: after, probes };
    if (wrongs.length > 0) {
      return outcome('failed', `${wrongs.join('; ')}; the contract wants a refusal (any status but 200) when the amount differs from the order`, details);
    }
    const moved = stockMoved(before, after);
    if (moved !== null) return outcome('failed', `both wrong amounts were refused, but ${moved}; a refused confirm must not take stock`, details);
    return outcome('passed', 'refused the amount one won lower and one won higher than the order', details);
  },
};

export const idempotentRepeat: ContractCase = {
  id: 5,
  name: 'idempotent-repeat',
  title: 'a repeated confirm gives the same answer and does not take stock twice',
  doc:
    'Confirms an order, then sends the same confirm again as a new message (V2: a new webhook-id), reading the ' +
    'stock after each. The contract wants the repeat answered like the first (200 both times) and the stock ' +
    'taken once: gateways, proxies and buyers double-clicking do repeat calls. Needs the stock probe.',
  unmet: (setup) => (setup.hooks.stock === undefined ? 'needs `stockUrl` to see whether the repeat took stock a second time' : null),
  async run(context) {
    const before = await context.startingStock();
    const order = await context.knownOrder();
    // A gateway repeats a confirm before it charges, never after: its payment stays ready until the repeat.
    const first = await context.confirm(order, {}, { handOver: false });
    const afterFirst = await context.stock();
    const sent = describeOrder(context.dialect, order.merchantUid, order.amount);
    if (!first.decision.proceed) {
      return outcome(
        'failed',
        `the first confirm for ${sent} got ${describeAnswer(first)}, so a repeat cannot be judged; the contract wants HTTP 200 for it (see case 1)`,
        { order: order.merchantUid, first: exchangeDetails(first) },
      );
    }
    const repeat = await context.confirm(order);
    const afterRepeat = await context.stock();
    const details = {
      order: order.merchantUid,
      stockBefore: before,
      stockAfterFirst: afterFirst,
      stockAfterRepeat: afterRepeat,
      first: exchangeDetails(first),
      repeat: exchangeDetails(repeat),
    };
    if (!repeat.decision.proceed) {
      return outcome('failed', `confirmed ${sent} with HTTP 200, but the repeat got ${describeAnswer(repeat)}; the contract wants the same answer (HTTP 200) again`, details);
    }
    const moved = stockMoved(afterFirst, afterRepeat);
    if (moved !== null) {
      return outcome('failed', `the repeated confirm for ${sent} got HTTP 200 again, but ${moved}: the order took stock twice; the contract wants it taken once`, details);
    }
    return outcome('passed', `answered the repeat with HTTP 200 again and kept the stock at ${afterRepeat}`, details);
  },
};
