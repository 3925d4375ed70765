import { badRequest } from './errors.js';

/**
 * Reads request fields the way the gateway accepts them: as JSON or as a form, where every value arrives as
 * a string. A wrong field is a 400 naming the field and what it must be.
 */
export type RequestFields = Record<string, unknown>;

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
    throw badRequest(`${name} must be a number of 0 or more`);
  }
  return number;
}

export function requiredAmount(fields: RequestFields, name: string): number {
  const value = optionalNumber(fields, name);
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
  throw badRequest(`${name} must be one of ${choices.join(', ')}, not "${value}"`);
}
