import { fireConfirm, type FireOptions, type FireResult } from '../fire/index.js';
import type { Dialect, WebhookSecret } from '../protocol/index.js';
import { isLoopbackHost } from '../util/url.js';
import type { MerchantHooks } from './hooks.js';
import type { CheckGateway, CheckGatewayPlan } from './gateway.js';
import { newTestOrder, type OrderIds, type TestOrder } from './orders.js';
import type { CompletionTemplate } from '../protocol/completion.js';
import type { Flow, SuccessStatuses } from '../protocol/flows.js';
import type { BurstSettings, CaseName, CaseOutcome, CheckProduct, LoadSettings, MerchantHookUrls } from './types.js';

/** Everything about the run a case may look at before deciding whether it can run at all. */
export interface CheckSetup {
  url: string;
  dialect: Dialect;
  secret: WebhookSecret | undefined;
  timeoutMs: number;
  hooks: MerchantHookUrls;
  hookHeaders: Record<string, string>;
  product: CheckProduct;
  strict: boolean;
  p99BudgetMs: number;
  maxErrorRate: number;
  releaseBudgetMs: number;
  load: LoadSettings;
  burst: BurstSettings;
  /** check --gateway; null without one. */
  gateway: CheckGatewayPlan | null;
  /** Which contract is checked: the Confirm Process's cases, or manual confirm's. */
  flow: Flow;
  /** manual-confirm: what a buyer's front end posts and which answers mean paid; null otherwise. */
  completion: { template: CompletionTemplate; success: SuccessStatuses; tokenLifetimeMs: number | null } | null;
}

export function isLoopbackTarget(setup: CheckSetup): boolean {
  return isLoopbackHost(new URL(setup.url).hostname);
}

/**
 * What a confirm call may change from the case's defaults (a bad body, no signature, ...). A `signal` replaces
 * the case's own, so it must be one that also aborts when the case's does (see case 8's lanes).
 */
export type ConfirmOverrides = Omit<FireOptions, 'url' | 'dialect' | 'order' | 'timeoutMs'>;

/**
 * One case's handle on the merchant: fresh orders (created through the order hook when there is one), the
 * stock hooks, and confirm calls with the run's dialect, secret and timeout.
 */
export class CaseContext {
  readonly setup: CheckSetup;
  readonly hooks: MerchantHooks;
  readonly signal: AbortSignal;
  /** The run's payments at the gateway (check --gateway), or null. */
  readonly gateway: CheckGateway | null;
  readonly #caseId: number;
  readonly #ids: OrderIds;

  constructor(setup: CheckSetup, hooks: MerchantHooks, ids: OrderIds, caseId: number, signal: AbortSignal, gateway: CheckGateway | null = null) {
    this.setup = setup;
    this.hooks = hooks;
    this.signal = signal;
    this.gateway = gateway;
    this.#caseId = caseId;
    this.#ids = ids;
  }

  get dialect(): Dialect {
    return this.setup.dialect;
  }

  /** An order id the merchant has never been told about. */
  newOrderId(): string {
    return this.#ids.next(this.#caseId);
  }

  /** An order the merchant knows: created through the order hook, or taken on trust from an open-orders merchant. */
  async knownOrder(quantity = this.setup.product.quantity): Promise<TestOrder> {
    const order = newTestOrder(this.newOrderId(), this.setup.product.price, quantity);
    if (this.setup.hooks.order !== undefined) await this.hooks.createOrder(order);
    return order;
  }

  /** Puts the product back to `stock` when there is a reset hook; without one the merchant keeps what it has. */
  async restock(stock = this.setup.product.stock): Promise<void> {
    if (this.setup.hooks.reset !== undefined) await this.hooks.reset(stock);
  }

  /**
   * Restocks and reads the stock the case starts from (null without a stock probe). Ends the case as skipped
   * when the probe shows fewer than `units` units, since the merchant would rightly refuse for lack of stock.
   */
  async startingStock(units = this.setup.product.quantity): Promise<number | null> {
    await this.restock();
    const stock = await this.stock();
    if (stock !== null && stock < units) {
      const fix = this.setup.hooks.reset === undefined ? 'give a reset hook (`resetUrl`) so confirm-sim can restock before each case' : `raise the product stock (\`product.stock\`) to ${units} or more`;
      throw new CaseSkip(`the stock probe says ${stock} in stock and this case needs ${units}; ${fix}`);
    }
    return stock;
  }

  /** The stock now, or null when there is no stock probe. */
  async stock(): Promise<number | null> {
    return this.setup.hooks.stock === undefined ? null : this.hooks.readStock();
  }

  /**
   * Sends the order's confirm as the gateway does. With a gateway, the payment it names is registered there
   * first (unless the case sends a body of its own, or registered the payment itself), and the answer is
   * handed over (unless `handOver` is false), so the merchant's lookups find the payment and the lifecycle
   * follows the answer.
   */
  async confirm(order: TestOrder, overrides: ConfirmOverrides = {}, options: { handOver?: boolean } = {}): Promise<FireResult> {
    const played = this.gateway !== null && overrides.body === undefined;
    if (played && !this.gateway!.isRegistered(order)) await this.gateway!.register(order);
    const result = await this.#fire(order, overrides);
    // handOver false keeps the payment ready at the gateway: a repeated confirm comes while it is in progress.
    if (played && (options.handOver ?? true)) await this.gateway!.answered(order, result);
    return result;
  }

  /** Hands a confirm's answer to the gateway later (after confirm with handOver false). */
  async handOver(order: TestOrder, result: FireResult): Promise<void> {
    await this.gateway?.answered(order, result);
  }

  /**
   * Sends a confirm the gateway never would: for a payment it does not have, or one of another order, as
   * anyone who can reach the confirm URL could. Nothing is registered and no answer is handed over.
   */
  forgedConfirm(order: TestOrder, overrides: ConfirmOverrides = {}): Promise<FireResult> {
    return this.#fire(order, overrides);
  }

  #fire(order: TestOrder, overrides: ConfirmOverrides): Promise<FireResult> {
    return fireConfirm({
      url: this.setup.url,
      dialect: this.setup.dialect,
      order,
      secret: this.setup.secret,
      timeoutMs: this.setup.timeoutMs,
      signal: this.signal,
      ...overrides,
    });
  }
}

/** Thrown by a case that finds, once running, that it cannot run here; the runner reports it as skipped. */
export class CaseSkip extends Error {
  override name = 'CaseSkip';
}

export interface ContractCase {
  id: number;
  name: CaseName;
  /** One line for lists and test names. */
  title: string;
  /** One paragraph: what is sent, what the contract wants and why it matters; shown by `check --list`. */
  doc: string;
  /** Why this case cannot run in this setup (a missing hook, the wrong dialect), or null when it can. */
  unmet(setup: CheckSetup): string | null;
  run(context: CaseContext): Promise<CaseOutcome>;
}

export function outcome(status: CaseOutcome['status'], message: string, details: Record<string, unknown> = {}): CaseOutcome {
  return { status, message, details };
}
