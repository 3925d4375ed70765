import type { TestContext } from 'node:test';
import { startRawTarget, type HostileTarget } from './hostile-raw.js';

/** Answers every request 409, then an unsolicited 200 that no request asked for. */
export function startStrayAnswers(t: TestContext): Promise<HostileTarget> {
  const refusal = 'HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{"reason":"sold out"}';
  const stray = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
  return startRawTarget(t, (socket) => {
    // Two writes, as a handler that answers twice makes them: they may reach us as two reads.
    socket.write(refusal);
    socket.write(stray);
  });
}
