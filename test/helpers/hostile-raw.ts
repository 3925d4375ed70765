import net, { type AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface HostileTarget {
  url: string;
  port: number;
  /** Requests whose headers were read, over all connections. */
  requests(): number;
  close(): Promise<void>;
}

/**
 * A raw-socket target: for each request it reads (up to the blank line after the headers, then the
 * Content-Length body), `answer` (given the request line and headers) writes whatever bytes it likes on the socket. No HTTP library on this side,
 * so it can send what no server library would let it.
 */
export async function startRawTarget(
  t: TestContext,
  answer: (socket: net.Socket, requestNumber: number, head: string) => void,
  path = '/confirm',
): Promise<HostileTarget> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.subarray(end + 4 + length);
        if (!socket.destroyed) answer(socket, ++count, head);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
    return closing;
  };
  t.after(close);
  return { url: `http://127.0.0.1:${port}${path}`, port, requests: () => count, close };
}

/** Answers every request with exactly these bytes, keeping the connection open. */
export function startFixedAnswer(t: TestContext, bytes: string | Buffer, path?: string): Promise<HostileTarget> {
  return startRawTarget(t, (socket) => socket.write(bytes), path);
}
