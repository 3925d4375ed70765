import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypedEmitter } from '../util/events.js';
import type { GatewayEvents } from './gateway.js';
import { GatewayApiError, INVALID_CODE, badRequest, notFound } from './errors.js';
import type { RequestFields } from './fields.js';
import { StatusAnswer, type GatewayRoute, type Route, type RouteApi, type RouteInput } from './routes.js';
import type { TokenIssuer } from './tokens.js';
import { checkApiSecret, presentsApiSecret } from './v2/auth.js';
import { PortOneApiError, asPortOneError } from './v2/errors.js';

/** Bodies larger than this are refused unread: no REST call needs more, and reading more costs the gateway memory. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface RouteTable {
  v1: Route[];
  v2: Route[];
  sim: Route[];
}

export interface Credentials {
  /** V1: access tokens from POST /users/getToken. */
  tokens: TokenIssuer;
  /** V2: the API secret in `Authorization: PortOne <secret>`. */
  apiSecret: string;
}

interface CompiledRoute {
  api: RouteApi;
  route: Route;
  pattern: RegExp;
}

interface Answer {
  /** Which envelope the answer is written in. */
  envelope: 'v1' | 'v2';
  status: number;
  body: unknown;
  /** The V1 envelope's code, or the V2 error's type; null for a V2 success. */
  outcome: number | string | null;
  close?: boolean;
  /** The route that answered, as listed (`GET /payments/{imp_uid}`); null when none matched. */
  route?: string | null;
}

function patternOf(path: string): RegExp {
  const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[A-Za-z_]+\}/g, '([^/]+)');
  return new RegExp(`^${source}$`);
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Bad input like any other (code -1), under the HTTP status that says what is wrong with it. */
function tooLarge(maxBytes: number): GatewayApiError {
  return new GatewayApiError(413, INVALID_CODE, `the body is over ${maxBytes} bytes`);
}

