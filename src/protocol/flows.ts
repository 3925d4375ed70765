import { UsageError } from '../util/errors.js';

/**
 * How a sale's last stock check reaches the merchant. In the Confirm Process the gateway asks the merchant's
 * confirm URL and the merchant answers; in manual confirm (PortOne V2's recommended successor) the buyer's
 * front end posts the paymentToken to the merchant's own completion endpoint and the merchant calls the
 * gateway's `POST /payments/{paymentId}/confirm` itself.
 */
export const FLOWS = ['confirm-process', 'manual-confirm'] as const;
export type Flow = (typeof FLOWS)[number];
export const DEFAULT_FLOW: Flow = 'confirm-process';

export function isFlow(text: string): text is Flow {
  return (FLOWS as readonly string[]).includes(text);
}

/** `what` is how a refusal names the text: the option (quoted, so the CLI can say its flag) or a scenario field. */
export function parseFlow(text: string, what = '`flow`'): Flow {
  if (isFlow(text)) return text;
  throw new UsageError(`${what}: "${text}" is not a flow; use ${FLOWS.join(' or ')}`);
}

/**
 * Which of the merchant's HTTP answers tell the buyer "paid". The completion endpoint is the merchant's own
 * API, so its success answer is the merchant's choice: any 2xx by default, or a list of statuses and ranges.
 */
export interface SuccessStatuses {
  /** As the user wrote it (normalized), for reports: "2xx", "200", "200,201", "200-204". */
  text: string;
  /** Inclusive [low, high] pairs, flattened: [200, 299] for 2xx. Plain numbers, so a plan can go to a worker thread. */
  ranges: number[];
}

export const DEFAULT_SUCCESS_STATUSES: SuccessStatuses = { text: '2xx', ranges: [200, 299] };

/** "2xx", "200", "200,201", "200-204", "2xx,302": each part a status, a range or a class. */
export function parseSuccessStatuses(text: string, what = '`successStatus`'): SuccessStatuses {
  const parts = text.split(',').map((part) => part.trim().toLowerCase());
  const ranges: number[] = [];
  const fix = `give statuses, ranges or classes such as 2xx, 200, 200,201 or 200-204`;
  for (const part of parts) {
    let low: number;
    let high: number;
    const klass = /^([1-5])xx$/.exec(part);
    const range = /^(\d{3})\s*-\s*(\d{3})$/.exec(part);
    if (klass) {
      low = Number(klass[1]) * 100;
      high = low + 99;
    } else if (range) {
      low = Number(range[1]);
      high = Number(range[2]);
    } else if (/^\d{3}$/.test(part)) {
      low = high = Number(part);
    } else {
      throw new UsageError(`${what}: "${text}" is not a set of HTTP statuses; ${fix}`);
    }
    if (low < 100 || high > 599 || low > high) {
      throw new UsageError(`${what}: "${part}" is not a range of HTTP statuses (100 to 599, low to high); ${fix}`);
    }
    ranges.push(low, high);
  }
  return { text: parts.join(','), ranges };
}

/** A library option as given: text to parse, statuses already parsed, or nothing for the default (any 2xx). */
export function successStatusesOf(option: string | SuccessStatuses | undefined): SuccessStatuses {
  if (option === undefined) return DEFAULT_SUCCESS_STATUSES;
  return typeof option === 'string' ? parseSuccessStatuses(option) : option;
}

export function isSuccessStatus(statuses: SuccessStatuses, status: number): boolean {
  const { ranges } = statuses;
  for (let i = 0; i < ranges.length; i += 2) if (status >= ranges[i]! && status <= ranges[i + 1]!) return true;
  return false;
}
