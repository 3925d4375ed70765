import { performance } from 'node:perf_hooks';
import { TypedEmitter, runBurst } from '../src/index.js';
import { connectGateway } from '../src/gateway/index.js';
import { impUidFor } from '../src/protocol/index.js';
import type { BurstEvents, BurstOptions, BurstReport, WarningCode } from '../src/index.js';
import { startLoopGateway, startLoopMerchant } from './children.js';
import type { ChildServer, LoopMerchantUrls } from './children.js';
import { count, median, perSecond } from './figures.js';
import { placedOn } from './pinning.js';
import type { BenchContext } from './context.js';
import type { BenchRow, Target } from './table.js';

export interface GatewaySizes {
  /** Buyers per measured burst, every one of them sold a unit (the stock is as large). */
  buyers: number;
  /** Payments registered in one call of the batch route (the issue's bar: 100,000 in a few seconds). */
  batchPayments: number;
  connections: number;
  /** Measured runs with and without the gateway; the median of each counts. */
  rounds: number;
  warmupBuyers: number;
}

/** The issue's bar: the simulated gateway must not become the bottleneck of a sale. */
export const GATEWAY_TARGET: Target = { direction: 'at-least', ratio: 0.8 };
/** Long enough for every webhook of a run to be delivered before the next run starts; the settle ends early. */
const SETTLE_MS = 30_000;
/** Warnings that make a throughput figure suspect (no-overlap is about fairness, not speed). */
const THROUGHPUT_WARNINGS = new Set<WarningCode>(['generator-saturated', 'cpu-bound', 'event-loop-delay', 'local-errors']);

interface Measured {
  perSec: number;
  /** With the gateway: how long registering the buyers' payments took, before the timed part. */
  registerMs: number | null;
  /** With the gateway: time from the last answer until every webhook was answered and the stock balanced. */
  settledMs: number | null;
  /** With the gateway: the gateway process's CPU time per payment (registration, answer, charge, webhook), µs. */
  gatewayCpuMicros: number | null;
  problem: string | null;
}

function problemOf(report: BurstReport, buyers: number, withGateway: boolean): string | null {
  const answered = report.statusCodes['200'] ?? 0;
  if (answered !== buyers) return `got ${answered} of ${buyers} 200s (${JSON.stringify(report.errorKinds)})`;
  if (!report.verdict.pass) return `verdict: ${report.verdict.summary}`;
  const warnings = report.selfCheck.warnings.map((warning) => warning.code).filter((code) => THROUGHPUT_WARNINGS.has(code));
  if (warnings.length > 0) return `burst warned: ${warnings.join(', ')}`;
  const payments = report.payments;
  if (withGateway) {
    if (payments === undefined || payments === null) return 'the report has no payments section';
    if (payments.paid !== buyers) return `${payments.paid} of ${buyers} payments paid`;
    if (payments.webhooks.sent !== buyers || payments.webhooks.unanswered > 0 || payments.webhooks.pending > 0) {
      return `webhooks: ${JSON.stringify(payments.webhooks)} for ${buyers} payments`;
    }
  }
  return null;
}

/**
 * Registers one sale of `payments` V1 payments through the batch route (POST /sim/sales, in its chunks), as a
 * run's set-up does before the timed part, and ends the run so the bursts after it have the room.
 */
async function registerBatch(gatewayUrl: string, payments: number): Promise<number> {
  const link = connectGateway(gatewayUrl);
  const run = `bench-batch-${Date.now()}`;
  const sale = Array.from({ length: payments }, (_, buyer) => ({ orderId: `${run}-${buyer}`, impUid: impUidFor(7, buyer), amount: 1000 }));
  try {
    const started = performance.now();
    await link.register({ run, payments: sale });
    const took = performance.now() - started;
    await link.end(run);
    return took;
  } finally {
    await link.close();
  }
}

/**
 * One burst against the merchant: the same buyers, stock, connections, reset and stock probes either way;
 * with the gateway, every payment is registered first, each answer handed over as it arrives (charge, V1
 * `paid` webhook to the merchant's notice URL during the run), and the settle waits for the webhooks.
 */
