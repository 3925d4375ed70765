import type { Flaw } from './flaws.js';
import { LookupError } from './lookup/v1.js';
import { loadPortOnePayment, type V2Lookup } from './lookup/v2.js';
import type { Shop } from './shop.js';

/**
 * The sample merchant's completion endpoint for PortOne V2 manual confirm, `POST /payment/complete`.
 *
 * The buyer's `PortOne.requestPayment` returned `{paymentId, paymentToken, txId}` instead of charging; the
 * merchant's front end posts that here, and this server decides the sale: it checks the order and takes its
 * stock in one synchronous step, then charges the buyer with PortOne's SDK (`PaymentClient.confirmPayment`,
 * sending its own order's amount as `totalAmount`, so a tampered amount cannot be charged), and answers:
 * 200 `{status: "paid"}`; 409 sold out (nothing confirmed); 404 unknown order; 402 when the PG declined (the
 * stock comes back); 400/409 when the gateway refused the token or the figures (the stock comes back).
 * A repeated completion gets the first one's answer and never confirms or takes stock twice.
 */

export const MANUAL_CONFIRM_PATH = '/payment/complete';


/** How long the merchant waits for the gateway's confirm answer before it looks the payment up instead. */
export const DEFAULT_CONFIRM_CALL_TIMEOUT_MS = 10_000;

export interface CompletionAnswer {
  status: number;
  body: Record<string, unknown>;
  /** For the merchant's events and log. */
  paymentId: string | null;
  reason: string | null;
}

interface Completion {
  paymentId: string;
  paymentToken: string;
  txId: string | undefined;
}

type ConfirmResult =
  | { kind: 'paid' }
  | { kind: 'already-paid' }
  | { kind: 'declined'; reason: string }
  | { kind: 'refused'; status: number; type: string; reason: string }
  | { kind: 'unknown'; reason: string };

const MAX_ID_LENGTH = 256;
const MAX_TOKEN_LENGTH = 1024;

function paid(paymentId: string): CompletionAnswer {
  return { status: 200, body: { status: 'paid', paymentId }, paymentId, reason: null };
}

function refused(status: number, paymentId: string | null, reason: string, extra: Record<string, unknown> = {}): CompletionAnswer {
  return { status, body: { status: 'failed', ...(paymentId === null ? {} : { paymentId }), reason, ...extra }, paymentId, reason };
}

/** Reads `{paymentId, paymentToken, txId?}` strictly; a string is the 400's reason. */
export function parseCompletion(body: unknown): Completion | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'the body must be a JSON object {paymentId, paymentToken, txId}';
  const { paymentId, paymentToken, txId } = body as Record<string, unknown>;
  if (typeof paymentId !== 'string' || paymentId.length === 0 || paymentId.length > MAX_ID_LENGTH) {
    return `paymentId must be a string of 1 to ${MAX_ID_LENGTH} characters`;
  }
  if (typeof paymentToken !== 'string' || paymentToken.length === 0 || paymentToken.length > MAX_TOKEN_LENGTH) {
    return 'paymentToken must be the non-empty string PortOne.requestPayment returned';
  }
  if (txId !== undefined && (typeof txId !== 'string' || txId.length === 0)) return 'txId must be a non-empty string when given';
  return { paymentId, paymentToken, txId: txId as string | undefined };
}

export class ManualConfirmCompletions {
  readonly #shop: Shop;
  readonly #lookup: V2Lookup;
  readonly #flaw: Flaw | undefined;
  readonly #timeoutMs: number;
  /**
   * The answer of every completion that charged (or is charging) its payment, by paymentId: a repeat waits for
   * the first and gets its answer. Failed completions are forgotten, so a buyer may try again.
   */
  #completions = new Map<string, Promise<CompletionAnswer>>();

  constructor(shop: Shop, lookup: V2Lookup, flaw: Flaw | undefined, timeoutMs = DEFAULT_CONFIRM_CALL_TIMEOUT_MS) {
    this.#shop = shop;
    this.#lookup = lookup;
    this.#flaw = flaw;
    this.#timeoutMs = timeoutMs;
  }

  /** POST /reset: the orders are gone, and with them what was answered for them. */
  reset(): void {
    this.#completions = new Map();
  }

