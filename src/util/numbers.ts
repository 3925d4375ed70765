import { UsageError } from '../util/errors.js';

/**
 * Checks a number the user gave (a flag's text turned into a number, or a library option). `what` names the
 * flag or option in the one-line error.
 */
export function requireWholeNumber(value: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
  throw new UsageError(`${what}: ${String(value)} is not a whole number ${range}`);
}

export function requireMilliseconds(value: number, what: string): number {
  if (Number.isFinite(value) && value >= 0) return value;
  throw new UsageError(`${what}: ${String(value)} is not a duration; give milliseconds, 0 or more`);
}

/** Turns a flag's text into a whole number; "", "1e3" and "12abc" are refused rather than guessed at. */
export function parseWholeNumber(text: string, what: string, min: number, max?: number): number {
  if (!/^\s*-?\d+\s*$/.test(text)) {
    throw new UsageError(`${what}: "${text}" is not a whole number; give digits only`);
  }
  return requireWholeNumber(Number(text), what, min, max);
}

export function parsePositiveNumber(text: string, flag: string): number {
  const value = /^\s*\d+(?:\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag}: "${text}" is not a positive number`);
  }
  return value;
}

/** A fraction 0..1, also accepted as a percentage ("5%"). */
export function parseFraction(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const value = match ? Number(match[1]) / (match[2] === '%' ? 100 : 1) : Number.NaN;
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(`${flag}: "${text}" is not a fraction between 0 and 1 (e.g. 0.05 or 5%)`);
  }
  return value;
}

/**
 * A factor above 0 and at most 1, as a decimal ("0.0001") or a ratio ("1/10000"), which is how a compressed
 * schedule is easiest to say.
 */
export function parseFactor(text: string, flag: string, example: string): number {
  const ratio = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  const decimal = /^\s*\d+(?:\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  const value = ratio ? Number(ratio[1]) / Number(ratio[2]) : decimal;
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new UsageError(`${flag}: "${text}" is not a factor above 0 and up to 1; give e.g. ${example}`);
  }
  return value;
}
