import { setTimeout as sleep } from 'node:timers/promises';
import { connectGateway, type GatewayTarget } from '../gateway/link.js';
import { endRun } from '../load/gateway-run.js';
import type { PaymentTimeline } from '../gateway/gateway.js';
import { isV2, newImpUid, newMerchantUid, newRunId, newTransactionId, type ConfirmOrder } from '../protocol/index.js';
import { UsageError } from '../util/errors.js';
import { SecretMask } from '../util/secrets.js';
import { fireConfirm, type FireOptions, type FireResult } from './index.js';

/** How long fire waits for the charge and webhooks that follow the answer, unless told otherwise. */
export const DEFAULT_FIRE_SETTLE_MS = 2_000;
const POLL_MS = 20;

export interface GatewayFireOptions extends FireOptions {
  /** The simulated gateway (base URL or RunningGateway): the payment is registered there before the confirm. */
  gateway: GatewayTarget;
  /** Where the gateway sends the payment's webhooks. */
  webhookUrl?: string | undefined;
  /** What the PG does if the merchant says 200; default approve. */
  outcome?: 'approve' | 'decline' | undefined;
  /** How long to wait for the charge or decline and the webhook attempts that follow; default 2 s. */
  settleMs?: number | undefined;
}

/** One webhook the gateway sent for the payment, with every attempt. */
export interface FireWebhook {
  event: string;
  url: string;
  state: 'pending' | 'delivered' | 'unanswered';
  attempts: Array<{ at: number; httpStatus: number | null; error: string | null; message: string; durationMs: number }>;
}

/** What followed the confirm at the gateway. */
export interface FireLifecycle {
  gateway: string;
  /** The run the payment was registered under (see GET /sim/payments/{id}?run=). */
  run: string;
  /** The payment as the gateway ended up with it. */
  status: PaymentTimeline['status'];
  /** approved: charged; declined: the PG said no after the merchant's 200; not-attempted: the answer stopped it. */
  charge: 'approved' | 'declined' | 'not-attempted';
  failReason: string | null;
  webhooks: FireWebhook[];
  /** True when the wait ran out with the payment still ready or a webhook still pending. */
  unsettled: boolean;
  timeline: PaymentTimeline['timeline'];
}

export interface GatewayFireResult extends FireResult {
  lifecycle: FireLifecycle;
}

function chargeOf(timeline: PaymentTimeline): FireLifecycle['charge'] {
  if (timeline.status === 'paid' || timeline.status === 'cancelled') return 'approved';
  if (timeline.failure?.kind === 'declined') return 'declined';
  return 'not-attempted';
}

/** The webhooks the gateway sent for a payment, each attempt as a fire result shows it. */
export function webhooksOf(timeline: PaymentTimeline): FireWebhook[] {
  return timeline.webhooks.map((webhook) => ({
    event: webhook.event,
    url: webhook.url,
    state: webhook.state,
    attempts: webhook.attempts.map(({ at, httpStatus, error, message, durationMs }) => ({ at, httpStatus, error, message, durationMs })),
  }));
}

function lifecycleOf(gateway: string, run: string, timeline: PaymentTimeline, unsettled: boolean): FireLifecycle {
  return {
    gateway,
    run,
    status: timeline.status,
    charge: chargeOf(timeline),
    failReason: timeline.failure?.reason ?? null,
    webhooks: webhooksOf(timeline),
    unsettled,
    timeline: timeline.timeline,
  };
}

/**
 * fire with the gateway in the loop: registers the payment first (so the merchant's lookup finds it), sends
 * the confirm exactly as fire does, hands the answer to the gateway and waits for what followed: the charge
 * or decline and every webhook attempt, up to `settleMs`.
 */
export async function fireThroughGateway(options: GatewayFireOptions): Promise<GatewayFireResult> {
  const dialect = options.dialect ?? 'v1';
  const settleMs = options.settleMs ?? DEFAULT_FIRE_SETTLE_MS;
  if (!Number.isFinite(settleMs) || settleMs < 0) throw new UsageError(`\`settleMs\`: ${settleMs} is not a duration in ms; use e.g. 2000`);
  const order: Partial<ConfirmOrder> = {
    ...options.order,
    merchantUid: options.order?.merchantUid ?? newMerchantUid(),
    impUid: options.order?.impUid ?? newImpUid(),
    transactionId: options.order?.transactionId ?? newTransactionId(),
  };
  const link = connectGateway(options.gateway);
  const run = `fire-${newRunId()}`;
  // The webhooks' URLs and the gateway's own may hold credentials; what the gateway reports is shown masked.
  const secrets = new SecretMask().addUrl(link.url).addUrl(options.webhookUrl);
  const failure = (doing: string, error: unknown): UsageError =>
    new UsageError(
      secrets.text(`\`gateway\`: ${doing} at ${link.url} failed (${error instanceof Error ? error.message : String(error)}); check that confirm-sim gateway is running there`),
    );
  try {
    try {
      await link.register(
        {
          run,
          dialect,
          ...(options.webhookUrl === undefined ? {} : { noticeUrl: options.webhookUrl }),
          payments: [
            {
              orderId: order.merchantUid!,
              ...(isV2(dialect) ? { transactionId: order.transactionId } : { impUid: order.impUid }),
              amount: order.amount ?? 1000,
              outcome: options.outcome ?? 'approve',
            },
          ],
        },
        options.signal,
      );
    } catch (error) {
      if (error instanceof UsageError || options.signal?.aborted) throw error;
      throw failure(`registering the payment for ${order.merchantUid}`, error);
    }
    const result = await fireConfirm({ ...options, order });
    const { answer } = result;
    link.answer(
      answer.kind === 'http' ? { run, orderId: order.merchantUid!, status: answer.status, body: answer.body } : { run, orderId: order.merchantUid!, status: null },
    );
    const started = performance.now();
    let timeline: PaymentTimeline;
    try {
      await link.flush();
      for (;;) {
        timeline = await link.payment(order.merchantUid!, run);
        const settled = timeline.status !== 'ready' && timeline.webhooks.every((webhook) => webhook.state !== 'pending');
        if (settled || performance.now() - started >= settleMs) {
          await endRun(link, run);
          return { ...result, lifecycle: secrets.deep(lifecycleOf(link.url, run, timeline, !settled)) };
        }
        await sleep(POLL_MS, undefined, { signal: options.signal });
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw failure(`following payment ${order.merchantUid}`, error);
    }
  } finally {
    await link.close();
  }
}
