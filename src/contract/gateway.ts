import { setTimeout as sleep } from 'node:timers/promises';
import { connectGateway, type GatewayLink } from '../gateway/link.js';
import type { PaymentTimeline } from '../gateway/gateway.js';
import type { FireResult } from '../fire/index.js';
import { isV2, type ConfirmOrder, type Dialect } from '../protocol/index.js';
import { HookError } from './hooks.js';
import { endRun } from '../load/gateway-run.js';
import type { PaymentToken } from '../gateway/sim/sales.js';

/** What a check run knows about the gateway it plays its payments through. */
export interface CheckGatewayPlan {
  /** The gateway's base URL, as the merchant is configured with it. */
  url: string;
  api: 'v1' | 'v2';
  /** Where the gateway sends webhooks: the merchant's webhook hook. */
  noticeUrl: string | null;
  /** How long a case waits for what follows a confirm (charge, decline, webhooks, the merchant's release). */
  settleMs: number;
}

/** How often a case reads a payment's timeline while waiting for its lifecycle to finish. */
const POLL_MS = 25;

/**
 * One check run's payments at the gateway: every confirm a case sends is for a payment the gateway has
 * (registered first, at the confirm's amount, unless the case forges one on purpose), and every answer is
 * handed to the gateway, so the merchant's REST lookups, charges, declines and webhooks all happen for real.
 */
export class CheckGateway {
  readonly #link: GatewayLink;
  readonly #registered = new Set<string>();
  #manualRunUsed = false;

  constructor(
    readonly plan: CheckGatewayPlan,
    readonly run: string,
    readonly dialect: Dialect,
    /** manual-confirm: the minted tokens' lifetime; null for the gateway's own. */
    readonly tokenLifetimeMs: number | null = null,
  ) {
    this.#link = connectGateway(plan.url);
  }

  #key(order: Pick<ConfirmOrder, 'merchantUid'>): string {
    return order.merchantUid;
  }

  isRegistered(order: Pick<ConfirmOrder, 'merchantUid'>): boolean {
    return this.#registered.has(this.#key(order));
  }

  /**
   * Registers the payment a confirm will name: V1 imp_uid + merchant_uid, V2 paymentId (= the order id) +
   * transactionId. `amount` is what the buyer pays at the gateway (the order's unless a case tampers with it);
   * `outcome` is what the PG does once the merchant says 200.
   */
  async register(order: ConfirmOrder, options: { amount?: number; outcome?: 'approve' | 'decline' } = {}): Promise<void> {
    await this.#register(order, options, false);
  }

  /**
   * Manual confirm: registers the payment on a manual-confirm channel and returns what the buyer's
   * requestPayment would hand its front end (paymentId, paymentToken, txId). Manual-confirm payments go into a
   * run of their own (`manualRun`), since a run's payments share their flow.
   */
  async mint(order: ConfirmOrder, options: { amount?: number; outcome?: 'approve' | 'decline' } = {}): Promise<PaymentToken> {
    const token = await this.#register(order, options, true);
    if (token === undefined) throw new HookError(`the gateway at ${this.plan.url} registered ${order.merchantUid} but minted no payment token; is it a confirm-sim gateway with manual confirm?`);
    return token;
  }

  /** The run a manual-confirm case's payments are registered under. */
  get manualRun(): string {
    return `${this.run}-mc`;
  }

  async #register(order: ConfirmOrder, options: { amount?: number; outcome?: 'approve' | 'decline' }, manual: boolean): Promise<PaymentToken | undefined> {
    const v2 = isV2(this.dialect);
    let token: PaymentToken | undefined;
    try {
      const result = await this.#link.register({
        run: manual ? this.manualRun : this.run,
        ...(manual ? { flow: 'manual-confirm' as const, ...(this.tokenLifetimeMs === null ? {} : { tokenLifetimeMs: this.tokenLifetimeMs }) } : {}),
        dialect: this.dialect,
        ...(this.plan.noticeUrl === null ? {} : { noticeUrl: this.plan.noticeUrl }),
        declineRate: 0,
        payments: [
          {
            orderId: order.merchantUid,
            ...(v2 ? { transactionId: order.transactionId } : { impUid: order.impUid }),
            amount: options.amount ?? order.amount,
            outcome: options.outcome ?? 'approve',
          },
        ],
      });
      token = result.tokens?.[0];
    } catch (error) {
      throw new HookError(`the gateway at ${this.plan.url} refused to register ${order.merchantUid}: ${(error as Error).message}`);
    }
    this.#registered.add(this.#key(order));
    if (manual) this.#manualRunUsed = true;
    return token;
  }

  /** Hands the merchant's answer to the gateway, which charges, fails or declines the payment and notifies. */
  async answered(order: Pick<ConfirmOrder, 'merchantUid'>, result: FireResult): Promise<void> {
    const { answer } = result;
    this.#link.answer(
      answer.kind === 'http'
        ? { run: this.run, orderId: order.merchantUid, status: answer.status, body: answer.body }
        : { run: this.run, orderId: order.merchantUid, status: null },
    );
    try {
      await this.#link.flush();
    } catch (error) {
      throw new HookError(`the gateway at ${this.plan.url} did not take the answer for ${order.merchantUid}: ${(error as Error).message}`);
    }
  }

  async timeline(orderId: string, run = this.run): Promise<PaymentTimeline> {
    try {
      return await this.#link.payment(orderId, run);
    } catch (error) {
      throw new HookError(`the gateway at ${this.plan.url} could not show payment ${orderId}: ${(error as Error).message}`);
    }
  }

  /**
   * Waits until the payment has left `ready` and none of its webhooks waits for a (re)try, or the settle
   * budget is spent; resolves to its timeline either way.
   */
  async settled(orderId: string, signal: AbortSignal): Promise<PaymentTimeline> {
    const started = performance.now();
    for (;;) {
      const timeline = await this.timeline(orderId);
      const done = timeline.status !== 'ready' && timeline.webhooks.every((webhook) => webhook.state !== 'pending');
      if (done || performance.now() - started >= this.plan.settleMs) return timeline;
      await sleep(POLL_MS, undefined, { signal });
    }
  }

  /** Ends the run at the gateway (its payments are then the first forgotten) and closes the link. */
  async close(): Promise<void> {
    if (this.#manualRunUsed) await endRun(this.#link, this.manualRun);
    if (this.#registered.size > 0) await endRun(this.#link, this.run);
    await this.#link.close();
  }
}
