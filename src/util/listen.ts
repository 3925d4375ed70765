import type { AddressInfo, Server } from 'node:net';
import { UsageError } from './errors.js';

/** A listen failure the user can fix (a busy or privileged port, a host that is not ours) as one line. */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return new UsageError(`port ${port} on ${host} is already in use; pass another \`port\` (0 picks a free one)`);
    case 'EACCES':
      return new UsageError(`port ${port} needs root; pass a \`port\` above 1023`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UsageError(`\`host\` ${host} is not an address of this machine; use 127.0.0.1 (the default)`);
    default:
      return error;
  }
}

/**
 * Starts `server` listening. The backlog matters for the sample merchant: a burst opens thousands of
 * connections at once, far past Node's default of 511 pending ones.
 */
export function listen(server: Server, host: string, port: number, backlog = 511): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: unknown): void => reject(listenError(error, host, port));
    server.once('error', onError);
    server.listen({ host, port, backlog }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}
