import { buildConfirmBody, isV2 } from '../protocol/dialects.js';
import type { ConfirmOrder } from '../protocol/dialects.js';
import { impUidFor } from '../protocol/ids.js';
import { signWebhook } from '../protocol/signing.js';
import type { WebhookSecret } from '../protocol/signing.js';
import { CompletionTemplate, TokenTable, type TokenTableData } from '../protocol/completion.js';
import type { BurstPlan } from './options.js';
import { MerchantUidTemplate } from './schedule.js';

/** Turns a buyer number into the bytes of its request, the original or its duplicate. */
export interface RequestBuilder {
  build(buyer: number, duplicate?: boolean): Buffer;
}

/**
 * Turns a buyer number into the exact bytes of its confirm request. Everything per buyer (merchant_uid,
 * imp_uid, transaction id, webhook id) is derived from the run seed and the buyer number, so nothing per
 * buyer has to be kept in memory. A duplicate is the same order confirmed again as a new message: same body,
 * but its own webhook-id and signature, so a merchant that refuses replayed webhook-ids still has to judge it
 * on the order (a byte-identical replay would be refused as a replay and hide a double take).
 * Only V2 confirm calls are signed, as the gateway does; a secret given with a V1 dialect goes unused.
 */
export class ConfirmRequestBuilder implements RequestBuilder {
  readonly #plan: BurstPlan;
  readonly #template: MerchantUidTemplate;
  readonly #secret: WebhookSecret | null;
  readonly #head: string;
  readonly #seedHex: string;

  constructor(plan: BurstPlan) {
    this.#plan = plan;
    this.#template = new MerchantUidTemplate(plan.merchantUidTemplate, plan.runId, plan.buyers);
    this.#secret = plan.secretKey && isV2(plan.dialect) ? { key: Buffer.from(plan.secretKey), masked: plan.secretMasked ?? '****' } : null;
    const extra = plan.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
    this.#head =
      `POST ${plan.path} HTTP/1.1\r\nHost: ${plan.hostHeader}\r\nUser-Agent: confirm-sim\r\n` +
      `Content-Type: application/json\r\n${extra}`;
    this.#seedHex = plan.runSeed.toString(16).padStart(8, '0');
  }

  merchantUid(buyer: number): string {
    return this.#template.render(buyer);
  }

  order(buyer: number): ConfirmOrder {
    return {
      merchantUid: this.#template.render(buyer),
      impUid: impUidFor(this.#plan.runSeed, buyer),
      amount: this.#plan.amount,
      status: 'ready',
      transactionId: `${this.#seedHex}-0000-4000-8000-${buyer.toString(16).padStart(12, '0')}`,
    };
  }

  /** The webhook-id of a buyer's confirm, or of its duplicate (a distinct message for the same order). */
  webhookId(buyer: number, duplicate = false): string {
    return `msg_${this.#seedHex}${buyer.toString(16)}${duplicate ? '_2' : ''}`;
  }

  build(buyer: number, duplicate = false): Buffer {
    const body = buildConfirmBody(this.#plan.dialect, this.order(buyer));
    let signature = '';
    if (this.#secret) {
      const signed = signWebhook(this.#secret, body, { id: this.webhookId(buyer, duplicate) });
      signature =
        `webhook-id: ${signed['webhook-id']}\r\nwebhook-timestamp: ${signed['webhook-timestamp']}\r\n` +
        `webhook-signature: ${signed['webhook-signature']}\r\n`;
    }
    return Buffer.from(`${this.#head}${signature}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
}

/**
 * Manual confirm: the buyer's front end posting what requestPayment returned to the merchant's completion
 * endpoint. The paymentId and txId are the ones the sale was registered with (derived from the buyer number);
 * the paymentToken is the gateway's, from the token table indexed by buyer. Not signed: it is the merchant's
 * own API, called from a browser, so any credentials are the user's -H headers. A duplicate is the same
 * completion posted again (a double click, a retry after a slow answer).
 */
export class CompletionRequestBuilder implements RequestBuilder {
  readonly #plan: BurstPlan;
  readonly #ids: ConfirmRequestBuilder;
  readonly #template: CompletionTemplate;
  readonly #tokens: TokenTable;
  readonly #head: string;

  constructor(plan: BurstPlan, tokens: TokenTableData) {
    if (plan.completion === null) throw new Error('CompletionRequestBuilder needs a manual-confirm plan');
    this.#plan = plan;
    this.#ids = new ConfirmRequestBuilder(plan);
    this.#template = new CompletionTemplate(plan.completion.template);
    this.#tokens = new TokenTable(tokens);
    const extra = plan.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
    this.#head =
      `POST ${plan.path} HTTP/1.1\r\nHost: ${plan.hostHeader}\r\nUser-Agent: confirm-sim\r\n` +
      `Content-Type: application/json\r\n${extra}`;
  }

  /** The body buyer b posts (global buyer number, 0-based; the token table is indexed the same way). */
  body(buyer: number): string {
    const order = this.#ids.order(buyer);
    return this.#template.render({
      paymentId: order.merchantUid,
      paymentToken: this.#tokens.get(buyer),
      txId: order.transactionId,
      amount: this.#plan.amount,
      n: buyer + 1,
    });
  }

  build(buyer: number): Buffer {
    const body = this.body(buyer);
    return Buffer.from(`${this.#head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
}