  complete(completion: Completion): Promise<CompletionAnswer> {
    const { paymentId } = completion;
    const amount = this.#shop.expectedAmount(paymentId);
    if (amount === null) return Promise.resolve(refused(404, paymentId, `unknown order ${paymentId}`));
    switch (this.#flaw) {
      case 'confirm-first':
        return this.#confirmFirst(completion, amount);
      case 'race':
        return this.#racy(completion, amount);
      case 'double-confirm':
        return this.#withoutMemory(completion, amount);
      default: {
        const earlier = this.#completions.get(paymentId);
        if (earlier) return earlier;
        const answer = this.#correct(completion, amount);
        this.#completions.set(paymentId, answer);
        answer.then((result) => {
          if (result.status !== 200 && this.#completions.get(paymentId) === answer) this.#completions.delete(paymentId);
        }, () => this.#completions.delete(paymentId));
        return answer;
      }
    }
  }

  /** Stock first, atomically; then the charge; the stock comes back when nothing was charged. */
  async #correct(completion: Completion, amount: number): Promise<CompletionAnswer> {
    const { paymentId } = completion;
    const taken = await this.#shop.confirm(paymentId, null);
    if (taken.status !== 200) return refused(taken.status, paymentId, taken.reason ?? 'refused');
    return this.#settle(completion, await this.#confirm(completion, amount));
  }

  /** What the charge's result does to the held stock, and what the buyer is told. */
  #settle(completion: Completion, result: ConfirmResult): CompletionAnswer {
    const { paymentId } = completion;
    switch (result.kind) {
      case 'paid':
      case 'already-paid':
        this.#shop.applyPaymentStatus(paymentId, 'paid');
        return paid(paymentId);
      case 'declined':
        // The `no-release` merchant forgets the decline: the shop keeps the unit (its flaw), the buyer is told.
        this.#shop.applyPaymentStatus(paymentId, 'failed');
        return refused(402, paymentId, result.reason);
      case 'refused':
        this.#shop.applyPaymentStatus(paymentId, 'failed');
        return refused(result.status, paymentId, result.reason, { type: result.type });
      case 'unknown':
        // Not knowing whether the buyer was charged, the unit stays held: selling it again could oversell.
        return refused(503, paymentId, result.reason);
    }
  }

