import { setMaxListeners } from 'node:events';
import { Pool } from 'undici';
import { runBurst, type BurstReport } from '../../load/index.js';
import { newLatencyHistogram, recordLatency, emptyBuckets, summarizeLatency } from '../../load/latency.js';
import { formatMs } from '../../util/duration.js';
import { UsageError } from '../../util/errors.js';
import { refusalDetail, saysUnknownOrder, UNKNOWN_ORDER_FIX } from '../../protocol/index.js';
import { isLoopbackTarget, outcome, type CaseContext, type CheckSetup, type ContractCase } from '../context.js';
import { HookError } from '../hooks.js';
import { emptyErrorTally, errorFindings } from '../../oracle/stock-oracle.js';

/**
 * Under load every confirm is accepted, so the load runs the path that writes (the slow one in most shops)
 * rather than cheap sold-out refusals.
 */
const LOAD_STOCK = 1_000_000;

function loopbackOnly(setup: CheckSetup): string | null {
  return isLoopbackTarget(setup)
    ? null
    : `load is only sent to this machine, not to ${new URL(setup.url).hostname}; run confirm-sim next to the merchant (a CI job or sidecar) and target it on 127.0.0.1`;
}

interface LoadTally {
  requests: number;
  /** Requests without an HTTP answer, by cause (timeout, reset, refused, ...). */
  noAnswers: Record<string, number>;
  statuses: Record<string, number>;
  /** Answers saying the merchant does not know the order. */
  unknownOrders: number;
}

/**
 * Keeps `connections` confirms in flight until the duration is over, then lets every confirm already sent
 * finish or time out: a request still waiting when the clock runs out is exactly the slow answer this case
 * looks for, so it is measured, never dropped. A timed-out confirm is recorded at the gateway's timeout.
 * With a reset hook every confirm is a new order; without one each connection repeats the confirm of its
 * own order, so the load takes one unit per connection instead of the merchant's whole stock.
 */
async function sustainLoad(context: CaseContext): Promise<{ tally: LoadTally; latency: ReturnType<typeof summarizeLatency> }> {
  const { connections, durationMs } = context.setup.load;
  const histogram = newLatencyHistogram();
  const buckets = emptyBuckets();
  const tally: LoadTally = { requests: 0, noAnswers: {}, statuses: {}, unknownOrders: 0 };
  const pool = new Pool(new URL(context.setup.url).origin, { connections });
  const deadline = performance.now() + durationMs;
  const freshOrders = context.setup.hooks.reset !== undefined;
  // One lane's error stops every lane: none keeps sending into a pool that is about to be destroyed.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const onCaseAbort = (): void => stop.abort(context.signal.reason);
  if (context.signal.aborted) onCaseAbort();
  context.signal.addEventListener('abort', onCaseAbort, { once: true });
  const lane = async (): Promise<void> => {
    const repeated = freshOrders ? null : await context.knownOrder();
    while (performance.now() < deadline && !stop.signal.aborted) {
      const result = await context.confirm(repeated ?? (await context.knownOrder()), { dispatcher: pool, signal: stop.signal });
      tally.requests++;
      recordLatency(histogram, buckets, result.answer.totalMs);
      if (result.answer.kind === 'http') {
        tally.statuses[result.answer.status] = (tally.statuses[result.answer.status] ?? 0) + 1;
        if (result.answer.status !== 200 && saysUnknownOrder(result.answer.status, refusalDetail(context.dialect, result.answer.body))) tally.unknownOrders++;
      } else {
        tally.noAnswers[result.answer.error] = (tally.noAnswers[result.answer.error] ?? 0) + 1;
      }
    }
  };
  let firstError: { error: unknown } | null = null;
  const guarded = async (): Promise<void> => {
    try {
      await lane();
    } catch (error) {
      if (firstError === null) {
        firstError = { error };
        stop.abort(error);
      }
    }
  };
  try {
    await Promise.allSettled(Array.from({ length: connections }, guarded));
    if (firstError !== null) throw (firstError as { error: unknown }).error;
  } finally {
    context.signal.removeEventListener('abort', onCaseAbort);
    await pool.destroy();
    histogram.destroy();
  }
  return { tally, latency: summarizeLatency(histogram, buckets) };
}

