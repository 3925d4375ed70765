import type { TestContext } from 'node:test';
import { startRawTarget, type HostileTarget } from './hostile-raw.js';

/**
 * A merchant that repeats whatever it was sent: every request header's value back as an answer header
 * (X-Echo-1, X-Echo-2...: names that look harmless, so only the value can tell it is a secret),
 * and the request line and headers, plus `extra` (a secret it was given, say), in a 409's reason.
 */
export function startEcho(t: TestContext, extra = ''): Promise<HostileTarget> {
  return startRawTarget(t, (socket, _request, head) => {
    const lines = head.split('\r\n');
    const echoed = lines.slice(1).map((line, i) => `X-Echo-${i + 1}: ${line.slice(line.indexOf(':') + 1).trim()}\r\n`);
    const body = JSON.stringify({ reason: `you sent ${lines.join(' | ')} ${extra}` });
    socket.write(`HTTP/1.1 409 Conflict\r\n${echoed.join('')}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}
