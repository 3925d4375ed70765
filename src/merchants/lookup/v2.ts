import { setTimeout as sleep } from 'node:timers/promises';
import type { PaymentClient, Payment as PortOneTypes } from '@portone/server-sdk';
import { LookupError } from './v1.js';

type PortOnePayment = typeof import('@portone/server-sdk/payment');

/**
 * The SDK is some 400 modules: loaded on first use, so commands that never look a V2 payment up start as
 * fast as before (and still start under a tight `ulimit -n`).
 */
let portOne: Promise<PortOnePayment> | undefined;
export function loadPortOnePayment(): Promise<PortOnePayment> {
  portOne ??= import('@portone/server-sdk/payment');
  return portOne;
}

/** What the merchant reads of a V2 payment (`GET /payments/{paymentId}` through PortOne's SDK). */
export interface V2PaymentFacts {
  id: string;
  transactionId: string;
  status: string;
  totalAmount: number;
  currency: string;
}

export interface V2LookupOptions {
  /** The REST API's origin, e.g. http://127.0.0.1:4000 (the SDK's `baseUrl`). */
  baseUrl: string;
  /** The V2 API secret (`Authorization: PortOne <secret>`). */
  apiSecret: string;
  storeId?: string | undefined;
  /** Each REST call's deadline: the SDK has none of its own. */
  timeoutMs: number;
}

/** The V2 REST API through PortOne's own server SDK, exactly as a V2 merchant's handler calls it. */
export class V2Lookup {
  readonly #options: V2LookupOptions;
  #client: Promise<PaymentClient> | undefined;

  constructor(options: V2LookupOptions) {
    this.#options = options;
  }

  /** PortOne's PaymentClient, pointed at the gateway with `baseUrl`, exactly as a merchant configures it. */
  client(): Promise<PaymentClient> {
    const { apiSecret, baseUrl, storeId } = this.#options;
    this.#client ??= loadPortOnePayment().then((sdk) => sdk.PaymentClient({ secret: apiSecret, baseUrl, storeId }));
    return this.#client;
  }

  /** The payment, or null when the gateway has none with that id (PAYMENT_NOT_FOUND). */
  async payment(paymentId: string): Promise<V2PaymentFacts | null> {
    const PortOne = await loadPortOnePayment();
    const client = await this.client();
    let payment: PortOneTypes.Payment;
    try {
      payment = await this.withDeadline(`getPayment(${paymentId})`, client.getPayment({ paymentId }));
    } catch (error) {
      if (error instanceof PortOne.GetPaymentError && error.data.type === 'PAYMENT_NOT_FOUND') return null;
      throw asLookupError(`getPayment(${paymentId})`, error, PortOne);
    }
    if (PortOne.isUnrecognizedPayment(payment)) {
      throw new LookupError(`getPayment(${paymentId}) answered a payment of unknown status ${JSON.stringify(payment.status)}`);
    }
    return {
      id: payment.id,
      transactionId: payment.transactionId,
      status: payment.status,
      totalAmount: payment.amount.total,
      currency: payment.currency,
    };
  }

  /** Races an SDK call against the deadline, so a hung gateway cannot hold a confirm past the gateway's timeout. */
  async withDeadline<T>(call: string, promise: Promise<T>): Promise<T> {
    const timer = new AbortController();
    const { timeoutMs } = this.#options;
    const deadline = sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => {
      throw new LookupError(`${call} got no answer within ${timeoutMs} ms`);
    });
    try {
      return await Promise.race([promise, deadline]);
    } finally {
      timer.abort();
      deadline.catch(() => {});
    }
  }
}

export function asLookupError(call: string, error: unknown, PortOne: PortOnePayment): LookupError {
  if (error instanceof LookupError) return error;
  if (error instanceof PortOne.PaymentError) return new LookupError(`${call} failed: ${String(error.data.type)} ${error.message}`);
  return new LookupError(`${call} failed: ${error instanceof Error ? error.message : String(error)}`);
}
