import type { TestContext } from 'node:test';
import { startRawTarget, type HostileTarget } from './hostile-raw.js';

/**
 * Answers 200 with headers, then a body that never ends (chunked, 64 KiB a chunk, as fast as the socket
 * takes it): what made burst grow to 24 GB reading a stock probe.
 */
export function startEndlessBody(t: TestContext, path = '/'): Promise<HostileTarget> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  return startRawTarget(
    t,
    (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      const pump = (): void => {
        while (!socket.destroyed && socket.write(framed)) {
          /* until the socket pushes back */
        }
      };
      socket.on('drain', pump);
      pump();
    },
    path,
  );
}
