import { boundedRequest } from '../http/bounded-request.js';
import { isV2, signWebhook, type Dialect, type WebhookSecret } from '../protocol/index.js';
import { classifyNoAnswer } from '../fire/index.js';
import type { MerchantHookUrls } from './types.js';
import type { TestOrder } from './orders.js';
import { quoteMerchantText } from './describe.js';
import { STOCK_ANSWER_FORM, parseStockAnswer } from '../util/stock-answer.js';

/**
 * A hook did not do what the case needs to set itself up (an order was not created, the stock probe answered
 * something that is not a number). The case fails with this message: it names the hook, so the user fixes
 * the test wiring rather than hunting a confirm bug that is not there.
 */
export class HookError extends Error {
  override name = 'HookError';
}

const SHOWN_ANSWER_CHARS = 200;

interface HookAnswer {
  status: number;
  text: string;
}

function oneLine(text: string): string {
  return quoteMerchantText(text, SHOWN_ANSWER_CHARS);
}

/**
 * The merchant's test hooks, called the way the case needs them. Each call has the gateway's timeout, and a
 * hook that fails throws HookError; aborting the run (Ctrl-C) rejects with the signal's reason instead.
 */
export class MerchantHooks {
  readonly urls: MerchantHookUrls;
  readonly #hookHeaders: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal;

  constructor(urls: MerchantHookUrls, hookHeaders: Record<string, string>, timeoutMs: number, signal: AbortSignal) {
    this.urls = urls;
    this.#hookHeaders = hookHeaders;
    this.#timeoutMs = timeoutMs;
    this.#signal = signal;
  }

  async createOrder(order: TestOrder): Promise<void> {
    const url = this.#require('order');
    const payload = { merchant_uid: order.merchantUid, amount: order.amount, quantity: order.quantity };
    const answer = await this.#call('order', url, 'POST', payload);
    if (answer.status < 200 || answer.status >= 300) {
      throw new HookError(
        `the order hook ${url} answered HTTP ${answer.status} ${oneLine(answer.text)} to ${JSON.stringify(payload)}; it must create the order and answer 2xx`,
      );
    }
  }

  async reset(stock: number): Promise<void> {
    const url = this.#require('reset');
    const answer = await this.#call('reset', url, 'POST', { stock });
    if (answer.status < 200 || answer.status >= 300) {
      throw new HookError(
        `the reset hook ${url} answered HTTP ${answer.status} ${oneLine(answer.text)} to {"stock":${stock}}; it must set the stock and answer 2xx`,
      );
    }
  }

  async readStock(): Promise<number> {
    const url = this.#require('stock');
    const answer = await this.#call('stock', url, 'GET');
    const stock = answer.status === 200 ? parseStockAnswer(answer.text) : null;
    if (stock === null) {
      throw new HookError(
        `the stock probe ${url} answered HTTP ${answer.status} ${oneLine(answer.text)}; it must answer 200 with ${STOCK_ANSWER_FORM}`,
      );
    }
    return stock;
  }

  /**
   * Tells the merchant's webhook that a confirmed payment failed: V2 `Transaction.Failed`, signed when there
   * is a secret; V1 `{imp_uid, merchant_uid, status: "failed"}`. Returns the answer's status line for the report.
   */
  async notifyPaymentFailed(order: TestOrder, dialect: Dialect, secret: WebhookSecret | undefined): Promise<string> {
    const url = this.#require('webhook');
    let body: string;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (isV2(dialect)) {
      body = JSON.stringify({
        type: 'Transaction.Failed',
        timestamp: new Date().toISOString(),
        data: { paymentId: order.merchantUid, transactionId: order.transactionId },
      });
      if (secret) Object.assign(headers, signWebhook(secret, body));
    } else {
      body = JSON.stringify({ imp_uid: order.impUid, merchant_uid: order.merchantUid, status: 'failed' });
    }
    const answer = await this.#call('webhook', url, 'POST', body, headers);
    if (answer.status < 200 || answer.status >= 300) {
      throw new HookError(
        `the webhook ${url} answered HTTP ${answer.status} ${oneLine(answer.text)} to the payment-failed notice ${body}; it must accept it with 2xx`,
      );
    }
    return `HTTP ${answer.status}`;
  }

  #require(kind: keyof MerchantHookUrls): string {
    const url = this.urls[kind];
    // The runner skips cases whose hooks are missing; reaching this is a case declaring the wrong needs.
    if (url === undefined) throw new Error(`a contract case used the ${kind} hook without declaring that it needs it`);
    return url;
  }

  async #call(
    kind: keyof MerchantHookUrls,
    url: string,
    method: 'GET' | 'POST',
    payload?: unknown,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ): Promise<HookAnswer> {
    try {
      // The webhook is the merchant's notice_url, which the gateway calls without the test hooks' credentials.
      const credentials = kind === 'webhook' ? {} : this.#hookHeaders;
      return await boundedRequest(url, {
        method,
        timeoutMs: this.#timeoutMs,
        signal: this.#signal,
        headers: payload === undefined ? credentials : { ...credentials, ...headers },
        ...(payload === undefined ? {} : { body: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      });
    } catch (error) {
      if (this.#signal.aborted) throw this.#signal.reason;
      const cause = classifyNoAnswer(error);
      throw new HookError(`the ${kind} hook ${method} ${url} failed: ${cause.error}: ${cause.message}`);
    }
  }
}
