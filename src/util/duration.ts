import { UsageError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses "500ms", "5s", "1.5s", "2m" into milliseconds. A bare number is milliseconds, as in autocannon's
 * and undici's timeout options. `what` names the option in the error, e.g. "--timeout".
 */
export function parseDuration(text: string | number, what: string): number {
  if (typeof text === 'number') {
    if (Number.isFinite(text) && text >= 0) return text;
    throw new UsageError(`${what}: ${text} is not a duration; use e.g. 500ms, 5s or 2m`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) throw new UsageError(`${what}: "${text}" is not a duration; use e.g. 500ms, 5s or 2m`);
  const value = Number(match[1]);
  const unit = match[2] ?? 'ms';
  return value * UNIT_MS[unit]!;
}

/** Human form of a millisecond figure for terminal output: 0.42 ms, 12.3 ms, 1.52 s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}