async function burstOnce(merchant: LoopMerchantUrls, gateway: ChildServer<{ url: string }> | null, buyers: number, connections: number): Promise<Measured> {
  const gatewayUrl = gateway?.ready.url ?? null;
  const events = new TypedEmitter<BurstEvents>();
  let registerStarted: number | null = null;
  let registerMs: number | null = null;
  events.on('setup', (progress) => {
    if (progress.phase !== 'payments') return;
    if (progress.done === 0) registerStarted = performance.now();
    else if (progress.done === progress.total && registerStarted !== null) registerMs = performance.now() - registerStarted;
  });
  const options: BurstOptions = {
    url: merchant.url,
    buyers,
    stock: buyers,
    connections,
    strandedWaitMs: 0,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
    ...(gatewayUrl === null ? {} : { gateway: gatewayUrl, webhookUrl: merchant.webhookUrl, settleMs: SETTLE_MS }),
  };
  const cpuBefore = await gateway?.cpuMicros();
  const report = await runBurst(options, { events });
  const cpuAfter = await gateway?.cpuMicros();
  return {
    gatewayCpuMicros: typeof cpuBefore === 'number' && typeof cpuAfter === 'number' ? (cpuAfter - cpuBefore) / buyers : null,
    perSec: report.throughputPerSec,
    registerMs,
    settledMs: report.payments?.settle.waitedMs ?? null,
    problem: problemOf(report, buyers, gatewayUrl !== null),
  };
}

/**
 * burst with `--gateway` (and `--webhook-url`) against the same burst without it, both against the sample
 * merchant taking any new order in its own process: a fast merchant that does real stock work, so what
 * the ratio shows is what the gateway in the loop costs a sale. The generator and the gateway share the
 * generator's CPU, the merchant has the other: the gateway's work (answers, charges, webhooks) is charged
 * to confirm-sim's side, never to the merchant's. Rounds alternate which goes first.
 */
export async function benchGateway(sizes: GatewaySizes, { log, cpus }: BenchContext): Promise<BenchRow[]> {
  const stock = Math.max(sizes.buyers, sizes.warmupBuyers);
  const merchant = await startLoopMerchant((command, args) => placedOn(cpus, 'server', command, args), stock);
  const gateway = await startLoopGateway((command, args) => placedOn(cpus, 'generator', command, args)).catch(async (error: unknown) => {
    await merchant.stop();
    throw error;
  });
  try {
    const { buyers, connections } = sizes;
    log(`gateway: registering ${count(sizes.batchPayments)} payments in one batch`);
    const batchMs = await registerBatch(gateway.ready.url, sizes.batchPayments);
    log(`gateway: warming up with ${connections} connections`);
    await burstOnce(merchant.ready, null, sizes.warmupBuyers, connections);
    await burstOnce(merchant.ready, gateway, sizes.warmupBuyers, connections);
    const plain: Measured[] = [];
    const looped: Measured[] = [];
    for (let round = 0; round < sizes.rounds; round++) {
      log(`gateway: ${count(buyers)} buyers, round ${round + 1}/${sizes.rounds}`);
      const plainFirst = round % 2 === 0;
      if (plainFirst) plain.push(await burstOnce(merchant.ready, null, buyers, connections));
      looped.push(await burstOnce(merchant.ready, gateway, buyers, connections));
      if (!plainFirst) plain.push(await burstOnce(merchant.ready, null, buyers, connections));
    }
    const oursPerSec = median(looped.map((run) => run.perSec));
    const plainPerSec = median(plain.map((run) => run.perSec));
    const notes = [...new Set([...looped, ...plain].flatMap((run) => (run.problem === null ? [] : [run.problem])))];
    const roundRatios = looped.map((run, round) => run.perSec / plain[round]!.perSec);
    const registerMs = median(looped.flatMap((run) => (run.registerMs === null ? [] : [run.registerMs])));
    const settledMs = median(looped.flatMap((run) => (run.settledMs === null ? [] : [run.settledMs])));
    const cpuMicros = median(looped.flatMap((run) => (run.gatewayCpuMicros === null ? [] : [run.gatewayCpuMicros])));
    notes.push(
      `per-round ratios ${Math.min(...roundRatios).toFixed(2)}-${Math.max(...roundRatios).toFixed(2)}×; ` +
        `registering ${count(buyers)} payments took ${registerMs.toFixed(0)} ms before the timed part, ` +
        `webhooks all answered ${settledMs.toFixed(0)} ms after the last confirm answer; ` +
        `gateway CPU ${Number.isNaN(cpuMicros) ? '(no /proc)' : `${cpuMicros.toFixed(0)} µs`} per payment`,
      `the batch route registered ${count(sizes.batchPayments)} payments in ${batchMs.toFixed(0)} ms ` +
        `(${count(Math.round(sizes.batchPayments / (batchMs / 1000)))} payments/s, the gateway in its own process)`,
    );
    return [
      {
        figure: `burst --gateway --webhook-url, ${connections} conns × ${count(buyers)} buyers`,
        ours: perSecond(oursPerSec),
        reference: `without --gateway ${perSecond(plainPerSec)}`,
        ratio: oursPerSec / plainPerSec,
        target: GATEWAY_TARGET,
        notes,
      },
    ];
  } finally {
    await Promise.all([merchant.stop(), gateway.stop()]);
  }
}
