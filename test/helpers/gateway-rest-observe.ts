import { assertV2, v2Schemas } from './gateway-rest-schemas.js';

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
