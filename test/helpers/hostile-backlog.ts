import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';

export interface StalledListener {
  url: string;
  /** Lets the listener accept again (SIGCONT). */
  resume(): void;
}

/**
 * A merchant behind a listen backlog of 1 that has stopped accepting: a child process listening with
 * backlog 1, then stopped (SIGSTOP). The kernel queues a connection or two; every further SYN is dropped
 * and retried a second later, as under a merchant that cannot keep up with accept().
 */
export async function startStalledListener(t: TestContext): Promise<StalledListener> {
  const script = `
    const net = require('node:net');
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', () => socket.write('HTTP/1.1 409 Conflict\\r\\nContent-Length: 0\\r\\n\\r\\n'));
    });
    server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => process.stdout.write(server.address().port + '\\n'));
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('error', reject);
  });
  child.kill('SIGSTOP');
  return { url: `http://127.0.0.1:${port}/confirm`, resume: () => child.kill('SIGCONT') };
}
