import { setTimeout as sleep } from 'node:timers/promises';
import type { Flaw } from './flaws.js';
import { abortableByAll } from '../util/abort.js';
import { samePayment, type PaymentFate, type PaymentRef } from './verify.js';

export interface ShopConfig {
  stock: number;
  price: number;
  flaw: Flaw | undefined;
  openOrders: boolean;
  holdMs: number | undefined;
  dbLatencyMs: number;
  maxOrders: number;
  /**
   * Asks the gateway what became of the payment holding a reservation whose hold ran out (a REST-verifying
   * merchant); without it the reservation simply lapses. A rejection (gateway unreachable) asks again later.
   */
  checkFate?: ((ref: PaymentRef) => Promise<PaymentFate>) | undefined;
}

/** The merchant's answer to one confirm: 200 goes on, any other status refuses with `reason`. */
export interface ConfirmOutcome {
  status: number;
  reason: string | null;
}

/** The payment states a notice (V1 webhook status or V2 webhook type) can report that change stock. */
export type PaymentStatus = 'paid' | 'failed' | 'cancelled';

export type CreateOrderResult = 'created' | 'exists' | 'conflict' | 'full';

/** One order as GET /orders lists it. */
export interface OrderView {
  merchant_uid: string;
  amount: number;
  quantity: number;
  state: OrderState;
  /** Units the order holds out of stock now. */
  held: number;
}

/** One page of GET /orders: `next` is the offset of the following page, null on the last. */
export interface OrderPage {
  orders: OrderView[];
  total: number;
  next: number | null;
}

export type OrderState = 'open' | 'reserved' | 'paid' | 'refused' | 'released';

interface Order {
  readonly merchantUid: string;
  readonly amount: number;
  readonly quantity: number;
  state: OrderState;
  /** Units this order holds out of stock now; the `double` flaw can make it more than `quantity`. */
  heldUnits: number;
  holdTimer: NodeJS.Timeout | undefined;
  /** The payment that took the stock, when the confirm named one. */
  payment: PaymentRef | undefined;
}

const SOLD_OUT = 'sold out';
const ACCEPTED: ConfirmOutcome = { status: 200, reason: null };

/** The merchant's business state: orders and stock, and what a confirm or a payment notice does to them. */
export class Shop {
  readonly #config: ShopConfig;
  readonly #orders = new Map<string, Order>();
  /** The same orders in arrival order, so a page is a slice; orders are only ever forgotten all at once. */
  readonly #orderList: Order[] = [];
  readonly #closing = abortableByAll();
  #stock: number;

  constructor(config: ShopConfig) {
    this.#config = config;
    this.#stock = config.stock;
  }

  get stock(): number {
    return this.#stock;
  }

  createOrder(merchantUid: string, amount: number, quantity: number): CreateOrderResult {
    const existing = this.#orders.get(merchantUid);
    if (existing) return existing.amount === amount && existing.quantity === quantity ? 'exists' : 'conflict';
    return this.#addOrder(merchantUid, amount, quantity) === null ? 'full' : 'created';
  }

  fullReason(): string {
    return `the merchant keeps at most ${this.#config.maxOrders} orders (--max-orders); POST /reset forgets them`;
  }

