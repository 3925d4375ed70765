import { buildConfirmBody } from '../protocol/dialects.js';
import type { ConfirmOrder } from '../protocol/dialects.js';
import { impUidFor } from '../protocol/ids.js';
import { signWebhook } from '../protocol/signing.js';
import type { WebhookSecret } from '../protocol/signing.js';
import type { BurstPlan } from './options.js';
import { MerchantUidTemplate } from './schedule.js';

/**
 * Turns a buyer number into the exact bytes of its confirm request. Everything per buyer (merchant_uid,
 * imp_uid, transaction id, webhook id) is derived from the run seed and the buyer number, so a duplicate is
 * a byte-identical retry, as a gateway retry would be, and nothing per buyer has to be kept in memory.
 */
export class ConfirmRequestBuilder {
  readonly #plan: BurstPlan;
  readonly #template: MerchantUidTemplate;
  readonly #secret: WebhookSecret | null;
  readonly #head: string;
  readonly #seedHex: string;

  constructor(plan: BurstPlan) {
    this.#plan = plan;
    this.#template = new MerchantUidTemplate(plan.merchantUidTemplate, plan.runId, plan.buyers);
    this.#secret = plan.secretKey ? { key: Buffer.from(plan.secretKey), masked: plan.secretMasked ?? '****' } : null;
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

  build(buyer: number): Buffer {
    const body = buildConfirmBody(this.#plan.dialect, this.order(buyer));
    let signature = '';
    if (this.#secret) {
      const signed = signWebhook(this.#secret, body, { id: `msg_${this.#seedHex}${buyer.toString(16)}` });
      signature =
        `webhook-id: ${signed['webhook-id']}\r\nwebhook-timestamp: ${signed['webhook-timestamp']}\r\n` +
        `webhook-signature: ${signed['webhook-signature']}\r\n`;
    }
    return Buffer.from(`${this.#head}${signature}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
}
