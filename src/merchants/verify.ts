import { V1Lookup, LookupError } from './lookup/v1.js';
import { V2Lookup } from './lookup/v2.js';
import type { PaymentStatus } from './shop.js';

/** Where a REST-verifying merchant looks payments up, and with which credentials. */
export interface MerchantGatewayOptions {
  /** The REST API's base URL: the simulated gateway's `url`, or https://api.iamport.kr / https://api.portone.io. */
  url: string;
  /** V1 REST API key; default the simulated gateway's test key. */
  impKey?: string;
  impSecret?: string;
  /** V2 API secret; default the simulated gateway's. */
  apiSecret?: string;
  /** V2 store id, when the API secret reaches several stores. */
  storeId?: string;
  /** Each REST call's deadline; default 3 s, inside the gateway's 5 s wait for the confirm answer. */
  timeoutMs?: number;
}

/** The payment a confirm named, remembered with the order it took stock for. */
export type PaymentRef = { api: 'v1'; impUid: string } | { api: 'v2'; paymentId: string; transactionId: string };

/** What a payment's state means for the stock it holds: still undecided, sold, or to give back. */
export type PaymentFate = PaymentStatus | 'pending';

export interface ConfirmClaim {
  ref: PaymentRef;
  merchantUid: string;
}

export type ClaimCheck = { ok: true } | { ok: false; status: number; reason: string };

/** A notice's payment as the gateway shows it: the order it belongs to and what became of it. */
export interface NoticeFacts {
  ref: PaymentRef;
  merchantUid: string;
  fate: PaymentFate;
}

export const DEFAULT_LOOKUP_TIMEOUT_MS = 3_000;
/** A burst's confirms all look up at once; this many sockets keep that from queueing behind one another. */
const LOOKUP_CONNECTIONS = 128;
/** Matches the simulated gateway's test credentials (src/gateway), so `--gateway <url>` is all a user gives. */
export const DEFAULT_GATEWAY_IMP_KEY = 'confirm_sim_key';
export const DEFAULT_GATEWAY_IMP_SECRET = 'confirm_sim_secret';
export const DEFAULT_GATEWAY_API_SECRET = 'confirm_sim_api_secret';

const V1_FATES = new Map<string, PaymentFate>([
  ['ready', 'pending'],
  ['paid', 'paid'],
  ['failed', 'failed'],
  ['cancelled', 'cancelled'],
]);

const V2_FATES = new Map<string, PaymentFate>([
  ['READY', 'pending'],
  ['PAY_PENDING', 'pending'],
  ['VIRTUAL_ACCOUNT_ISSUED', 'pending'],
  ['PAID', 'paid'],
  // A partial cancel keeps the item sold: only a full cancel gives the unit back.
  ['PARTIAL_CANCELLED', 'paid'],
  ['FAILED', 'failed'],
  ['CANCELLED', 'cancelled'],
]);

/**
 * Looks payments up the way the docs tell a merchant to: never trust a confirm or notice body, ask the
 * gateway's REST API (V1 with its token, V2 through PortOne's SDK) and compare what it says with the order.
 */
export class PaymentVerifier {
  readonly v1: V1Lookup;
  readonly v2: V2Lookup;

  constructor(gateway: MerchantGatewayOptions) {
    const timeoutMs = gateway.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
    this.v1 = new V1Lookup({
      baseUrl: gateway.url,
      impKey: gateway.impKey ?? DEFAULT_GATEWAY_IMP_KEY,
      impSecret: gateway.impSecret ?? DEFAULT_GATEWAY_IMP_SECRET,
      timeoutMs,
      connections: LOOKUP_CONNECTIONS,
    });
    this.v2 = new V2Lookup({
      baseUrl: gateway.url,
      apiSecret: gateway.apiSecret ?? DEFAULT_GATEWAY_API_SECRET,
      storeId: gateway.storeId,
      timeoutMs,
    });
  }

