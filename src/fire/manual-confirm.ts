import { setTimeout as sleep } from 'node:timers/promises';
import { connectGateway, type GatewayTarget } from '../gateway/link.js';
import type { PaymentTimeline } from '../gateway/gateway.js';
import type { PaymentToken } from '../gateway/sim/sales.js';
import { CompletionTemplate, DEFAULT_COMPLETION_TEMPLATE } from '../protocol/completion.js';
import { isSuccessStatus, successStatusesOf, type SuccessStatuses } from '../protocol/flows.js';
import { newMerchantUid, newRunId } from '../protocol/index.js';
import { UsageError } from '../util/errors.js';
import { DEFAULT_FIRE_SETTLE_MS, webhooksOf, type FireWebhook } from './gateway.js';
import { fireConfirm, type FireAnswer, type FireEvents, type FireRequest } from './index.js';
import type { TypedEmitter } from '../util/events.js';
import { endRun } from '../load/gateway-run.js';

const POLL_MS = 20;
const MASKED_TOKEN = 'ptk_****';

export interface CompletionFireOptions {
  /** The merchant's completion endpoint, e.g. http://127.0.0.1:3000/payment/complete. */
  url: string | URL;
  /** The simulated gateway that mints the payment token and is asked afterwards what the merchant confirmed. */
  gateway: GatewayTarget;
  /** The completion body template; default {"paymentId","paymentToken","txId"}. */
  body?: string | undefined;
  /** Which answers tell the buyer "paid"; default any 2xx. */
  successStatus?: string | SuccessStatuses | undefined;
  /** The payment's paymentId (the merchant's order id); default a fresh one. */
  paymentId?: string | undefined;
  /** Default 1000. */
  amount?: number | undefined;
  /** What the PG does when the merchant confirms; default approve. */
  outcome?: 'approve' | 'decline' | undefined;
  /** Where the gateway sends the payment's webhooks (the merchant's notice URL). */
  webhookUrl?: string | undefined;
  /** How long to wait after the answer for the payment to settle (a cancel after a "no", webhooks); default 2 s. */
  settleMs?: number | undefined;
  timeoutMs?: number | undefined;
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
  events?: TypedEmitter<FireEvents> | undefined;
}

/** What the buyer was told against what the gateway holds. */
export type CompletionVerdict = 'agrees' | 'charged-refused' | 'told-paid-unconfirmed' | 'charged-unanswered';

export interface CompletionFireResult {
  schemaVersion: 2;
  flow: 'manual-confirm';
  /** The completion post, its paymentToken masked. */
  request: FireRequest;
  answer: FireAnswer;
  /** paid: a success answer; refused: any other answer; no-answer: none in time. */
  told: 'paid' | 'refused' | 'no-answer';
  successStatus: string;
  /** What requestPayment returned to the buyer (the token masked). */
  token: PaymentToken;
  payment: {
    gateway: string;
    run: string;
    /** The payment as the gateway holds it after the settle. */
    status: PaymentTimeline['status'];
    confirmCalls: number;
    confirmed: number;
    failReason: string | null;
    webhooks: FireWebhook[];
    timeline: PaymentTimeline['timeline'];
  };
  verdict: CompletionVerdict;
  /** One sentence: what the buyer was told and what the gateway holds. */
  explanation: string;
  warnings: string[];
}

function mask(text: string, token: string): string {
  return token === '' ? text : text.split(token).join(MASKED_TOKEN);
}

function judge(told: CompletionFireResult['told'], timeline: PaymentTimeline, success: string): { verdict: CompletionVerdict; explanation: string } {
  const charged = timeline.status === 'paid';
  const holds = charged ? 'the gateway holds the payment paid' : `the gateway holds the payment ${timeline.status}${timeline.status === 'ready' ? ' (never confirmed)' : ''}`;
  if (told === 'paid' && !charged) return { verdict: 'told-paid-unconfirmed', explanation: `told the buyer paid (${success}), but ${holds}: an order that was never charged` };
  if (told === 'refused' && charged) return { verdict: 'charged-refused', explanation: `told the buyer no, but ${holds}: charged and told no` };
  if (told === 'no-answer' && charged) return { verdict: 'charged-unanswered', explanation: `no answer in time, but ${holds}: charged while the buyer saw an error` };
  return { verdict: 'agrees', explanation: `told the buyer ${told === 'paid' ? 'paid' : told === 'refused' ? 'no' : 'nothing in time'} and ${holds}` };
}

