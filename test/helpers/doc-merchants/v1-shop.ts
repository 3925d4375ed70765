import { jsonObject, type DocAnswer, type DocRequest } from './http.js';
import type { MerchantDatabase, Order } from './store.js';
import type { DocFlaw } from './index.js';

/**
 * A V1 merchant's confirm_url and notice_url handlers, as iamport's docs tell a merchant to write them: never
 * trust the body, look the payment up (`GET /payments/{imp_uid}` through the client library) and compare its
 * merchant_uid, amount and status with the order in the merchant's own database. V1 sends no webhook when a
 * payment fails, so a reservation also has a deadline, at which the payment is looked up again before its
 * stock is given back (the webhook guide: look a payment up before acting on a missing webhook).
 */

/** What the handlers read of a V1 payment; each client library maps its answer to this. */
export interface V1Payment {
  imp_uid: string;
  merchant_uid: string;
  amount: number;
  status: string;
}

/** The one REST call the handlers make; null when the gateway has no such payment (404). */
export interface V1Client {
  getPayment(impUid: string): Promise<V1Payment | null>;
}

export interface V1ShopOptions {
  db: MerchantDatabase;
  client: V1Client;
  flaw: DocFlaw | undefined;
  /** The reservation deadline: how long an unpaid reservation waits before the payment is looked up again. */
  holdMs: number;
}

const refuse = (status: number, reason: string): DocAnswer => ({ status, body: { reason } });
const OK: DocAnswer = { status: 200, body: { status: 'success' } };

export function v1Handlers(options: V1ShopOptions): { confirm: (request: DocRequest) => Promise<DocAnswer>; notice: (request: DocRequest) => Promise<DocAnswer> } {
  const { db, client, flaw } = options;

  async function take(order: Order, impUid: string): Promise<DocAnswer> {
    const generation = db.generation;
    const taken = await db.take(order.quantity, { racy: flaw === 'racy' });
    if (generation !== db.generation) return refuse(409, 'the shop was reset during the confirm');
    if (!taken) {
      if (order.state === 'created' || order.state === 'released') order.state = 'refused';
      return refuse(409, '재고 부족');
    }
    order.state = 'reserved';
    order.payment = impUid;
    holdUntilDecided(order, impUid);
    return OK;
  }

  async function release(order: Order): Promise<void> {
    if (flaw === 'no-release' || order.state !== 'reserved') return;
    clearTimeout(order.holdTimer);
    order.state = 'released';
    order.payment = null;
    await db.giveBack(order.quantity);
  }

  /** Settles a reservation by what the gateway says the payment became; undecided ones are asked again later. */
  async function settle(order: Order, payment: V1Payment): Promise<void> {
    if (order.payment !== payment.imp_uid) return;
    if (payment.status === 'paid' && order.state === 'reserved') {
      clearTimeout(order.holdTimer);
      order.state = 'paid';
    } else if (payment.status === 'failed') {
      await release(order);
    } else if (payment.status === 'cancelled' && (order.state === 'reserved' || order.state === 'paid')) {
      if (order.state === 'paid') order.state = 'reserved';
      await release(order);
    }
  }

  function holdUntilDecided(order: Order, impUid: string): void {
    if (flaw === 'no-release') return;
    clearTimeout(order.holdTimer);
    order.holdTimer = setTimeout(() => {
      if (order.state !== 'reserved' || order.payment !== impUid) return;
      client.getPayment(impUid).then(
        async (payment) => {
          if (payment === null) await release(order);
          else {
            await settle(order, payment);
            if (order.state === 'reserved' && order.payment === impUid) holdUntilDecided(order, impUid);
          }
        },
        () => holdUntilDecided(order, impUid),
      );
    }, options.holdMs).unref();
  }

  async function confirm(request: DocRequest): Promise<DocAnswer> {
    const body = jsonObject(request);
    const { imp_uid: impUid, merchant_uid: merchantUid, amount } = body ?? {};
    if (typeof impUid !== 'string' || typeof merchantUid !== 'string' || (amount !== undefined && typeof amount !== 'number')) {
      return refuse(400, 'imp_uid and merchant_uid are required');
    }
    if (flaw === 'trusting') {
      // Takes the confirm body on faith: anyone who can POST here buys at the order's price.
      const order = await db.findOrder(merchantUid);
      if (order === undefined) return refuse(404, `unknown order ${merchantUid}`);
      if (amount !== undefined && amount !== order.amount) return refuse(409, '위조된 결제시도');
      if (order.state === 'reserved' || order.state === 'paid') return order.payment === impUid ? OK : refuse(409, 'order already being paid');
      return take(order, impUid);
    }
    let payment: V1Payment | null;
    try {
      payment = await client.getPayment(impUid);
    } catch (error) {
      return refuse(503, `could not look the payment up: ${(error as Error).message}`);
    }
    if (payment === null) return refuse(404, `no payment ${impUid}`);
    if (payment.merchant_uid !== merchantUid) return refuse(409, `payment ${impUid} is not for order ${merchantUid}`);
    const order = await db.findOrder(payment.merchant_uid);
    if (order === undefined) return refuse(404, `unknown order ${merchantUid}`);
    if (payment.amount !== order.amount) return refuse(409, '위조된 결제시도');
    if (payment.status !== 'ready') return refuse(409, `payment ${impUid} is ${payment.status}`);
    // The same confirm again (a retry, a double click): the same answer, no second unit.
    if (order.state === 'reserved' || order.state === 'paid') return order.payment === impUid ? OK : refuse(409, 'order already being paid');
    return take(order, impUid);
  }

  /** The webhook guide's handler: look the payment up, compare the amount, act on the status it shows. */
  async function notice(request: DocRequest): Promise<DocAnswer> {
    const body = jsonObject(request);
    const { imp_uid: impUid, merchant_uid: merchantUid, status } = body ?? {};
    if (typeof impUid !== 'string') return refuse(400, 'imp_uid is required');
    if (flaw === 'trusting') {
      const order = typeof merchantUid === 'string' ? await db.findOrder(merchantUid) : undefined;
      if (order === undefined) return refuse(404, 'unknown order');
      if (typeof status === 'string') await settle(order, { imp_uid: impUid, merchant_uid: order.merchantUid, amount: order.amount, status });
      return OK;
    }
    let payment: V1Payment | null;
    try {
      payment = await client.getPayment(impUid);
    } catch (error) {
      return refuse(500, `could not look the payment up: ${(error as Error).message}`);
    }
    if (payment === null) return refuse(400, 'no such payment');
    const order = await db.findOrder(payment.merchant_uid);
    if (order === undefined) return refuse(400, 'unknown order');
    if (payment.amount !== order.amount) return refuse(400, '위조된 결제시도');
    await settle(order, payment);
    return OK;
  }

  return { confirm, notice };
}
