import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectGateway, startGateway } from '../src/gateway/index.js';
import { impUidFor } from '../src/protocol/index.js';

function sale(run: string, count: number, seed: number, noticeUrl?: string) {
  return {
    run,
    noticeUrl,
    payments: Array.from({ length: count }, (_, buyer) => ({ orderId: `${run}-${buyer}`, impUid: impUidFor(seed, buyer), amount: 1000 })),
  };
}

test('retention: the oldest completed payments are forgotten first, runs still going never, and summaries stay exact', async (t) => {
  let now = Date.UTC(2026, 11, 2, 10, 0, 0);
  const hung = createServer(() => undefined);
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  const gateway = await startGateway({ port: 0, maxPayments: 100, retentionGraceMs: 60_000, now: () => now });
  const link = connectGateway(gateway);
  t.after(async () => {
    await link.close();
    await gateway.close();
    hung.closeAllConnections();
    hung.close();
  });
  const answerAll = async (run: string, count: number): Promise<void> => {
    for (let buyer = 0; buyer < count; buyer += 1) link.answer({ run, orderId: `${run}-${buyer}`, status: 200 });
    await link.flush();
  };

  // One payment whose webhook is still owed (its notice URL never answers): it is never forgotten.
  await link.register(sale('owed', 1, 1, `http://127.0.0.1:${(hung.address() as AddressInfo).port}/webhook`));
  await answerAll('owed', 1);
  await link.end('owed');
  await link.register(sale('a', 60, 2));
  await answerAll('a', 60);
  await link.end('a');

  await link.register(sale('b', 39, 3));
  assert.equal((await link.list()).total, 100, 'at the limit nothing is forgotten');
  await link.register(sale('c', 20, 4));
  // 120 would be over 100: forget down to 90% of the limit minus the newcomers (70), oldest completed first.
  const kept = await link.list({ limit: 1000 });
  assert.equal(kept.total, 90);
  assert.equal(kept.payments[0]?.orderId, 'owed-0', 'the payment with a webhook owed stays');
  assert.equal(kept.payments[1]?.orderId, 'a-30', 'a-0 .. a-29 went first');
  await assert.rejects(link.payment('a-0'), /no payment has id a-0/);
  assert.equal((await fetch(`${gateway.url}/payments/${impUidFor(2, 0)}`)).status, 401, 'the REST API still needs its token');

  const a = await link.summary('a');
  assert.deepEqual([a.payments.registered, a.payments.paid, a.forgotten, a.ended], [60, 60, 30, true]);

  // b and c are going (changed within the grace period): nothing of theirs is forgotten; with no room left the
  // registration is refused instead of growing memory.
  await link.register(sale('d', 20, 5));
  await assert.rejects(link.register(sale('e', 40, 6)), /keeps at most 100 payments and \d+ are still in use/);
  assert.equal((await link.summary('b')).forgotten, 0);

  // Past the grace period a run no longer counts as going, even without end.
  now += 61_000;
  await link.register(sale('e', 40, 6));
  assert.equal((await link.summary('b')).forgotten > 0, true);
  assert.equal((await link.summary('b')).payments.registered, 39, 'its counts are untouched');
  assert.ok((await link.list()).total <= 100);
  await assert.rejects(link.register(sale('huge', 101, 7)), /101 payments are more than the gateway keeps \(100\)/);
});
