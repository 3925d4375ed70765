import restClient from 'iamport-rest-client-nodejs';
import type { V1Client, V1Payment } from './v1-shop.js';

const { Iamport, Request } = restClient;

/**
 * The V1 lookups through `iamport-rest-client-nodejs`, as its README shows them:
 * `new Iamport({ apiKey, apiSecret, baseUrl })`, then `Request.Payments.getByImpUid({ imp_uid }).request(iamport)`,
 * whose `data.response` is the payment. An axios error with status 404 is an unknown imp_uid.
 */
export function restClientClient(gatewayUrl: string, apiKey: string, apiSecret: string): V1Client {
  const iamport = new Iamport({ apiKey, apiSecret, baseUrl: gatewayUrl });
  return {
    async getPayment(impUid) {
      try {
        const answer = await Request.Payments.getByImpUid({ imp_uid: impUid }).request(iamport);
        return answer.data.response as V1Payment;
      } catch (error) {
        const failed = error as { response?: { status?: number; data?: { code?: number; message?: string } }; message?: string };
        if (failed.response?.status === 404) return null;
        throw new Error(failed.response?.data?.message ?? failed.message ?? 'the REST API call failed');
      }
    },
  };
}
