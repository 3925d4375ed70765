import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Chalk } from 'chalk';
import { startMerchant, type MerchantOptions, type RunningMerchant } from '../src/merchants/index.js';
import { runBurst, type BurstEvents, type BurstOptions } from '../src/load/index.js';
import { attachBurstProgress } from '../src/reporters/burst-terminal.js';
import { TypedEmitter } from '../src/util/events.js';

/** A terminal as the reporter sees one: isTTY, a width, and everything written kept. */
class FakeTerminal {
  readonly isTTY: boolean;
  readonly chunks: string[] = [];
  constructor(isTTY: boolean, readonly columns?: number) {
    this.isTTY = isTTY;
  }
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  /** Each rewrite of the live line, without the carriage return and line clear before it. */
  get lines(): string[] {
    return this.chunks.join('').split('\r\u001b[2K').filter((line) => line !== '');
  }
}

async function shop(t: TestContext, options: MerchantOptions): Promise<RunningMerchant> {
  const running = await startMerchant(options);
  t.after(() => running.close());
  return running;
}

async function watch(options: BurstOptions, terminal: FakeTerminal): Promise<void> {
  const events = new TypedEmitter<BurstEvents>();
  const detach = attachBurstProgress(events, terminal as unknown as NodeJS.WritableStream & { isTTY: boolean }, new Chalk({ level: 0 }));
  try {
    await runBurst(options, { events, progressIntervalMs: 20 });
  } finally {
    detach();
  }
}

test('on a TTY the orders phase counts up, and the run shows percent done, stock left and answers', async (t) => {
  const merchant = await shop(t, { stock: 25, openOrders: false });
  const terminal = new FakeTerminal(true);
  await watch({ url: merchant.confirmUrl, buyers: 300, stock: 25, orderUrl: merchant.orderUrl, resetUrl: merchant.resetUrl, stockUrl: merchant.stockUrl, p99BudgetMs: 10_000 }, terminal);
  const lines = terminal.lines;
  const orders = lines.filter((line) => line.startsWith('orders '));
  assert.ok(orders.length >= 1, lines.join('\n'));
  assert.match(orders.at(-1)!, /^orders [█░]+ 100% {2}300\/300 created$/, 'the last count is always told');
  assert.ok(!lines.some((line) => /^orders 300 orders…/.test(line)), 'no static orders line');
  const last = lines.filter((line) => line.startsWith('burst ')).at(-1)!;
  assert.match(last, /^burst [█░]+ 100% {2}300\/300 sent {2}25 accepted {2}stock ~0\/25 left {2}275 refused {2}0 in flight {2}/);
  assert.doesNotMatch(last, /target/, 'burst mode has no target rate');
  assert.ok(terminal.chunks.at(-1) === '\r\u001b[2K', 'the live line is cleared before the summary');
});

test('ramp and rate show the actual send rate against the target; oversold stock shows in red', async (t) => {
  const racy = await shop(t, { stock: 5, openOrders: true, flaw: 'race' });
  const terminal = new FakeTerminal(true);
  await watch({ url: racy.confirmUrl, buyers: 200, stock: 5, resetUrl: racy.resetUrl, ratePerSec: 1000, p99BudgetMs: 10_000 }, terminal);
  const runLines = terminal.lines.filter((line) => line.startsWith('burst '));
  assert.ok(runLines.length >= 1);
  for (const line of runLines) assert.match(line, /\d+\/200 sent {2}(-|[\d,]+)\/s of 1,000\/s target {2}/);
  const last = runLines.at(-1)!;
  const accepted = Number(/ (\d+) accepted/.exec(last)![1]);
  if (accepted > 5) assert.match(last, new RegExp(`${accepted - 5} 200s over the stock of 5`));

  const ramp = new FakeTerminal(true);
  await watch({ url: racy.confirmUrl, buyers: 100, stock: 5, resetUrl: racy.resetUrl, rampMs: 500, p99BudgetMs: 10_000 }, ramp);
  assert.match(ramp.lines.filter((line) => line.startsWith('burst ')).at(-1)!, /100\/100 sent {2}(-|[\d,]+)\/s of 200\/s target/);
});

test('a narrow terminal gets a line that fits; a pipe or a CI log gets nothing', async (t) => {
  const merchant = await shop(t, { stock: 10, openOrders: true });
  const narrow = new FakeTerminal(true, 60);
  await watch({ url: merchant.confirmUrl, buyers: 50, stock: 10, resetUrl: merchant.resetUrl, p99BudgetMs: 10_000 }, narrow);
  for (const line of narrow.lines) assert.ok(line.length < 60, `"${line}" fits 60 columns`);
  assert.match(narrow.lines.filter((line) => line.startsWith('burst ')).at(-1)!, / \d+(\.\d+)? m?s$/, 'the elapsed time is kept last');

  const pipe = new FakeTerminal(false);
  await watch({ url: merchant.confirmUrl, buyers: 50, stock: 10, resetUrl: merchant.resetUrl, p99BudgetMs: 10_000 }, pipe);
  assert.deepEqual(pipe.chunks, []);
});
