import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The little web framework under the doc merchants: what express and body-parser give the docs' examples
 * (a JSON or text body, capped as body-parser caps it, and `res.status(n).send(...)`), nothing more.
 */

/** body-parser's default limit is 100 kb; a bigger body is refused with 413 before it is read. */
const BODY_LIMIT_BYTES = 100 * 1024;

export interface DocRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body text (V2 signature checks need it exactly as sent). */
  text: string;
}

export interface DocAnswer {
  status: number;
  body?: unknown;
}

export type DocHandler = (request: DocRequest) => Promise<DocAnswer> | DocAnswer;

/** Parses a JSON object body as bodyParser.json() does (objects only); null for anything else. */
export function jsonObject(request: DocRequest): Record<string, unknown> | null {
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return null;
  try {
    const parsed: unknown = JSON.parse(request.text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function readBody(request: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > BODY_LIMIT_BYTES) {
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) {
        resolve(null);
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, answer: DocAnswer): void {
  if (response.headersSent || response.destroyed) return;
  const body = answer.body === undefined ? '' : JSON.stringify(answer.body);
  response.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

export interface DocServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `routes` ("POST /confirm" → handler) on 127.0.0.1 and a free port; a handler that throws answers 500. */
export async function serveRoutes(routes: Record<string, DocHandler>): Promise<DocServer> {
  const server = createServer({ keepAliveTimeout: 10_000 }, (request, response) => {
    const path = new URL(request.url ?? '/', 'http://merchant').pathname;
    const handler = routes[`${request.method} ${path}`];
    readBody(request).then(
      async (text) => {
        if (text === null) return send(response, { status: 413, body: { reason: 'request entity too large' } });
        if (handler === undefined) return send(response, { status: 404, body: { reason: `no route ${request.method} ${path}` } });
        try {
          send(response, await handler({ method: request.method ?? 'GET', path, headers: request.headers, text }));
        } catch (error) {
          send(response, { status: 500, body: { reason: error instanceof Error ? error.message : String(error) } });
        }
      },
      () => response.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