/** 5xx and answers that never came whole (timeouts aside: they are judged on their own), by the burst's rule. */
function judgeErrors(tally: LoadTally, maxErrorRate: number): ReturnType<typeof errorFindings> {
  const errors = emptyErrorTally();
  errors.requests = tally.requests;
  for (const [status, count] of Object.entries(tally.statuses)) if (Number(status) >= 500) errors.serverErrors += count;
  for (const [kind, count] of Object.entries(tally.noAnswers)) if (kind !== 'timeout') errors.noAnswer[kind] = count;
  return errorFindings(errors, maxErrorRate);
}

/** "404 ×3055" or "200 ×12, 409 ×88, timeout ×2": every answer the load got, most frequent first. */
function statusMix(tally: LoadTally): string {
  const entries = [...Object.entries(tally.statuses), ...Object.entries(tally.noAnswers)].sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'nothing' : entries.map(([kind, count]) => `${kind} ×${count}`).join(', ');
}

export const latencyUnderLoad: ContractCase = {
  id: 8,
  name: 'latency-under-load',
  title: 'p99 answer time stays under the budget at a modest concurrent load',
  doc:
    'Keeps a modest load on the confirm endpoint (default 10 confirms in flight for 3 s, each a new valid order ' +
    'with stock set high through the reset hook, so every confirm takes the path that writes; without the hook, ' +
    'each connection repeats the confirm of one order, to leave the merchant its stock) and lets every confirm ' +
    'sent finish. The contract wants p99 under the budget (default 1 s) and every confirm answered ' +
    'within the gateway timeout: a timed-out confirm is a failed payment. 5xx, resets and invalid HTTP fail it too, ' +
    'beyond the share --max-error-rate allows (default none). Load goes only to loopback.',
  unmet: loopbackOnly,
  async run(context) {
    if (context.setup.hooks.reset !== undefined) await context.restock(Math.max(context.setup.product.stock, LOAD_STOCK));
    // Without the reset hook each connection confirms one order of the merchant's own stock, over and over.
    else await context.startingStock(context.setup.load.connections * context.setup.product.quantity);
    const { tally, latency } = await sustainLoad(context);
    const { connections, durationMs } = context.setup.load;
    const budget = context.setup.p99BudgetMs;
    const details = {
      connections,
      durationMs,
      requests: tally.requests,
      latencyMs: { p50: latency.p50, p90: latency.p90, p99: latency.p99, max: latency.max },
      p99BudgetMs: budget,
      statuses: tally.statuses,
      noAnswers: tally.noAnswers,
    };
    const load = `${tally.requests} confirms over ${connections} connections for ${formatMs(durationMs)}`;
    const p99 = latency.p99 ?? 0;
    const timedOut = tally.noAnswers.timeout ?? 0;
    const errors = judgeErrors(tally, context.setup.maxErrorRate);
    const problems: string[] = [];
    const answered200 = tally.statuses['200'] ?? 0;
    if (answered200 * 2 < tally.requests) {
      // Refusals are the cheap path: timing them says nothing about the confirm that writes.
      const fix =
        tally.unknownOrders * 2 >= tally.requests
          ? UNKNOWN_ORDER_FIX
          : context.setup.hooks.reset === undefined
            ? 'give the reset hook (--reset-url) so the case can stock the product first'
            : 'the reset hook was asked for a large stock; check that it sets it';
      problems.push(`${tally.requests} confirms answered ${statusMix(tally)}; the latency case needs accepted confirms: ${fix}`);
    }
    if (p99 > budget) problems.push(`p99 was ${formatMs(p99)}, over the ${formatMs(budget)} budget (max ${formatMs(latency.max ?? p99)})`);
    if (timedOut > 0) problems.push(`of those confirms ${timedOut} timed out, each a failed payment`);
    if (errors.problem) problems.push(`of those confirms ${errors.problem.message}`);
    if (problems.length > 0) {
      return outcome('failed', `sent ${load}: ${problems.join('; ')}; the contract wants every confirm answered, p99 within ${formatMs(budget)}`, details);
    }
    const tolerated = errors.note === null ? '' : `; ${errors.note}`;
    return outcome('passed', `sent ${load}: p99 ${formatMs(p99)} (budget ${formatMs(budget)}), p50 ${formatMs(latency.p50 ?? 0)}${tolerated}`, details);
  },
};

