/**
 * Whether a refusal says the merchant does not know the order at all: a 404, or a reason such as "unknown
 * order", "order not found", "존재하지 않는 주문". When nearly every answer says so, the merchant was never told
 * about the orders (no order hook), which is a set-up mistake, not a stock or refusal problem.
 */
export function saysUnknownOrder(status: number, detail: string | null): boolean {
  if (status === 404) return true;
  return detail !== null && UNKNOWN_ORDER_TEXT.test(detail);
}

const UNKNOWN_ORDER_TEXT = /\b(unknown|no such|not found|does ?n[o']t exist|not exist)\b|존재하지 않|찾을 수 없|없는 주문/i;

/** The fix, in one place, for every message that finds the orders unknown. */
export const UNKNOWN_ORDER_FIX =
  'give the order hook (--order-url) so each order is created before its confirm, or let the merchant take any order id (the sample: confirm-sim merchant --open-orders)';

/**
 * A refusal reason with the ids in it replaced by <id>, so "unknown order order-x-000001" and "... -000002"
 * count as one reason instead of one per buyer. An id is a token of 8 or more characters with a digit in it.
 */
export function reasonPattern(detail: string): string {
  return detail.replace(/[A-Za-z0-9_:.-]{8,}/g, (token) => (/\d/.test(token) ? '<id>' : token));
}
