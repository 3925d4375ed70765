import { parentPort, workerData } from 'node:worker_threads';
import { SliceEngine } from './engine.js';
import { waitUntilEpoch } from './clock.js';
import type { WorkerCommand, WorkerInput, WorkerReply } from './workers.js';

/** One worker thread: runs the same engine on its slice and hands the raw outcome arrays back, zero-copy. */
const input = workerData as WorkerInput;
const port = parentPort!;
const engine = new SliceEngine({
  plan: input.plan,
  slice: input.slice,
  connections: input.connections,
  socketBudget: input.socketBudget,
  counters: new Int32Array(input.counters),
});
const post = (reply: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

port.on('message', (command: WorkerCommand) => {
  if (command.type === 'abort') {
    engine.abort(command.drainMs);
    return;
  }
  void (async () => {
    await waitUntilEpoch(command.atEpochMs);
    const measurements = await engine.run();
    const { arrays, reasons } = engine.store;
    post({ type: 'done', measurements, arrays, reasons }, Object.values(arrays).map((array) => array.buffer as ArrayBuffer));
    port.close();
  })();
});

await engine.prepare();
post({ type: 'ready' });