  listOrders(offset: number, limit: number): OrderPage {
    const orders = this.#orderList.slice(offset, offset + limit).map((order) => ({
      merchant_uid: order.merchantUid,
      amount: order.amount,
      quantity: order.quantity,
      state: order.state,
      held: order.heldUnits,
    }));
    const end = offset + orders.length;
    return { orders, total: this.#orderList.length, next: end < this.#orderList.length ? end : null };
  }

  /**
   * Decides one confirm. Synchronous for every merchant but `race`, so the stock check and the take happen
   * with nothing in between: in the one JS thread, no other confirm can run between the read and the write.
   */
  /** The amount an order must be paid with: its own, the list price for a new open order, or null if unknown. */
  expectedAmount(merchantUid: string): number | null {
    const order = this.#orders.get(merchantUid);
    if (order) return order.amount;
    return this.#config.openOrders ? this.#config.price : null;
  }

  confirm(merchantUid: string, amount: number | null, payment?: PaymentRef): ConfirmOutcome | Promise<ConfirmOutcome> {
    const { flaw } = this.#config;
    const order = this.#orderFor(merchantUid);
    if (!('quantity' in order)) return order;
    if (amount !== null && amount !== order.amount) {
      if (flaw === 'lenient') return ACCEPTED;
      return { status: 409, reason: `amount ${amount} does not match the order's ${order.amount}` };
    }
    switch (order.state) {
      case 'refused':
        return { status: 409, reason: SOLD_OUT };
      case 'paid':
        if (flaw !== 'double') return { status: 409, reason: 'order already paid' };
        break;
      case 'reserved':
        if (flaw !== 'double') return ACCEPTED;
        break;
      case 'open':
      case 'released':
        break;
    }
    if (payment !== undefined && order.state !== 'reserved' && order.state !== 'paid') order.payment = payment;
    return flaw === 'race' ? this.#takeWithDatabaseGap(order) : this.#take(order);
  }

  /**
   * Manual confirm's `race` flaw: reads the stock, awaits `charge` (the confirm call to the gateway), then writes
   * what it read minus the order's quantity, whatever other completions wrote meanwhile. `charge` runs only when
   * the read showed stock; when it says nothing was charged the stock is left alone.
   */
  async takeAcross(merchantUid: string, charge: () => Promise<boolean>): Promise<ConfirmOutcome> {
    const order = this.#orderFor(merchantUid);
    if (!('quantity' in order)) return order;
    if (order.state === 'refused') return { status: 409, reason: SOLD_OUT };
    if (order.state === 'paid' || order.state === 'reserved') return (await charge()) ? ACCEPTED : { status: 402, reason: 'not charged' };
    const read = this.#stock;
    if (read < order.quantity) return this.#refuse(order);
    if (!(await charge())) return { status: 402, reason: 'not charged' };
    this.#stock = read - order.quantity;
    this.#hold(order);
    return ACCEPTED;
  }

  /** The order a confirm names; an unseen one becomes an open order with openOrders; else why not. */
  #orderFor(merchantUid: string): Order | ConfirmOutcome {
    const order = this.#orders.get(merchantUid);
    if (order) return order;
    if (this.#config.openOrders) return this.#addOrder(merchantUid, this.#config.price, 1) ?? { status: 503, reason: this.fullReason() };
    if (this.#config.flaw === 'lenient') return ACCEPTED;
    return { status: 404, reason: `unknown order ${merchantUid}` };
  }

  /**
   * What a notice reports. With `payment`, only the attempt that holds the order's stock counts: a second,
   * failed attempt at an order must not give back the stock of the first, paid one.
   */
  applyPaymentStatus(merchantUid: string, status: PaymentStatus, payment?: PaymentRef): void {
    const order = this.#orders.get(merchantUid);
    if (!order) return;
    if (payment !== undefined && order.payment !== undefined && !samePayment(order.payment, payment)) return;
    // The `no-release` merchant forgets that a confirmed payment can still fail.
    if (status === 'failed' && this.#config.flaw === 'no-release') return;
    switch (status) {
      case 'paid':
        // A paid notice for a reservation that already lapsed changes nothing: its unit went back to stock.
        if (order.state === 'reserved') {
          order.state = 'paid';
          clearTimeout(order.holdTimer);
        }
        return;
      case 'failed':
        if (order.state === 'reserved') this.#release(order);
        return;
      case 'cancelled':
        if (order.state === 'reserved' || order.state === 'paid') this.#release(order);
        return;
    }
  }

  reset(stock = this.#config.stock): void {
    for (const order of this.#orders.values()) clearTimeout(order.holdTimer);
    this.#orders.clear();
    this.#orderList.length = 0;
    this.#stock = stock;
  }

  close(): void {
    this.#closing.abort();
    for (const order of this.#orders.values()) clearTimeout(order.holdTimer);
  }

  /** Null when the order book is full: a merchant under attack refuses new orders rather than run out of memory. */
  #addOrder(merchantUid: string, amount: number, quantity: number): Order | null {
    if (this.#orderList.length >= this.#config.maxOrders) return null;
    const order: Order = { merchantUid, amount, quantity, state: 'open', heldUnits: 0, holdTimer: undefined, payment: undefined };
    this.#orders.set(merchantUid, order);
    this.#orderList.push(order);
    return order;
  }

  #take(order: Order): ConfirmOutcome {
    if (this.#stock < order.quantity) return this.#refuse(order);
    this.#stock -= order.quantity;
    this.#hold(order);
    return ACCEPTED;
  }

  /** The `race` flaw: the classic read, await the database, write `read - quantity`, which loses updates. */
  async #takeWithDatabaseGap(order: Order): Promise<ConfirmOutcome> {
    const read = this.#stock;
    await sleep(this.#config.dbLatencyMs, undefined, { signal: this.#closing.signal });
    if (read < order.quantity) return this.#refuse(order);
    this.#stock = read - order.quantity;
    this.#hold(order);
    return ACCEPTED;
  }

  #refuse(order: Order): ConfirmOutcome {
    // Only a first attempt is remembered as refused; a `double` repeat keeps the units it already holds.
    if (order.state === 'open' || order.state === 'released') order.state = 'refused';
    return { status: 409, reason: SOLD_OUT };
  }

  #hold(order: Order): void {
    order.heldUnits += order.quantity;
    if (order.state === 'paid') return;
    order.state = 'reserved';
    const { holdMs } = this.#config;
    if (holdMs === undefined) return;
    clearTimeout(order.holdTimer);
    // V1 sends no notice when a payment fails, so an unpaid reservation must lapse on its own.
    order.holdTimer = setTimeout(() => this.#holdExpired(order, holdMs), holdMs).unref();
  }

  /**
   * A merchant that can look the payment up settles the reservation by what the gateway says, and asks again
   * while it is undecided: a payment still `ready` may yet be charged, so its unit must not be sold twice.
   */
  #holdExpired(order: Order, holdMs: number): void {
    if (order.state !== 'reserved') return;
    if (this.#config.flaw === 'no-release') return;
    const { checkFate } = this.#config;
    const ref = order.payment;
    if (checkFate === undefined || ref === undefined) {
      this.#release(order);
      return;
    }
    const again = (): void => {
      if (this.#closing.signal.aborted || order.state !== 'reserved' || order.payment !== ref) return;
      order.holdTimer = setTimeout(() => this.#holdExpired(order, holdMs), holdMs).unref();
    };
    checkFate(ref).then((fate) => {
      if (order.state !== 'reserved' || order.payment !== ref) return;
      if (fate === 'pending') again();
      else this.applyPaymentStatus(order.merchantUid, fate, ref);
    }, again);
  }

  /** Gives an order's units back to stock; the `leak` flaw is a merchant that never does. */
  #release(order: Order): void {
    if (this.#config.flaw === 'leak') return;
    clearTimeout(order.holdTimer);
    this.#stock += order.heldUnits;
    order.heldUnits = 0;
    order.state = 'released';
  }
}