  /** The `confirm-first` flaw: charges, then checks the stock, and tells a charged buyer "sold out". */
  async #confirmFirst(completion: Completion, amount: number): Promise<CompletionAnswer> {
    const result = await this.#confirm(completion, amount);
    if (result.kind !== 'paid' && result.kind !== 'already-paid') return this.#settleWithoutStock(completion.paymentId, result);
    const taken = await this.#shop.confirm(completion.paymentId, null);
    if (taken.status !== 200) return refused(taken.status, completion.paymentId, taken.reason ?? 'refused');
    this.#shop.applyPaymentStatus(completion.paymentId, 'paid');
    return paid(completion.paymentId);
  }

  /** The `race` flaw: reads the stock, awaits the charge, then writes what it read minus one. */
  async #racy(completion: Completion, amount: number): Promise<CompletionAnswer> {
    const { paymentId } = completion;
    let result: ConfirmResult | undefined;
    const taken = await this.#shop.takeAcross(paymentId, async () => {
      result = await this.#confirm(completion, amount);
      return result.kind === 'paid' || result.kind === 'already-paid';
    });
    if (result === undefined) return refused(taken.status, paymentId, taken.reason ?? 'refused');
    if (taken.status !== 200) return this.#settleWithoutStock(paymentId, result);
    this.#shop.applyPaymentStatus(paymentId, 'paid');
    return paid(paymentId);
  }

  /**
   * The `double-confirm` flaw: remembers nothing of earlier completions, so a repeat takes the stock again and
   * confirms again; the gateway's ALREADY_PAID looks like an error to it, and it "cleans up" by cancelling the
   * payment the first completion charged (the buyer was told paid) and giving the stock back.
   */
  async #withoutMemory(completion: Completion, amount: number): Promise<CompletionAnswer> {
    const { paymentId } = completion;
    const taken = await this.#shop.confirm(paymentId, null);
    const repeat = taken.status !== 200 && taken.reason === 'order already paid';
    if (taken.status !== 200 && !repeat) return refused(taken.status, paymentId, taken.reason ?? 'refused');
    const result = await this.#confirm(completion, amount);
    if (result.kind === 'already-paid') {
      await this.#cancel(paymentId, 'duplicate completion');
      this.#shop.applyPaymentStatus(paymentId, 'cancelled');
      return refused(409, paymentId, 'the payment failed: it was already paid');
    }
    return this.#settle(completion, result);
  }

  #settleWithoutStock(paymentId: string, result: ConfirmResult): CompletionAnswer {
    if (result.kind === 'declined') return refused(402, paymentId, result.reason);
    if (result.kind === 'refused') return refused(result.status, paymentId, result.reason, { type: result.type });
    if (result.kind === 'unknown') return refused(503, paymentId, result.reason);
    return paid(paymentId);
  }

  /** PaymentClient.confirmPayment with the order's own amount, read back as what it means for the sale. */
  async #confirm(completion: Completion, amount: number): Promise<ConfirmResult> {
    const PortOne = await loadPortOnePayment();
    const client = await this.#lookup.client();
    const call = `confirmPayment(${completion.paymentId})`;
    try {
      await this.#withDeadline(
        call,
        client.confirmPayment({
          paymentId: completion.paymentId,
          paymentToken: completion.paymentToken,
          ...(completion.txId === undefined ? {} : { txId: completion.txId }),
          totalAmount: amount,
        }),
      );
      return { kind: 'paid' };
    } catch (error) {
      if (!(error instanceof PortOne.ConfirmPaymentError)) return this.#lookUpAfter(completion.paymentId, error);
      const data = error.data as { type: string; message?: string; pgMessage?: string };
      const message = data.message ?? data.type;
      switch (data.type) {
        case 'ALREADY_PAID':
          return { kind: 'already-paid' };
        case 'PG_PROVIDER':
          return { kind: 'declined', reason: `the card was declined: ${data.pgMessage ?? message}` };
        case 'INVALID_PAYMENT_TOKEN':
        case 'INVALID_REQUEST':
          return { kind: 'refused', status: 400, type: data.type, reason: message };
        case 'PAYMENT_NOT_FOUND':
          return { kind: 'refused', status: 404, type: data.type, reason: message };
        case 'INFORMATION_MISMATCH':
          return { kind: 'refused', status: 409, type: data.type, reason: message };
        default:
          // UNAUTHORIZED, FORBIDDEN: the merchant's own set-up is wrong; nothing was charged.
          return { kind: 'refused', status: 502, type: data.type, reason: `the gateway refused the merchant: ${message}` };
      }
    }
  }

  /** The confirm's answer was lost (deadline, reset): what the gateway says of the payment decides. */
  async #lookUpAfter(paymentId: string, error: unknown): Promise<ConfirmResult> {
    const why = error instanceof Error ? error.message : String(error);
    try {
      const facts = await this.#lookup.payment(paymentId);
      if (facts?.status === 'PAID') return { kind: 'paid' };
      if (facts?.status === 'READY' || facts === null) return { kind: 'refused', status: 502, type: 'NO_ANSWER', reason: `the confirm got no answer (${why}); nothing was charged` };
      if (facts.status === 'FAILED') return { kind: 'declined', reason: `the payment failed (${why})` };
      return { kind: 'unknown', reason: `the confirm got no answer (${why}) and the payment is ${facts.status}` };
    } catch (lookupError) {
      const lookupWhy = lookupError instanceof LookupError ? lookupError.message : String(lookupError);
      return { kind: 'unknown', reason: `the confirm got no answer (${why}) and the payment could not be looked up (${lookupWhy})` };
    }
  }

  async #cancel(paymentId: string, reason: string): Promise<void> {
    const client = await this.#lookup.client();
    await this.#withDeadline(`cancelPayment(${paymentId})`, client.cancelPayment({ paymentId, reason })).catch(() => undefined);
  }

  #withDeadline<T>(call: string, promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LookupError(`${call} got no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
  }
}
