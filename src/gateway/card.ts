import { createHash } from 'node:crypto';

/**
 * The card a simulated card payment was paid with. Real answers carry the card company, a masked number and
 * the approval details; client code reads them (receipts, refunds to the right issuer), so they are filled in.
 * Derived from the payment's id, the same payment always shows the same card in V1 and V2.
 */
export interface SimulatedCard {
  /** The gateway's V1 card company code (금융결제원 code) and name. */
  code: string;
  name: string;
  /** V2 names the publisher (card company) and the issuer (the bank behind it) separately. */
  publisher: string;
  issuer: string;
  /** The first six digits. */
  bin: string;
  /** As the gateway shows it: first six and last four digits, the rest masked. */
  maskedNumber: string;
  /** V1 card_type: 0 credit, 1 check (debit). */
  v1Type: 0 | 1;
  v2Type: 'CREDIT' | 'DEBIT';
}

const CARD_COMPANIES = [
  { code: '361', name: 'BC카드', bin: '910003' },
  { code: '366', name: '신한카드', bin: '451842' },
  { code: '365', name: '삼성카드', bin: '536181' },
  { code: '381', name: 'KB국민카드', bin: '457973' },
  { code: '367', name: '현대카드', bin: '433028' },
  { code: '368', name: '롯데카드', bin: '404825' },
  { code: '371', name: 'NH농협카드', bin: '546111' },
] as const;

export function simulatedCard(paymentKey: string): SimulatedCard {
  const digest = createHash('sha256').update(paymentKey).digest();
  const company = CARD_COMPANIES[digest[0]! % CARD_COMPANIES.length]!;
  const last4 = (digest.readUInt16BE(1) % 10_000).toString().padStart(4, '0');
  const debit = digest[3]! % 4 === 0;
  return {
    code: company.code,
    name: company.name,
    publisher: company.name,
    issuer: company.name,
    bin: company.bin,
    maskedNumber: `${company.bin}******${last4}`,
    v1Type: debit ? 1 : 0,
    v2Type: debit ? 'DEBIT' : 'CREDIT',
  };
}
