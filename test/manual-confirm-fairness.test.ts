import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveBurstPlan, runBurst, SliceEngine, wholeRun, type LedgerEntry } from '../src/load/index.js';
import { epochNow } from '../src/load/clock.js';
import { intendedArrival } from '../src/load/summarize.js';
import { startCompletionSale } from './helpers/completion-merchant.js';
import { startGateway } from '../src/gateway/index.js';
import { startMerchant } from '../src/merchants/index.js';

// --workers N --rate R once reported a correct merchant unfair: each worker thread counted its schedule from the
// moment it happened to wake, while the report set every thread's times on one origin. A thread that woke 5 ms
// late had its answers' times understated by 5 ms, so its refusals looked earlier than buyers accepted on the
// other thread. Every thread now counts from the instant they agreed on.

const LATE_MS = 15;

test('an engine that wakes late counts its schedule from the agreed instant, not from its wake-up', async (t) => {
  const server = createServer((_request, response) => response.end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/confirm`;
  const plan = resolveBurstPlan({ url, buyers: 12, stock: 5, ratePerSec: 500, timeoutMs: 2000 });
  const engine = new SliceEngine({ plan, slice: wholeRun(plan.buyers), connections: 4, socketBudget: 64 });
  await engine.prepare();
  const agreed = epochNow();
  await sleep(LATE_MS);
  const measurements = await engine.run(agreed);
  assert.ok(Math.abs(measurements.barrierEpochMs - agreed) < 0.01, `barrier ${measurements.barrierEpochMs - agreed} ms off the agreed instant`);
  const { arrays } = engine.store;
  const arrival = intendedArrival(plan);
  // The first buyer was due at 0 and left after the late wake-up: that lateness is in its send time and latency.
  assert.ok(arrays.sentAtMs[0]! >= LATE_MS - 1, `first send at ${arrays.sentAtMs[0]} ms`);
  for (let request = 0; request < engine.store.requests; request++) {
    const lag = arrays.sentAtMs[request]! - arrival.atMs(request);
    assert.ok(arrays.latencyMs[request]! >= lag - 0.01, `request ${request}: latency ${arrays.latencyMs[request]} ms is shorter than its ${lag} ms send lag`);
  }
});

test('--workers 2 --rate: a correct manual-confirm merchant is fair, every answer timed on one clock', async (t) => {
  const { gateway, merchant } = await startCompletionSale(t, { flaw: 'none', stock: 10, apiSecret: 'test-api-secret-mcflow' });
  const dir = await mkdtemp(join(tmpdir(), 'mcflow-fair-'));
  for (let run = 0; run < 3; run++) {
    const ledgerPath = join(dir, `run-${run}.ndjson`);
    const report = await runBurst({
      url: merchant.url,
      buyers: 40,
      stock: 10,
      flow: 'manual-confirm',
      gateway: gateway.url,
      resetUrl: merchant.resetUrl,
      stockUrl: merchant.stockUrl,
      settleMs: 300,
      p99BudgetMs: 30_000,
      workers: 2,
      ratePerSec: 300,
      ledgerPath,
    });
    assert.equal(report.verdict.pass, true, report.verdict.summary);
    assert.equal(report.fairness?.inversions, 0);
    const entries = (await readFile(ledgerPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as LedgerEntry);
    for (const entry of entries) {
      // A paced latency runs from the intended send time, so it can never be shorter than the send's lag.
      assert.ok(entry.latencyMs! >= entry.sentMs! - entry.intendedMs - 0.01, `buyer ${entry.buyer}: ${JSON.stringify(entry)}`);
    }
  }
});

test('--ramp with PG declines: a buyer told no because the PG declined its confirm was not turned away, so the correct merchant is fair', async (t) => {
  const gateway = await startGateway({ port: 0 });
  const shop = await startMerchant({ flow: 'manual-confirm', gateway: { url: gateway.url }, openOrders: true, stock: 20 });
  t.after(async () => {
    await shop.close();
    await gateway.close();
  });
  // Declines land from the first buyers on, long before the stock runs out: counted as refusals, every buyer
  // accepted after the first decline looked like one served out of turn (most rounds failed `unfair` so).
  for (let round = 1; round <= 3; round++) {
    const report = await runBurst({
      url: shop.confirmUrl,
      buyers: 200,
      stock: 20,
      flow: 'manual-confirm',
      gateway: gateway.url,
      declineRate: 0.3,
      rampMs: 400,
      resetUrl: shop.resetUrl,
      stockUrl: shop.stockUrl,
      settleMs: 300,
      p99BudgetMs: 30_000,
    });
    const declined = report.manualConfirm!.statuses.failed;
    assert.ok(declined > 0, `round ${round}: the PG declined some confirms`);
    assert.ok(report.statusCodes['402']! >= declined, `round ${round}: and the merchant told those buyers no`);
    assert.equal(report.verdict.pass, true, `round ${round}: ${report.verdict.summary}`);
  }
});
