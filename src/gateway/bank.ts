import { createHash } from 'node:crypto';

/**
 * The bank behind a simulated bank transfer or virtual account. Real answers name it (V1 by its 금융결제원
 * code and name, V2 by its `Bank` value) and a virtual account carries its number, holder and deadline;
 * merchants show these to the buyer and reconcile deposits with them, so they are filled in. Derived from the
 * payment's id, the same payment always shows the same account in V1 and V2.
 */
export interface SimulatedBank {
  /** 금융결제원 bank code, as V1's bank_code and vbank_code. */
  code: string;
  name: string;
  /** The V2 file's `Bank` value. */
  v2: string;
}

export interface SimulatedVirtualAccount {
  bank: SimulatedBank;
  number: string;
  /** The account's holder: the store the buyer pays. */
  holder: string;
  issuedAtMs: number;
  /** The deposit deadline. */
  expiresAtMs: number;
}

const BANKS: readonly SimulatedBank[] = [
  { code: '004', name: 'KB국민은행', v2: 'KOOKMIN' },
  { code: '088', name: '신한은행', v2: 'SHINHAN' },
  { code: '020', name: '우리은행', v2: 'WOORI' },
  { code: '081', name: '하나은행', v2: 'HANA' },
  { code: '011', name: 'NH농협은행', v2: 'NONGHYUP' },
  { code: '003', name: 'IBK기업은행', v2: 'IBK' },
];

/** What PGs commonly give a buyer to deposit into a virtual account when the merchant sets no due date. */
const VIRTUAL_ACCOUNT_LIFETIME_MS = 3 * 24 * 60 * 60 * 1000;
const VIRTUAL_ACCOUNT_HOLDER = 'confirm-sim 상점';

function digestOf(paymentKey: string): Buffer {
  return createHash('sha256').update(`bank:${paymentKey}`).digest();
}

export function simulatedBank(paymentKey: string): SimulatedBank {
  return BANKS[digestOf(paymentKey)[0]! % BANKS.length]!;
}

/**
 * The account a simulated buyer paid into. The simulated buyer deposits the moment the account is issued,
 * so a paid virtual-account payment was issued when it was charged.
 */
export function simulatedVirtualAccount(paymentKey: string, issuedAtMs: number): SimulatedVirtualAccount {
  const digest = digestOf(paymentKey);
  const number = (digest.readUInt32BE(1) * 1_000 + (digest.readUInt16BE(5) % 1_000)).toString().padStart(13, '0').slice(-13);
  return {
    bank: simulatedBank(paymentKey),
    number,
    holder: VIRTUAL_ACCOUNT_HOLDER,
    issuedAtMs,
    expiresAtMs: issuedAtMs + VIRTUAL_ACCOUNT_LIFETIME_MS,
  };
}
