import { badRequest } from './errors.js';

/**
 * Reads request fields the way the gateway accepts them: as JSON or as a form, where every value arrives as
 * a string. A wrong field is a 400 naming the field and what it must be.
 */
export type RequestFields = Record<string, unknown>;

/** A value as an error shows it: JSON (control characters escaped), cut short. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

export function optionalString(fields: RequestFields, name: string, maxLength?: number): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest(`${name} must be a string`);
  if (maxLength !== undefined && value.length > maxLength) {
    throw badRequest(`${name} is ${value.length} characters; the gateway stores at most ${maxLength}`);
  }
  return value;
}

export function requiredString(fields: RequestFields, name: string, maxLength?: number): string {
  const value = optionalString(fields, name, maxLength);
  if (value === undefined) throw badRequest(`${name} is required`);
  return value;
}

export function optionalNumber(fields: RequestFields, name: string): number | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) {
    throw badRequest(`${name} must be a number of 0 or more, not ${shown(value)}`);
  }
  return number;
}

/** The payment methods the V1 API knows (PaymentAnnotation.pay_method in the gateway's OpenAPI file). */
export const PAY_METHODS = [
  'samsung',
  'card',
  'trans',
  'vbank',
  'phone',
  'cultureland',
  'culturegift',
  'smartculture',
  'booknlife',
  'point',
  'ssgpay',
  'lpay',
  'payco',
  'kakaopay',
  'tosspay',
  'naverpay',
  'applepay',
  'paypal',
] as const;
export type PayMethod = (typeof PAY_METHODS)[number];

/** The currency of a payment that names none, as the V1 API documents it. */
export const DEFAULT_CURRENCY = 'KRW';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
const minorUnitsByCurrency = new Map<string, number>();

/** Whether the gateway takes payments in this ISO 4217 code (Node's ICU list: KRW, USD, JPY, ...). */
export function isCurrency(code: string): boolean {
  return CURRENCIES.has(code);
}

/** How many decimals an amount in this currency may have: KRW and JPY 0, USD 2, BHD 3. */
export function minorUnits(currency: string): number {
  let digits = minorUnitsByCurrency.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 0;
    minorUnitsByCurrency.set(currency, digits);
  }
  return digits;
}

export function optionalCurrency(fields: RequestFields, name: string): string | undefined {
  const currency = optionalString(fields, name);
  if (currency !== undefined && !isCurrency(currency)) {
    throw badRequest(`${name} ${shown(currency)} is not an ISO 4217 currency code such as KRW, USD or JPY`);
  }
  return currency;
}

export function optionalPayMethod(fields: RequestFields, name: string): PayMethod | undefined {
  const value = optionalString(fields, name);
  if (value === undefined) return undefined;
  if ((PAY_METHODS as readonly string[]).includes(value)) return value as PayMethod;
  throw badRequest(`${name} ${shown(value)} is not a payment method of the V1 API; use one of ${PAY_METHODS.join(', ')}`);
}

/**
 * Why an amount cannot be paid in a currency, or null when it can: it must be a finite number whose
 * decimals the currency has (a KRW amount is whole, a USD one has at most cents). The text names the field.
 */
export function amountProblem(amount: number, currency: string, name: string): string | null {
  if (!Number.isFinite(amount)) return `${name} must be a number, not ${String(amount)}`;
  const digits = minorUnits(currency);
  const scaled = amount * 10 ** digits;
  // A float's error, not the buyer's decimals: 19.99 * 100 is 1998.9999999999998.
  if (Math.abs(scaled - Math.round(scaled)) > 1e-6 * Math.max(1, Math.abs(scaled))) {
    return digits === 0
      ? `${name} ${amount} is not a whole number: ${currency} has no minor unit (give a whole amount, or the currency it is in)`
      : `${name} ${amount} has more than ${digits} decimal${digits === 1 ? '' : 's'}, the most ${currency} allows`;
  }
  return null;
}

/** An amount of 0 or more (a cancel's amount, a checksum) in a currency, or undefined when not given. */
export function optionalAmount(fields: RequestFields, name: string, currency: string): number | undefined {
  const value = optionalNumber(fields, name);
  if (value === undefined) return undefined;
  const problem = amountProblem(value, currency, name);
  if (problem !== null) throw badRequest(problem);
  return value;
}

/** A payment's or preparation's amount: above 0, with the decimals its currency has. */
export function requiredAmount(fields: RequestFields, name: string, currency = DEFAULT_CURRENCY): number {
  const value = optionalAmount(fields, name, currency);
  if (value === undefined || value === 0) throw badRequest(`${name} is required and must be more than 0`);
  return value;
}

export function optionalBoolean(fields: RequestFields, name: string): boolean | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw badRequest(`${name} must be true or false`);
}

export function optionalChoice<T extends string>(fields: RequestFields, name: string, choices: readonly T[]): T | undefined {
  const value = optionalString(fields, name);
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw badRequest(`${name} must be one of ${choices.join(', ')}, not ${shown(value)}`);
}
