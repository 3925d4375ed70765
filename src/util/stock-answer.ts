/** What a stock probe must answer, for the messages that refuse anything else. */
export const STOCK_ANSWER_FORM = 'a number or {"stock": n}, a whole number of 0 or more';

/**
 * The merchant's stock probe (--stock-url, the scenario's hooks.stock) answers a bare number or
 * {"stock": n}; burst's set-up and check's cases both read it through here. A count of items is a whole
 * number of 0 or more: `-5` or `2.5` would make every verdict that compares stock nonsense, so they are refused.
 */
export function parseStockAnswer(text: string): number | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    value = (value as Record<string, unknown>).stock;
  }
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}
