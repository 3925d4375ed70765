import type { Gateway } from '../gateway.js';
import { optionalString } from '../fields.js';
import type { Route } from '../routes.js';
import type { TokenIssuer } from '../tokens.js';
import { byStatus, firstOfOrder, ofOrder, pageOf, pagingParams, several, sortingParam, statusFilter } from './lookups.js';
import { v1PreparationView } from './view.js';

/** The V1 REST API (api.iamport.kr) that merchants call through iamport's client libraries. */
export function v1Routes(gateway: Gateway, tokens: TokenIssuer): Route[] {
  const { store } = gateway;
  const view = gateway.v1View.bind(gateway);
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
      summary: 'prepare the amount of an order {merchant_uid, amount, currency?}',
      auth: true,
      handle: ({ fields }) => v1PreparationView(gateway.prepareFromFields(fields)),
    },
    {
      method: 'PUT',
      path: '/payments/prepare',
      summary: 'change a prepared amount {merchant_uid, amount, currency?}',
      auth: true,
      handle: ({ fields }) => v1PreparationView(gateway.editPreparationFromFields(fields)),
    },
    {
      method: 'GET',
      path: '/payments/status/{payment_status}',
      summary: 'payments in a status (all|ready|paid|cancelled|failed) ?page&limit&from&to&sorting',
      auth: true,
      handle: ({ params: [status = ''], query }) =>
        pageOf(byStatus(store, statusFilter(status), query, gateway.nowMs()), pagingParams(query), view),
    },
    {
      method: 'GET',
      path: '/payments/find/{merchant_uid}',
      summary: 'the latest payment of an order ?sorting',
      auth: true,
      handle: ({ params: [merchantUid = ''], query }) => view(firstOfOrder(store, merchantUid, 'all', sortingParam(query))),
    },
    {
      method: 'GET',
      path: '/payments/find/{merchant_uid}/{payment_status}',
      summary: 'the latest payment of an order in a status (or all) ?sorting',
      auth: true,
      handle: ({ params: [merchantUid = '', status = ''], query }) =>
        view(firstOfOrder(store, merchantUid, statusFilter(status), sortingParam(query))),
    },
    {
      method: 'GET',
      path: '/payments/findAll/{merchant_uid}',
      summary: 'every payment of an order ?page&limit&sorting',
      auth: true,
      handle: ({ params: [merchantUid = ''], query }) =>
        pageOf(ofOrder(store, merchantUid, 'all', sortingParam(query)), pagingParams(query), view),
    },
    {
      method: 'GET',
      path: '/payments/findAll/{merchant_uid}/{payment_status}',
      summary: 'every payment of an order in a status (or all) ?page&limit&sorting',
      auth: true,
      handle: ({ params: [merchantUid = '', status = ''], query }) =>
        pageOf(ofOrder(store, merchantUid, statusFilter(status), sortingParam(query)), pagingParams(query), view),
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
      path: '/payments',
      summary: 'several payments ?imp_uid[]=...&merchant_uid[]=... (207 when only some exist)',
      auth: true,
      handle: ({ query }) => several(store, query, view),
    },
    {
      method: 'GET',
      path: '/payments/{imp_uid}',
      summary: 'a payment',
      auth: true,
      handle: ({ params: [impUid = ''] }) => view(store.byImpUid(impUid)),
    },
  ];
}
