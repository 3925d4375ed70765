import { newImpUid, newTransactionId, type ConfirmOrder } from '../protocol/index.js';

/** A confirm's order plus the quantity the order hook is told, so the amount is price × quantity. */
export interface TestOrder extends ConfirmOrder {
  quantity: number;
}

/**
 * Hands out order ids unique to one run and case, `cs-<run>-<case>-<n>`: reruns against a merchant that
 * keeps its orders never collide, and a merchant's log shows which case sent what. Always under the
 * gateway's 40-character limit.
 */
export class OrderIds {
  readonly #runId: string;
  #next = 1;

  constructor(runId: string) {
    this.#runId = runId;
  }

  next(caseId: number): string {
    return `cs-${this.#runId}-${caseId}-${this.#next++}`;
  }
}

export function newTestOrder(merchantUid: string, price: number, quantity: number): TestOrder {
  return {
    merchantUid,
    impUid: newImpUid(),
    transactionId: newTransactionId(),
    amount: price * quantity,
    quantity,
    status: 'ready',
  };
}
