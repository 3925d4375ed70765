import Iamport from 'iamport';
import type { V1Client, V1Payment } from './v1-shop.js';

/**
 * The V1 lookups through the `iamport` npm client, as its README shows them:
 * `new Iamport({ impKey, impSecret })`, then `iamport.payment.getByImpUid({ imp_uid })`. The client has no
 * base-URL option; its resources read `Iamport.DEFAULT_HOST` when the client is made, so that is set first.
 */
export function iamportClient(gatewayUrl: string, impKey: string, impSecret: string): V1Client {
  const documentedHost = Iamport.DEFAULT_HOST;
  Iamport.DEFAULT_HOST = gatewayUrl;
  let iamport: Iamport;
  try {
    iamport = new Iamport({ impKey, impSecret });
  } finally {
    Iamport.DEFAULT_HOST = documentedHost;
  }
  return {
    async getPayment(impUid) {
      try {
        return (await iamport.payment.getByImpUid({ imp_uid: impUid })) as unknown as V1Payment;
      } catch (error) {
        if ((error as { code?: string }).code === 'HTTP_404') return null;
        throw error;
      }
    },
  };
}
