/**
 * The merchant's stock probe (--stock-url, the scenario's hooks.stock) answers a bare number or
 * {"stock": n}; burst's set-up and check's cases both read it through here.
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
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
