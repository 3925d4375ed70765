import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from './gateway.js';
import { GatewayApiError, badRequest, notFound } from './errors.js';
import { optionalString, type RequestFields } from './fields.js';
import type { TokenIssuer } from './tokens.js';
import { simRoutes } from './sim/routes.js';

const MAX_BODY_BYTES = 1024 * 1024;

export interface RouteInput {
  params: string[];
  query: URLSearchParams;
  fields: RequestFields;
  headers: IncomingHttpHeaders;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** As shown to users, with {placeholders}. */
  path: string;
  summary: string;
  /** REST API routes need an access token; the simulation's own /sim routes stand for the buyer and need none. */
  auth: boolean;
  /** Default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  handle(input: RouteInput): unknown;
}

export interface GatewayRoute {
  method: string;
  path: string;
  summary: string;
}

function routesOf(gateway: Gateway, tokens: TokenIssuer): Route[] {
  const payment = (impUid: string): unknown => gateway.v1View(gateway.store.byImpUid(impUid));
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
      handle: ({ params: [merchantUid = ''] }) => ({ ...gateway.store.preparation(merchantUid) }),
    },
    {
      method: 'POST',
      path: '/payments/prepare',
      summary: 'prepare the amount of an order {merchant_uid, amount}',
      auth: true,
      handle: ({ fields }) => gateway.prepareFromFields(fields),
    },
    {
      method: 'PUT',
      path: '/payments/prepare',
      summary: 'change a prepared amount {merchant_uid, amount}',
      auth: true,
      handle: ({ fields }) => gateway.editPreparationFromFields(fields),
    },
    {
      method: 'GET',
      path: '/payments/find/{merchant_uid}',
      summary: 'the latest payment of an order',
      auth: true,
      handle: ({ params: [merchantUid = ''] }) => gateway.v1View(gateway.store.byMerchantUid(merchantUid)),
    },
    {
      method: 'GET',
      path: '/payments/find/{merchant_uid}/{payment_status}',
      summary: 'the latest payment of an order in that status',
      auth: true,
      handle: ({ params: [merchantUid = '', status] }) =>
        gateway.v1View(gateway.store.byMerchantUid(merchantUid, status)),
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
      handle: ({ params: [impUid = ''] }) => payment(impUid),
    },
    ...simRoutes(gateway),
  ];
}

function patternOf(path: string): RegExp {
  const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[a-z_]+\}/g, '([^/]+)');
  return new RegExp(`^${source}$`);
}

async function readFields(request: IncomingMessage, maxBytes: number): Promise<RequestFields> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new GatewayApiError(413, 1, `the body is over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim().length === 0) return {};
  // The REST API takes JSON and forms alike; form values all arrive as strings, which the field readers accept.
  if (request.headers['content-type']?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest('the body is neither JSON nor a form (application/x-www-form-urlencoded)');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('the body must be a JSON object');
  return parsed as RequestFields;
}

function decodeParams(match: RegExpExecArray): string[] {
  try {
    return match.slice(1).map((part) => decodeURIComponent(part));
  } catch {
    throw badRequest('the path is not valid percent-encoding');
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export interface GatewayHandler {
  routes: GatewayRoute[];
  handle(request: IncomingMessage, response: ServerResponse): void;
}

/** Answers every request in the REST API's envelope: `{code: 0, message: null, response}` or a refusal. */
export function createHandler(gateway: Gateway, tokens: TokenIssuer): GatewayHandler {
  const routes = routesOf(gateway, tokens).map((route) => ({ route, pattern: patternOf(route.path) }));

  async function answer(request: IncomingMessage, url: URL): Promise<{ status: number; body: object }> {
    const method = request.method ?? 'GET';
    for (const { route, pattern } of routes) {
      const match = route.method === method ? pattern.exec(url.pathname) : null;
      if (!match) continue;
      if (route.auth) tokens.authorize(headerText(request.headers.authorization), headerText(request.headers['x-imptokenheader']));
      const input: RouteInput = {
        params: decodeParams(match),
        query: url.searchParams,
        fields: method === 'GET' ? {} : await readFields(request, route.maxBodyBytes ?? MAX_BODY_BYTES),
        headers: request.headers,
      };
      const response = await route.handle(input);
      return { status: 200, body: { code: 0, message: null, response } };
    }
    throw notFound(`no route for ${method} ${url.pathname}; the routes are listed when the gateway starts`);
  }

  return {
    routes: routes.map(({ route }) => ({ method: route.method, path: route.path, summary: route.summary })),
    handle(request, response) {
      const started = performance.now();
      const url = new URL(request.url ?? '/', 'http://gateway.invalid');
      answer(request, url)
        .catch((error: unknown) => {
          if (error instanceof GatewayApiError) {
            return { status: error.httpStatus, body: { code: error.code, message: error.message, response: null } };
          }
          const message = error instanceof Error ? error.message : String(error);
          return { status: 500, body: { code: 1, message: `the simulated gateway failed: ${message}`, response: null } };
        })
        .then(({ status, body }) => {
          const text = JSON.stringify(body);
          response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
          response.end(text);
          gateway.events.emit('request', {
            method: request.method ?? 'GET',
            path: url.pathname,
            status,
            code: (body as { code: number }).code,
            durationMs: performance.now() - started,
          });
        });
    },
  };
}