/**
 * fire --flow manual-confirm: registers one payment on a manual-confirm channel (the gateway mints what the
 * buyer's requestPayment returns), posts the completion body to the merchant as its front end would, and
 * reads back what the gateway holds once the merchant has answered (and, after a "no", had --settle to
 * cancel a payment it confirmed anyway).
 */
export async function fireCompletion(options: CompletionFireOptions): Promise<CompletionFireResult> {
  const template = new CompletionTemplate(options.body ?? DEFAULT_COMPLETION_TEMPLATE);
  const success = successStatusesOf(options.successStatus);
  const settleMs = options.settleMs ?? DEFAULT_FIRE_SETTLE_MS;
  if (!Number.isFinite(settleMs) || settleMs < 0) throw new UsageError(`\`settleMs\`: ${settleMs} is not a duration in ms; use e.g. 2000`);
  const amount = options.amount ?? 1000;
  const paymentId = options.paymentId ?? newMerchantUid();
  const link = connectGateway(options.gateway);
  const run = `fire-${newRunId()}`;
  const failure = (doing: string, error: unknown): UsageError =>
    new UsageError(`\`gateway\`: ${doing} at ${link.url} failed (${error instanceof Error ? error.message : String(error)}); check that confirm-sim gateway is running there`);
  try {
    let token: PaymentToken;
    try {
      const result = await link.register(
        {
          run,
          api: 'v2',
          flow: 'manual-confirm',
          ...(options.webhookUrl === undefined ? {} : { noticeUrl: options.webhookUrl }),
          payments: [{ orderId: paymentId, amount, outcome: options.outcome ?? 'approve' }],
        },
        options.signal,
      );
      const minted = result.tokens?.[0];
      if (minted === undefined) throw new Error('it minted no payment token; is it a confirm-sim gateway with manual confirm?');
      token = minted;
    } catch (error) {
      if (error instanceof UsageError || options.signal?.aborted) throw error;
      throw failure(`registering a manual-confirm payment for ${paymentId}`, error);
    }
    const body = template.render({ ...token, amount, n: 1 });
    // The request is shown as it is sent, except the token: it pays the payment, so it is masked everywhere.
    const fired = await fireConfirm({
      url: options.url,
      body,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const request: FireRequest = { ...fired.request, body: mask(fired.request.body, token.paymentToken) };
    options.events?.emit('request', request);
    const answer: FireAnswer = fired.answer.kind === 'http' ? { ...fired.answer, body: mask(fired.answer.body, token.paymentToken) } : fired.answer;
    const told: CompletionFireResult['told'] = answer.kind === 'no-answer' ? 'no-answer' : isSuccessStatus(success, answer.status) ? 'paid' : 'refused';
    const started = performance.now();
    let timeline: PaymentTimeline;
    try {
      for (;;) {
        timeline = await link.payment(paymentId, run);
        // A "no" to a charged buyer may yet be put right by a cancel: wait the settle for it.
        const mayChange = (told !== 'paid' && timeline.status === 'paid') || timeline.webhooks.some((webhook) => webhook.state === 'pending');
        if (!mayChange || performance.now() - started >= settleMs) break;
        await sleep(POLL_MS, undefined, { signal: options.signal });
      }
      await endRun(link, run);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw failure(`reading payment ${paymentId}`, error);
    }
    const { verdict, explanation } = judge(told, timeline, success.text);
    return {
      schemaVersion: 2,
      flow: 'manual-confirm',
      request,
      answer,
      told,
      successStatus: success.text,
      token: { ...token, paymentToken: MASKED_TOKEN },
      payment: {
        gateway: link.url,
        run,
        status: timeline.status,
        confirmCalls: timeline.manualConfirm?.calls ?? 0,
        confirmed: timeline.manualConfirm?.confirmed ?? 0,
        failReason: timeline.failure?.reason ?? null,
        webhooks: webhooksOf(timeline),
        timeline: timeline.timeline,
      },
      verdict,
      explanation,
      warnings: fired.warnings,
    };
  } finally {
    await link.close();
  }
}
