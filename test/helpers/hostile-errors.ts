import type { TestContext } from 'node:test';
import { startRawTarget, type HostileTarget } from './hostile-raw.js';

/**
 * Sells `stock` with 200s, then answers every other buyer 500 and the rest 409 "sold out": the stock comes out
 * right, so only the errors can fail it.
 */
export function startHalfBroken(t: TestContext, stock: number): Promise<HostileTarget> {
  const answer = (status: string, body: string): string =>
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  return startRawTarget(t, (socket, request) => {
    if (request <= stock) socket.write(answer('200 OK', '{}'));
    else socket.write(request % 2 === 0 ? answer('500 Internal Server Error', 'oops') : answer('409 Conflict', '{"reason":"sold out"}'));
  });
}