/** Reads at most maxBytes; past that it stops reading and refuses, so a huge body costs nothing. */
function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(headerText(request.headers['content-length']) ?? 0);
  if (declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        request.off('data', onData);
        request.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

function parseFields(request: IncomingMessage, raw: Buffer): RequestFields {
  const text = raw.toString('utf8');
  if (text.trim().length === 0) return {};
  // The REST APIs take JSON and forms alike (PortOne's SDK sends JSON without a JSON content type); form
  // values all arrive as strings, which the V1 field readers accept.
  if (headerText(request.headers['content-type'])?.includes('application/x-www-form-urlencoded')) {
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

/** The request target as a URL, or null when it is not one (`http://[/x`, `//[`): those get a 400, never a crash. */
function targetOf(request: IncomingMessage): URL | null {
  try {
    return new URL(request.url ?? '/', 'http://gateway.invalid');
  } catch {
    return null;
  }
}

function refusal(envelope: 'v1' | 'v2', error: unknown): Answer {
  if (envelope === 'v2') {
    const failure =
      error instanceof PortOneApiError ? error : error instanceof GatewayApiError ? asPortOneError(error) : undefined;
    if (failure) return { envelope, status: failure.httpStatus, body: failure.body(), outcome: failure.type };
    const message = error instanceof Error ? error.message : String(error);
    return { envelope, status: 500, body: { type: 'INTERNAL_SERVER_ERROR', message: `the simulated gateway failed: ${message}` }, outcome: 'INTERNAL_SERVER_ERROR' };
  }
  if (error instanceof GatewayApiError) {
    return { envelope, status: error.httpStatus, body: { code: error.code, message: error.message, response: null }, outcome: error.code };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { envelope, status: 500, body: { code: 1, message: `the simulated gateway failed: ${message}`, response: null }, outcome: 1 };
}

export interface GatewayHandler {
  routes: GatewayRoute[];
  handle(request: IncomingMessage, response: ServerResponse): void;
}

/**
 * Routes every request to the V1 API, the V2 API or the /sim routes and writes the answer in that API's
 * envelope: V1 `{code, message, response}`, V2 the bare object or `{type, message}`. Both APIs share paths
 * (`GET /payments/{id}`) on one port, so the credential decides: `Authorization: PortOne ...` is a V2 call,
 * anything else a V1 one. A path only the other API has is answered by that API (with its 401 when the
 * credential is of the wrong kind).
 */
export function createHandler(events: TypedEmitter<GatewayEvents>, table: RouteTable, credentials: Credentials): GatewayHandler {
  const compile = (api: RouteApi, routes: Route[]): CompiledRoute[] => routes.map((route) => ({ api, route, pattern: patternOf(route.path) }));
  const v1 = compile('v1', table.v1);
  const v2 = compile('v2', table.v2);
  const sim = compile('sim', table.sim);
  const v1First = [...v1, ...sim, ...v2];
  const v2First = [...v2, ...sim, ...v1];

  function authorize(api: RouteApi, request: IncomingMessage): void {
    const authorization = headerText(request.headers.authorization);
    if (api === 'v2') checkApiSecret(credentials.apiSecret, authorization);
    else credentials.tokens.authorize(authorization, headerText(request.headers['x-imptokenheader']));
  }

  async function answer(request: IncomingMessage, url: URL, preferred: 'v1' | 'v2'): Promise<Answer> {
    const method = request.method ?? 'GET';
    const candidates = preferred === 'v2' ? v2First : v1First;
    const found = candidates.find(({ route, pattern }) => route.method === method && pattern.test(url.pathname));
    if (!found) {
      const message = `no route for ${method} ${url.pathname}; the routes are listed when the gateway starts`;
      if (preferred === 'v2') return { envelope: 'v2', status: 404, body: { type: 'NOT_FOUND', message }, outcome: 'NOT_FOUND' };
      throw notFound(message);
    }
    const envelope = found.api === 'v2' ? 'v2' : 'v1';
    const route = found.route.path;
    try {
      if (found.route.auth) authorize(found.api, request);
      const input: RouteInput = {
        params: decodeParams(found.pattern.exec(url.pathname)!),
        query: url.searchParams,
        fields: parseFields(request, await readBody(request, found.route.maxBodyBytes ?? MAX_BODY_BYTES)),
        headers: request.headers,
      };
      const result = await found.route.handle(input);
      const status = result instanceof StatusAnswer ? result.httpStatus : 200;
      const body = result instanceof StatusAnswer ? result.response : result;
      if (envelope === 'v2') return { envelope, status, body, outcome: null, route };
      return { envelope, status, body: { code: 0, message: null, response: body }, outcome: 0, route };
    } catch (error) {
      return { ...refusal(envelope, error), route };
    }
  }

  function write(request: IncomingMessage, response: ServerResponse, started: number, path: string, result: Answer): void {
    const text = JSON.stringify(result.body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    };
    // A body left unread (too large) must not be parsed as the next request on this connection.
    if (result.close) headers.connection = 'close';
    if (!response.headersSent && !response.destroyed) {
      response.writeHead(result.status, headers);
      response.end(text);
    }
    events.emit('request', {
      method: request.method ?? 'GET',
      path,
      route: result.route ?? null,
      status: result.status,
      outcome: result.outcome,
      durationMs: performance.now() - started,
    });
  }

  return {
    routes: [...v1, ...v2, ...sim].map(({ api, route }) => ({ api, method: route.method, path: route.path, summary: route.summary })),
    handle(request, response) {
      const started = performance.now();
      const preferred = presentsApiSecret(headerText(request.headers.authorization)) ? 'v2' : 'v1';
      const url = targetOf(request);
      if (url === null) {
        const rawTarget = request.url ?? '';
        write(request, response, started, rawTarget, {
          ...refusal(preferred, badRequest('the request target is not a valid URL path; send an origin-form target such as /payments/imp_123')),
          close: true,
        });
        request.resume();
        return;
      }
      answer(request, url, preferred)
        .catch((error: unknown) => refusal(preferred, error))
        .then((result) => {
          if (result.status === 413) result.close = true;
          write(request, response, started, url.pathname, result);
        });
    },
  };
}
