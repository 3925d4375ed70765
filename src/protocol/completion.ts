import { UsageError } from '../util/errors.js';
import { readBodyField } from './decision.js';

/**
 * Manual confirm's request: what a buyer's front end posts to the merchant's own completion endpoint once
 * `PortOne.requestPayment` has returned `{paymentId, paymentToken, txId}`. The endpoint is the merchant's API,
 * so the body's shape is the user's to give as a template; by default it is what PortOne's guide sends.
 */

export const COMPLETION_PLACEHOLDERS = ['paymentId', 'paymentToken', 'txId', 'amount', 'n'] as const;
export type CompletionPlaceholder = (typeof COMPLETION_PLACEHOLDERS)[number];

export const DEFAULT_COMPLETION_TEMPLATE = '{"paymentId":"{paymentId}","paymentToken":"{paymentToken}","txId":"{txId}"}';

/** One buyer's values: what requestPayment returned, the order's amount and the buyer's number (1-based). */
export interface CompletionValues {
  paymentId: string;
  paymentToken: string;
  txId: string;
  amount: number;
  n: number;
}

type Part = string | { name: CompletionPlaceholder; inString: boolean };

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/y;

function isPlaceholder(name: string): name is CompletionPlaceholder {
  return (COMPLETION_PLACEHOLDERS as readonly string[]).includes(name);
}

/** Values that need every kind of escaping, so a template that survives them survives any real token. */
const AWKWARD_VALUES: CompletionValues = {
  paymentId: 'order-"1"\\',
  paymentToken: 'tok\u2028en"\n\\',
  txId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  amount: 1000,
  n: 1,
};

/**
 * A `--body` template compiled once: literal text and placeholders, each knowing whether it sits inside a
 * JSON string. Inside one a value is JSON-escaped in place; outside, a number is written as a number and a
 * string as a JSON string, so every substitution gives valid JSON. Checked when compiled: an unknown
 * placeholder, or a template that is not JSON once filled in, is a UsageError naming the fix.
 */
export class CompletionTemplate {
  readonly text: string;
  readonly #parts: Part[];
  /** The placeholders the template uses. */
  readonly uses: ReadonlySet<CompletionPlaceholder>;

  constructor(text: string = DEFAULT_COMPLETION_TEMPLATE, what = '`body`') {
    this.text = text;
    const parts: Part[] = [];
    const uses = new Set<CompletionPlaceholder>();
    let literal = '';
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const char = text[i]!;
      if (char === '{') {
        PLACEHOLDER.lastIndex = i;
        const match = PLACEHOLDER.exec(text);
        if (match) {
          const name = match[1]!;
          if (!isPlaceholder(name)) {
            throw new UsageError(
              `${what}: {${name}} is not a placeholder; use ${COMPLETION_PLACEHOLDERS.map((known) => `{${known}}`).join(', ')}`,
            );
          }
          if (literal !== '') parts.push(literal);
          literal = '';
          parts.push({ name, inString });
          uses.add(name);
          i += match[0].length - 1;
          continue;
        }
      }
      literal += char;
      if (inString && char === '\\') {
        // The escaped character is copied as it is and cannot end the string.
        if (i + 1 < text.length) literal += text[++i]!;
      } else if (char === '"') {
        inString = !inString;
      }
    }
    if (literal !== '') parts.push(literal);
    this.#parts = parts;
    this.uses = uses;
    try {
      JSON.parse(this.render(AWKWARD_VALUES));
    } catch (error) {
      throw new UsageError(
        `${what}: the template is not JSON once its placeholders are filled in (${(error as Error).message}); ` +
          `write it as JSON with placeholders, e.g. '${DEFAULT_COMPLETION_TEMPLATE}'`,
      );
    }
  }

  render(values: CompletionValues): string {
    let body = '';
    for (const part of this.#parts) {
      if (typeof part === 'string') {
        body += part;
        continue;
      }
      const value = values[part.name];
      if (part.inString) body += typeof value === 'number' ? String(value) : JSON.stringify(value).slice(1, -1);
      else body += typeof value === 'number' ? String(value) : JSON.stringify(value);
    }
    return body;
  }
}

/**
 * Why a completion endpoint said no, from the fields merchants' own APIs use for it (the first present of
 * errorMessage, reason, message), or null. It is the merchant's API, so no one field is the rule.
 */
export function completionRefusalDetail(body: string): string | null {
  return readBodyField(body, 'errorMessage') ?? readBodyField(body, 'reason') ?? readBodyField(body, 'message');
}

/** The longest token the table keeps: one length byte per entry. */
export const MAX_TOKEN_LENGTH = 255;

/** A token table as plain data, to hand to a worker thread (a SharedArrayBuffer is shared, not copied). */
export interface TokenTableData {
  count: number;
  width: number;
  bytes: Uint8Array;
  lengths: Uint8Array;
}

/**
 * Every buyer's paymentToken in one fixed-width block of ASCII (width = the longest token seen, plus one
 * length byte each): a million buyers with 40-character tokens cost 41 MB and no objects. The paymentId and
 * txId are not kept: a run derives them from the buyer number, as the gateway was told them.
 */
export class TokenTable {
  #data: TokenTableData;

  constructor(data: number | TokenTableData, width = 0) {
    this.#data = typeof data === 'number' ? TokenTable.#allocate(data, width) : data;
  }

  static #allocate(count: number, width: number): TokenTableData {
    const shared = (bytes: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(Math.max(1, bytes)));
    return { count, width, bytes: shared(count * width), lengths: shared(count) };
  }

  get count(): number {
    return this.#data.count;
  }

  get data(): TokenTableData {
    return this.#data;
  }

  /** Stores entry `index`'s token; a token longer than any before widens the table (copied once). */
  set(index: number, token: string): void {
    if (index < 0 || index >= this.#data.count) throw new RangeError(`token ${index} is outside the table of ${this.#data.count}`);
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
      throw new Error(`a paymentToken must be 1 to ${MAX_TOKEN_LENGTH} printable ASCII characters, not ${JSON.stringify(token.slice(0, 40))}`);
    }
    if (token.length > this.#data.width) this.#widen(token.length);
    const { bytes, lengths, width } = this.#data;
    const at = index * width;
    for (let i = 0; i < token.length; i++) bytes[at + i] = token.charCodeAt(i);
    lengths[index] = token.length;
  }

  /** The token of entry `index`, or '' when none was stored. */
  get(index: number): string {
    const { bytes, lengths, width } = this.#data;
    const length = lengths[index] ?? 0;
    if (length === 0) return '';
    const at = index * width;
    return Buffer.from(bytes.buffer, bytes.byteOffset + at, length).toString('latin1');
  }

  #widen(width: number): void {
    const old = this.#data;
    const next = TokenTable.#allocate(old.count, width);
    for (let index = 0; index < old.count; index++) {
      next.bytes.set(old.bytes.subarray(index * old.width, index * old.width + old.lengths[index]!), index * width);
    }
    next.lengths.set(old.lengths);
    this.#data = next;
  }
}