  /**
   * A confirm is legitimate only if the gateway has that payment, for this order, at the order's amount, and
   * about to be charged. Anything else is refused; a gateway that cannot be asked refuses too (503).
   */
  async checkConfirm(claim: ConfirmClaim, orderAmount: number): Promise<ClaimCheck> {
    try {
      return claim.ref.api === 'v1' ? await this.#checkV1(claim.ref.impUid, claim.merchantUid, orderAmount)
        : await this.#checkV2(claim.ref, orderAmount);
    } catch (error) {
      if (error instanceof LookupError) return { ok: false, status: 503, reason: `could not verify the payment: ${error.message}` };
      throw error;
    }
  }

  async #checkV1(impUid: string, merchantUid: string, orderAmount: number): Promise<ClaimCheck> {
    const payment = await this.v1.payment(impUid);
    if (payment === null) return { ok: false, status: 404, reason: `the gateway has no payment ${impUid}` };
    if (payment.merchant_uid !== merchantUid) {
      return { ok: false, status: 409, reason: `payment ${impUid} belongs to order ${payment.merchant_uid}, not ${merchantUid}` };
    }
    if (payment.amount !== orderAmount) {
      return { ok: false, status: 409, reason: `payment ${impUid} is for ${payment.amount}, the order costs ${orderAmount}` };
    }
    if (payment.status !== 'ready') {
      return { ok: false, status: 409, reason: `payment ${impUid} is ${payment.status}, not ready to be charged` };
    }
    return { ok: true };
  }

  async #checkV2(ref: Extract<PaymentRef, { api: 'v2' }>, orderAmount: number): Promise<ClaimCheck> {
    const payment = await this.v2.payment(ref.paymentId);
    if (payment === null) return { ok: false, status: 404, reason: `the gateway has no payment ${ref.paymentId}` };
    if (payment.transactionId !== ref.transactionId) {
      return { ok: false, status: 409, reason: `payment ${ref.paymentId} is attempt ${payment.transactionId}, not ${ref.transactionId}` };
    }
    if (payment.totalAmount !== orderAmount) {
      return { ok: false, status: 409, reason: `payment ${ref.paymentId} is for ${payment.totalAmount}, the order costs ${orderAmount}` };
    }
    if (payment.status !== 'READY') {
      return { ok: false, status: 409, reason: `payment ${ref.paymentId} is ${payment.status}, not ready to be charged` };
    }
    return { ok: true };
  }

  /** What became of a payment a notice named, or null when the gateway has no such payment. Throws LookupError. */
  async noticeFacts(ref: PaymentRef): Promise<NoticeFacts | null> {
    if (ref.api === 'v1') {
      const payment = await this.v1.payment(ref.impUid);
      if (payment === null) return null;
      return { ref, merchantUid: payment.merchant_uid, fate: V1_FATES.get(payment.status) ?? 'pending' };
    }
    const payment = await this.v2.payment(ref.paymentId);
    if (payment === null) return null;
    return {
      ref: { api: 'v2', paymentId: payment.id, transactionId: payment.transactionId },
      merchantUid: payment.id,
      fate: V2_FATES.get(payment.status) ?? 'pending',
    };
  }

  /** What became of the payment holding an order's stock; throws LookupError when the gateway cannot say. */
  async fate(ref: PaymentRef): Promise<PaymentFate> {
    const facts = await this.noticeFacts(ref);
    // A payment the gateway no longer has will never be charged.
    return facts === null ? 'failed' : facts.fate;
  }

  close(): Promise<void> {
    return this.v1.close();
  }
}

/** Two refs name the same payment attempt. */
export function samePayment(left: PaymentRef, right: PaymentRef): boolean {
  if (left.api === 'v1' && right.api === 'v1') return left.impUid === right.impUid;
  if (left.api === 'v2' && right.api === 'v2') return left.paymentId === right.paymentId && left.transactionId === right.transactionId;
  return false;
}
