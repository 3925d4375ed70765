import * as PortOne from '@portone/server-sdk';
import { jsonObject, type DocAnswer, type DocRequest } from './http.js';
import type { MerchantDatabase, Order } from './store.js';
import type { DocFlaw } from './index.js';

/**
 * A V2 merchant on PortOne's server SDK, as the webhook guide's Express example writes it: the raw body is
 * checked with `PortOne.Webhook.verify(secret, body, headers)` (a WebhookVerificationError is a 400), then the
 * payment is looked up with `getPayment({ paymentId })` and its amount compared with the order's. The confirm
 * (Transaction.Confirm, signed like every V2 webhook) is handled the same way before stock is taken.
 */

export interface V2ShopOptions {
  db: MerchantDatabase;
  gatewayUrl: string;
  apiSecret: string;
  webhookSecret: string;
  flaw: DocFlaw | undefined;
}

/** Standard Webhooks: a receiver remembers the ids it accepted, so a replayed message is refused. */
const SEEN_IDS_KEPT = 100_000;

const refuse = (status: number, errorMessage: string): DocAnswer => ({ status, body: { errorMessage } });
const OK: DocAnswer = { status: 200 };

function confirmData(body: Record<string, unknown>): { paymentId: unknown; transactionId: unknown; totalAmount: unknown } {
  // Webhook version 2024-04-25 nests the payment under `data`; 2024-01-01 sends it flat, in snake case.
  const data = body.data;
  if (body.type === 'Transaction.Confirm' && data !== null && typeof data === 'object') {
    const { paymentId, transactionId, totalAmount } = data as Record<string, unknown>;
    return { paymentId, transactionId, totalAmount };
  }
  return { paymentId: body.payment_id, transactionId: body.tx_id, totalAmount: body.total_amount };
}

export function v2Handlers(options: V2ShopOptions): { confirm: (request: DocRequest) => Promise<DocAnswer>; notice: (request: DocRequest) => Promise<DocAnswer> } {
  const { db, flaw, webhookSecret } = options;
  const portone = PortOne.PortOneClient({ secret: options.apiSecret, baseUrl: options.gatewayUrl });
  const seen = new Set<string>();

  async function getPayment(paymentId: string): Promise<PortOne.Payment.Payment | null> {
    try {
      return await portone.payment.getPayment({ paymentId });
    } catch (error) {
      if (error instanceof PortOne.Payment.GetPaymentError && error.data.type === 'PAYMENT_NOT_FOUND') return null;
      throw error;
    }
  }

  /** Verifies the signature; null (the caller answers 400) when it does not hold. */
  async function verified(request: DocRequest): Promise<unknown | null> {
    try {
      return await PortOne.Webhook.verify(webhookSecret, request.text, request.headers);
    } catch (error) {
      if (error instanceof PortOne.Webhook.WebhookVerificationError || error instanceof PortOne.Webhook.InvalidInputError) return null;
      throw error;
    }
  }

  async function release(order: Order): Promise<void> {
    if (flaw === 'no-release' || (order.state !== 'reserved' && order.state !== 'paid')) return;
    order.state = 'released';
    order.payment = null;
    await db.giveBack(order.quantity);
  }

  async function take(order: Order, transactionId: string): Promise<DocAnswer> {
    const generation = db.generation;
    const taken = await db.take(order.quantity, { racy: flaw === 'racy' });
    if (generation !== db.generation) return refuse(409, '주문이 초기화되었습니다.');
    if (!taken) {
      if (order.state === 'created' || order.state === 'released') order.state = 'refused';
      return refuse(409, '재고가 모두 소진되었습니다.');
    }
    order.state = 'reserved';
    order.payment = transactionId;
    return OK;
  }

  async function confirm(request: DocRequest): Promise<DocAnswer> {
    if (jsonObject(request) === null) return refuse(400, '잘못된 요청입니다.');
    const webhook = await verified(request);
    if (webhook === null) return refuse(400, '웹훅 검증에 실패했습니다.');
    const id = String(request.headers['webhook-id']);
    if (seen.has(id)) return refuse(409, '이미 처리된 요청입니다.');
    if (seen.size >= SEEN_IDS_KEPT) seen.clear();
    seen.add(id);
    const { paymentId, transactionId, totalAmount } = confirmData(webhook as Record<string, unknown>);
    if (typeof paymentId !== 'string' || typeof transactionId !== 'string' || typeof totalAmount !== 'number') {
      return refuse(400, 'paymentId, transactionId and totalAmount are required');
    }
    const order = await db.findOrder(paymentId);
    if (order === undefined) return refuse(404, `주문 ${paymentId}이(가) 없습니다.`);
    if (flaw !== 'trusting') {
      let payment: PortOne.Payment.Payment | null;
      try {
        payment = await getPayment(paymentId);
      } catch (error) {
        return refuse(503, `결제를 조회하지 못했습니다: ${(error as Error).message}`);
      }
      if (payment === null) return refuse(404, `결제 ${paymentId}이(가) 없습니다.`);
      if (PortOne.Payment.isUnrecognizedPayment(payment)) return refuse(409, '알 수 없는 결제 상태입니다.');
      if (payment.status === 'READY' && payment.transactionId !== transactionId) return refuse(409, '다른 결제 시도입니다.');
      if (payment.amount.total !== order.amount) return refuse(409, '결제 금액이 주문과 다릅니다. 위변조가 의심됩니다.');
      if (payment.status !== 'READY') return refuse(409, `결제가 ${payment.status} 상태입니다.`);
    } else if (totalAmount !== order.amount) {
      return refuse(409, '결제 금액이 주문과 다릅니다.');
    }
    if (order.state === 'reserved' || order.state === 'paid') return order.payment === transactionId ? OK : refuse(409, '이미 결제 중인 주문입니다.');
    return take(order, transactionId);
  }

  /** The webhook guide's handler, plus what it leaves to the merchant: a failed or cancelled payment's stock comes back. */
  async function notice(request: DocRequest): Promise<DocAnswer> {
    const webhook = await verified(request);
    if (webhook === null) return { status: 400 };
    const data = (webhook as { data?: Record<string, unknown> }).data;
    if (data === undefined || !('paymentId' in data) || typeof data.paymentId !== 'string') return OK;
    const order = await db.findOrder(data.paymentId);
    // An order that holds no stock has nothing a payment's news could change (a refused buyer's Transaction.Failed).
    if (order === undefined || order.payment === null) return OK;
    if (flaw === 'trusting') {
      const type = (webhook as { type?: unknown }).type;
      if (data.transactionId !== order.payment) return OK;
      if (type === 'Transaction.Paid' && order.state === 'reserved') order.state = 'paid';
      else if (type === 'Transaction.Failed' || type === 'Transaction.Cancelled') await release(order);
      return OK;
    }
    // 1. 포트원 결제내역 단건조회 API 호출
    const payment = await getPayment(data.paymentId);
    // 웹훅 정보와 일치하는 결제건이 실제로는 존재하지 않는 경우
    if (payment === null || PortOne.Payment.isUnrecognizedPayment(payment)) return OK;
    if (!('transactionId' in payment) || payment.transactionId !== order.payment) return OK;
    // 2. 고객사 내부 주문 데이터의 가격과 실제 지불된 금액을 비교합니다.
    if (payment.amount.total !== order.amount) return OK;
    switch (payment.status) {
      case 'PAID':
        if (order.state === 'reserved') order.state = 'paid';
        break;
      case 'FAILED':
      case 'CANCELLED':
        await release(order);
        break;
      default:
        break;
    }
    return OK;
  }

  return { confirm, notice };
}
