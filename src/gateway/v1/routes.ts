import type { Gateway } from '../gateway.js';
import { optionalString } from '../fields.js';
import type { Route } from '../routes.js';
import type { TokenIssuer } from '../tokens.js';
import { v1PreparationView } from './view.js';

/** The V1 REST API (api.iamport.kr) that merchants call through iamport's client libraries. */
export function v1Routes(gateway: Gateway, tokens: TokenIssuer): Route[] {
  const { store } = gateway;
  return [
    {
      method: 'POST',
      path: '/users/getToken',
      summary: 'access token for {imp_key, imp_secret}',
      auth: false,
      handle: ({ fields }) => tokens.issue(optionalString(fields, 'imp_key'), optionalString(fields, 'imp_secret')),
    },
    {
      method: 'GET',
      path: '/payments/prepare/{merchant_uid}',
      summary: 'the amount prepared for an order',
      auth: true,
      handle: ({ params: [merchantUid = ''] }) => v1PreparationView(store.preparation(merchantUid)),
    },
    {
      method: 'POST',
      path: '/payments/prepare',
      summary: 'prepare the amount of an order {merchant_uid, amount}',
      auth: true,
      handle: ({ fields }) => v1PreparationView(gateway.prepareFromFields(fields)),
    },
    {
      method: 'PUT',
      path: '/payments/prepare',
      summary: 'change a prepared amount {merchant_uid, amount}',
      auth: true,
      handle: ({ fields }) => v1PreparationView(gateway.editPreparationFromFields(fields)),
    },
    {
      method: 'GET',
      path: '/payments/find/{merchant_uid}',
      summary: 'the latest payment of an order',
      auth: true,
      handle: ({ params: [merchantUid = ''] }) => gateway.v1View(store.byMerchantUid(merchantUid)),
    },
    {
      method: 'GET',
      path: '/payments/find/{merchant_uid}/{payment_status}',
      summary: 'the latest payment of an order in that status',
      auth: true,
      handle: ({ params: [merchantUid = '', status] }) => gateway.v1View(store.byMerchantUid(merchantUid, status)),
    },
    {
      method: 'POST',
      path: '/payments/cancel',
      summary: 'cancel all or part {imp_uid | merchant_uid, amount?, reason?, checksum?, enable_webhook?}',
      auth: true,
      handle: async ({ fields }) => (await gateway.cancelPaymentFromFields(fields)).payment,
    },
    {
      method: 'GET',
      path: '/payments/{imp_uid}',
      summary: 'a payment',
      auth: true,
      handle: ({ params: [impUid = ''] }) => gateway.v1View(store.byImpUid(impUid)),
    },
  ];
}
