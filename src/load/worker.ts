import { parentPort, workerData } from 'node:worker_threads';
import { SliceEngine } from './engine.js';
import { waitUntilEpoch } from './clock.js';
import type { WorkerCommand, WorkerInput, WorkerReply } from './workers.js';
import { answerReporter, openRunLink } from './gateway-run.js';

/** One worker thread: runs the same engine on its slice and hands the raw outcome arrays back, zero-copy. */
const input = workerData as WorkerInput;
const port = parentPort!;
// Answers go to the gateway from this thread directly, as they arrive, over a link of its own.
// A manual-confirm sale has no answers to hand over: the merchant confirms at the gateway itself.
const link = input.plan.gateway && input.plan.flow === 'confirm-process' ? openRunLink(input.plan.gateway) : null;
const engine: SliceEngine = new SliceEngine({
  plan: input.plan,
  slice: input.slice,
  connections: input.connections,
  socketBudget: input.socketBudget,
  counters: new Int32Array(input.counters),
  onAnswer: link ? answerReporter(input.plan, link, () => engine.store) : undefined,
  tokens: input.tokens ?? undefined,
});
const post = (reply: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

port.on('message', (command: WorkerCommand) => {
  if (command.type === 'abort') {
    engine.abort(command.drainMs);
    return;
  }
  void (async () => {
    await waitUntilEpoch(command.atEpochMs);
    // Every thread counts from the agreed instant, not from when it happened to wake: one origin for all.
    const measurements = await engine.run(command.atEpochMs);
    let gatewayError: string | null = null;
    if (link) {
      gatewayError = await link.flush().then(
        () => null,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      await link.close();
    }
    const { arrays, reasons } = engine.store;
    post({ type: 'done', measurements, arrays, reasons, gatewayError }, Object.values(arrays).map((array) => array.buffer as ArrayBuffer));
    port.close();
  })();
});

await engine.prepare();
post({ type: 'ready' });