export const firstComeBurst: ContractCase = {
  id: 9,
  name: 'first-come-burst',
  title: 'more buyers than stock at once: exactly the stock is confirmed',
  doc:
    'Runs a first-come flash sale with the burst engine: sets the stock through the reset hook (default 10) and ' +
    'sends 30 buyers\' confirms at the same instant, each order created through the order hook. Needs the reset ' +
    'hook: selling out the merchant\'s own stock would leave the next run nothing to sell. The stock ' +
    'oracle then wants exactly min(stock, buyers) answered 200 in time: no oversell, no undersell, no 200 after the gateway gave up, ' +
    'and, with the stock probe, stock taken once per sale; 5xx, resets and invalid HTTP beyond --max-error-rate fail it ' +
    'too. Load goes only to loopback.',
  unmet: (setup) =>
    loopbackOnly(setup) ??
    (setup.hooks.reset === undefined
      ? 'needs the reset hook (`resetUrl`) to set a small stock for the sale: selling out the merchant\'s own stock would leave the next run nothing to sell'
      : null),
  async run(context) {
    const { setup } = context;
    const { stock, buyers } = setup.burst;
    let report: BurstReport;
    try {
      report = await runBurst(
        {
          url: setup.url,
          buyers,
          stock,
          dialect: setup.dialect,
          amount: setup.product.price,
          merchantUid: `${context.newOrderId()}-{n}`,
          secret: setup.secret,
          timeoutMs: setup.timeoutMs,
          // Case 8 judges latency; here only an answer past the gateway's timeout counts against the merchant.
          p99BudgetMs: setup.timeoutMs,
          maxErrorRate: setup.maxErrorRate,
          orderUrl: setup.hooks.order,
          resetUrl: setup.hooks.reset,
          stockUrl: setup.hooks.stock,
          hookHeaders: setup.hookHeaders,
          ...(setup.gateway
            ? { gateway: setup.gateway.url, webhookUrl: setup.gateway.noticeUrl ?? undefined, settleMs: setup.gateway.settleMs }
            : {}),
        },
        { signal: context.signal },
      );
    } catch (error) {
      // The engine reports a hook that failed during set-up as a usage error of the burst command's flags.
      if (error instanceof UsageError) throw new HookError(`the burst's set-up failed: ${error.message}`);
      throw error;
    }
    const { verdict, counts } = report;
    const details = {
      buyers: counts.buyers,
      stock: report.stock.stock,
      accepted: counts.accepted,
      refused: counts.refused,
      timeouts: counts.timeouts,
      errors: counts.errors,
      stockProbe: report.stock.probe,
      payments: report.payments,
      latencyMs: { p50: report.latencyMs.p50, p99: report.latencyMs.p99, max: report.latencyMs.max },
      problems: verdict.problems.map(({ kind, count, message, examples }) => ({ kind, count, message, examples })),
      notes: verdict.notes,
      engineWarnings: report.selfCheck.warnings.map((warning) => warning.message),
    };
    const sale = `${counts.buyers} buyers at once for ${report.stock.stock} in stock`;
    if (verdict.pass) return outcome('passed', `${sale}: ${counts.accepted} confirmed, the rest refused (${verdict.summary})`, details);
    const problems = verdict.problems.map((problem) => `${problem.kind}: ${problem.message}`).join('; ');
    return outcome(
      'failed',
      `${sale}: ${counts.accepted} confirmed; ${problems}; the contract wants exactly min(stock, buyers) = ${Math.min(report.stock.stock, counts.buyers)} confirmed in time`,
      details,
    );
  },
};
