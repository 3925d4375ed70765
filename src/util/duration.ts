import { UsageError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The units a duration may carry; the scenario schema's duration pattern spells the same list. */
export const DURATION_UNITS = Object.keys(UNIT_MS);

/**
 * What to write instead of a bare number. A small figure was most likely meant as seconds ("5"), a large one
 * as milliseconds ("1500"); both spellings of the likely meaning are offered.
 */
function unitHint(value: number): string {
  return value >= 100 ? `${value}ms or ${value / 1000}s` : `${value}s or ${value * 1000}ms`;
}

/**
 * Why a value is not a duration, or null when it is one. A bare number is refused: "5" silently meaning 5 ms
 * made every confirm time out. Zero needs no unit, as it is the same in all of them.
 */
export function durationProblem(value: unknown): string | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value === 0 ? null : `${value} has no unit; write ${unitHint(value)}`;
  }
  if (typeof value !== 'string') return `${JSON.stringify(value)} is not a duration; use e.g. 500ms, 5s or 2m`;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) === 0 ? null : `"${value}" has no unit; write ${unitHint(Number(text))}`;
  if (/^\d+(?:\.\d+)?\s*(ms|s|m|h)$/.test(text)) return null;
  return `"${value}" is not a duration; use e.g. 500ms, 5s or 2m`;
}

/**
 * Parses "500ms", "5s", "1.5s", "2m" into milliseconds; "0" needs no unit. `what` names the option or field
 * in the error, e.g. "--timeout" or "scenario.yaml: /target/timeout".
 */
export function parseDuration(text: string | number, what: string): number {
  const problem = durationProblem(text);
  if (problem !== null) throw new UsageError(`${what}: ${problem}`);
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(String(text))!;
  return Number(match[1]) * UNIT_MS[match[2] ?? 'ms']!;
}

/** Human form of a millisecond figure for terminal output: 0.42 ms, 12.3 ms, 1.52 s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}
