import type { TestContext } from 'node:test';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertV1Answer, assertV2, v2Schemas } from './gateway-rest-schemas.js';

/**
 * Watches every answer PortOne's SDK gets from the gateway (the SDK calls the global fetch) and validates
 * it against the schema the V2 file documents for its operation and HTTP status, so a test that drives the
 * SDK also proves each answer strict, including the error bodies the SDK turns into its error classes.
 */
export interface ObservedAnswer {
  operationId: string;
  method: string;
  path: string;
  status: number;
  body: unknown;
}

const OPERATIONS = Object.entries(v2Schemas.operations).map(([operationId, operation]) => ({
  operationId,
  method: operation.method,
  pattern: new RegExp(`^${operation.path.replace(/\{[A-Za-z]+\}/g, '[^/]+')}$`),
}));

export interface V2Observer {
  answers: ObservedAnswer[];
  /** Answers that failed their schema, with why. */
  problems: string[];
  stop(): void;
}

export function observeV2Answers(baseUrl: string): V2Observer {
  const realFetch = globalThis.fetch;
  const observer: V2Observer = { answers: [], problems: [], stop: () => void (globalThis.fetch = realFetch) };
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await realFetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!url.href.startsWith(baseUrl)) return response;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const operation = OPERATIONS.find((candidate) => candidate.method === method && candidate.pattern.test(url.pathname));
    const body: unknown = await response.clone().json();
    if (!operation) {
      observer.problems.push(`${method} ${url.pathname}: not an operation the V2 file documents`);
      return response;
    }
    observer.answers.push({ operationId: operation.operationId, method, path: url.pathname, status: response.status, body });
    try {
      assertV2(operation.operationId, response.status, body);
    } catch (error) {
      observer.problems.push(error instanceof Error ? error.message : String(error));
    }
    return response;
  };
  return observer;
}

export interface V1Observer {
  /** The base URL to give a V1 client instead of the gateway's. */
  url: string;
  answers: Array<Omit<ObservedAnswer, 'operationId'>>;
  /** Answers that failed their schema (or were no JSON), with why. */
  problems: string[];
}

/**
 * V1 clients do not all call the global fetch (iamport and iamport-rest-client-nodejs use axios), so the V1
 * answers are watched from a pass-through proxy instead: each one is forwarded to the client unchanged after
 * it was validated against the schema the V1 file documents for its operation and HTTP status.
 */
export async function observeV1Answers(t: TestContext, gatewayUrl: string): Promise<V1Observer> {
  const target = new URL(gatewayUrl);
  const observer: V1Observer = { url: '', answers: [], problems: [] };
  const proxy = createServer((request, response) => {
    const sent: Buffer[] = [];
    request.on('data', (chunk: Buffer) => sent.push(chunk));
    request.on('end', () => {
      const method = request.method ?? 'GET';
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method, path: request.url, headers: { ...request.headers, host: target.host } },
        (answer) => {
          const received: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => received.push(chunk));
          answer.on('end', () => {
            const raw = Buffer.concat(received);
            const path = new URL(request.url ?? '/', target).pathname;
            const status = answer.statusCode ?? 0;
            try {
              const body: unknown = JSON.parse(raw.toString('utf8'));
              observer.answers.push({ method, path, status, body });
              assertV1Answer(method, path, status, body);
            } catch (error) {
              observer.problems.push(`${method} ${path} ${status}: ${error instanceof Error ? error.message : String(error)}`);
            }
            const { 'transfer-encoding': _chunked, connection: _connection, ...headers } = answer.headers;
            response.writeHead(status, { ...headers, 'content-length': raw.length });
            response.end(raw);
          });
        },
      );
      upstream.on('error', (error) => {
        observer.problems.push(`${method} ${request.url}: the gateway did not answer (${error.message})`);
        response.destroy();
      });
      upstream.end(Buffer.concat(sent));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    proxy.closeAllConnections();
    proxy.close(() => resolve());
  }));
  observer.url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return observer;
}
