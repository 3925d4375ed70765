import { Pool } from 'undici';
import { boundedRequest } from '../http/bounded-request.js';
import { UsageError } from '../util/errors.js';
import { classifyNoAnswer } from '../fire/classify.js';
import { STOCK_ANSWER_FORM, parseStockAnswer } from '../util/stock-answer.js';
import type { SliceSpec } from './schedule.js';

/** Set-up calls are not timed and not judged; they only have to work, and fail loudly when they don't. */
const SETUP_TIMEOUT_MS = 10_000;
const ORDER_CONCURRENCY = 64;

/** Why a set-up call got no answer, in the words fire uses for the confirm call. */
function describe(error: unknown): string {
  const cause = classifyNoAnswer(error);
  return `${cause.error}: ${cause.message}`;
}

/** Aborting (Ctrl-C) rejects with the signal's reason, in any phase of the call; every other failure is a UsageError. */
export async function probeStock(url: string, hookHeaders: Record<string, string> = {}, signal?: AbortSignal): Promise<number> {
  let status: number;
  let text: string;
  try {
    ({ status, text } = await boundedRequest(url, { method: 'GET', headers: hookHeaders, timeoutMs: SETUP_TIMEOUT_MS, signal }));
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new UsageError(`\`stockUrl\`: GET ${url} failed (${describe(error)}); check that the merchant is up and the URL is right`);
  }
  const stock = status === 200 ? parseStockAnswer(text) : null;
  if (stock === null) {
    throw new UsageError(
      `\`stockUrl\`: GET ${url} answered ${status} ${JSON.stringify(text.slice(0, 80))}; it must answer 200 with ${STOCK_ANSWER_FORM}`,
    );
  }
  return stock;
}

export async function resetStock(url: string, stock: number, hookHeaders: Record<string, string> = {}, signal?: AbortSignal): Promise<void> {
  let status: number;
  try {
    ({ status } = await boundedRequest(url, {
      method: 'POST',
      headers: { ...hookHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ stock }),
      timeoutMs: SETUP_TIMEOUT_MS,
      signal,
    }));
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new UsageError(`\`resetUrl\`: POST ${url} failed (${describe(error)}); check that the merchant is up and the URL is right`);
  }
  if (status < 200 || status >= 300) {
    throw new UsageError(`\`resetUrl\`: POST ${url} {"stock": ${stock}} answered ${status}; it must accept the reset with a 2xx`);
  }
}

/**
 * Creates every buyer's order before the sale opens, as a real shop would have them from checkout:
 * POST {merchant_uid, amount, quantity: 1}, many at a time over a pool. Stops at the first failure, since a
 * missing order would only show up later as a puzzling refusal. An abort stops it taking new orders; the
 * run then reports every buyer as not sent.
 */
export async function createOrders(
  url: string,
  slice: SliceSpec,
  merchantUid: (globalBuyer: number) => string,
  amount: number,
  signal?: AbortSignal,
  hookHeaders: Record<string, string> = {},
  /** Called with the count of orders created so far, after each one. */
  onCreated?: (created: number) => void,
): Promise<number> {
  const target = new URL(url);
  let created = 0;
  const pool = new Pool(target.origin, { connections: ORDER_CONCURRENCY });
  let next = 0;
  let failure: UsageError | null = null;
  const createOne = async (buyer: number): Promise<void> => {
    const uid = merchantUid(buyer);
    let status: number;
    try {
      ({ status } = await boundedRequest(target, {
        method: 'POST',
        headers: { ...hookHeaders, 'content-type': 'application/json' },
        body: JSON.stringify({ merchant_uid: uid, amount, quantity: 1 }),
        timeoutMs: SETUP_TIMEOUT_MS,
        signal,
        dispatcher: pool,
      }));
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new UsageError(`\`orderUrl\`: POST ${url} for ${uid} failed (${describe(error)}); check that the merchant is up and the URL is right`);
    }
    if (status < 200 || status >= 300) {
      throw new UsageError(`\`orderUrl\`: POST ${url} for ${uid} answered ${status}; order creation must answer 2xx`);
    }
    onCreated?.(++created);
  };
  const lane = async (): Promise<void> => {
    while (failure === null && next < slice.count && !signal?.aborted) {
      const local = next++;
      try {
        await createOne(slice.offset + slice.stride * local);
      } catch (error) {
        if (signal?.aborted) return;
        failure ??= error instanceof UsageError ? error : new UsageError(`\`orderUrl\`: ${describe(error)}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(ORDER_CONCURRENCY, slice.count) }, lane));
  } finally {
    // destroy, not close: an order call still hanging on an aborted run must not hold the run up.
    await (signal?.aborted ? pool.destroy() : pool.close());
  }
  if (failure) throw failure;
  signal?.throwIfAborted();
  return next;
}
