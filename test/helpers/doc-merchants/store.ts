import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The merchant's database, as the docs' examples assume one (`Orders.findById`, an atomic stock update):
 * orders by merchant_uid and one product's stock. Each call costs a round trip, as a real database does,
 * so a handler that reads, decides and then writes (the `racy` flaw) loses updates under a burst, while the
 * conditional update (`UPDATE products SET stock = stock - $1 WHERE stock >= $1`) never does.
 */

/** One database round trip. */
const ROUND_TRIP_MS = 1;
/**
 * What a read-then-write handler does between the two (its ORM, a log line, the order's own row), as a real
 * one does. With only the two 1 ms round trips the window was so narrow that on a busy machine, where the
 * lookups before it spread the confirms out, a burst could pass through it without a lost update.
 */
const RACY_DECIDE_MS = 20;

export type OrderState = 'created' | 'reserved' | 'paid' | 'released' | 'refused';

export interface Order {
  readonly merchantUid: string;
  readonly amount: number;
  readonly quantity: number;
  state: OrderState;
  /** The payment holding the order's stock: V1 imp_uid, V2 transactionId. */
  payment: string | null;
  holdTimer: NodeJS.Timeout | undefined;
}

export class MerchantDatabase {
  readonly orders = new Map<string, Order>();
  #stock: number;
  /** Bumped by every reset: a handler that started before one must not touch the new sale. */
  generation = 0;

  constructor(stock: number) {
    this.#stock = stock;
  }

  get stock(): number {
    return this.#stock;
  }

  createOrder(merchantUid: string, amount: number, quantity: number): 'created' | 'exists' | 'conflict' {
    const existing = this.orders.get(merchantUid);
    if (existing) return existing.amount === amount && existing.quantity === quantity ? 'exists' : 'conflict';
    this.orders.set(merchantUid, { merchantUid, amount, quantity, state: 'created', payment: null, holdTimer: undefined });
    return 'created';
  }

  async findOrder(merchantUid: string): Promise<Order | undefined> {
    await sleep(ROUND_TRIP_MS);
    return this.orders.get(merchantUid);
  }

  /** `UPDATE products SET stock = stock - $1 WHERE stock >= $1`: the check and the write are one statement. */
  async takeStock(quantity: number): Promise<boolean> {
    await sleep(ROUND_TRIP_MS);
    if (this.#stock < quantity) return false;
    this.#stock -= quantity;
    return true;
  }

  /** `SELECT stock FROM products`: half of the racy merchant's read-then-write. */
  async readStock(): Promise<number> {
    await sleep(ROUND_TRIP_MS);
    return this.#stock;
  }

  /** `UPDATE products SET stock = $1`: the other half, which overwrites whatever happened in between. */
  async writeStock(stock: number): Promise<void> {
    await sleep(ROUND_TRIP_MS);
    this.#stock = stock;
  }

  /**
   * How a handler takes stock: in one statement, or (the racy merchant's classic mistake) read, decide and
   * write what was read minus the quantity, so a burst's confirms all read the same stock.
   */
  async take(quantity: number, { racy }: { racy: boolean }): Promise<boolean> {
    if (!racy) return this.takeStock(quantity);
    const stock = await this.readStock();
    if (stock < quantity) return false;
    await sleep(RACY_DECIDE_MS);
    await this.writeStock(stock - quantity);
    return true;
  }

  async giveBack(quantity: number): Promise<void> {
    await sleep(ROUND_TRIP_MS);
    this.#stock += quantity;
  }

  reset(stock: number): void {
    for (const order of this.orders.values()) clearTimeout(order.holdTimer);
    this.orders.clear();
    this.#stock = stock;
    this.generation++;
  }

  close(): void {
    for (const order of this.orders.values()) clearTimeout(order.holdTimer);
  }
}
