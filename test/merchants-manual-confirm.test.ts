import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { connectGateway, startGateway, type GatewayLink, type PaymentToken, type RunningGateway } from '../src/gateway/index.js';
import { startMerchant, type MerchantOptions, type RunningMerchant } from '../src/merchants/index.js';
import { runCli } from './helpers/cli.js';

// The manual-confirm sample merchant against the simulated gateway, over real sockets: buyers post what their
// requestPayment returned to POST /payment/complete, the merchant confirms through PortOne's SDK, and each test
// judges the merchant's answers against the gateway's truth (GET /sim/sales/{run}/statuses).

const PRICE = 15_000;
const API_SECRET = 'test-api-secret-merchant';

interface Rig {
  gateway: RunningGateway;
  link: GatewayLink;
  shop: RunningMerchant;
  pool: Pool;
}

async function rigFor(t: TestContext, merchant: MerchantOptions = {}, declineRate = 0): Promise<Rig> {
  const gateway = await startGateway({ port: 0, apiSecret: API_SECRET, declineRate });
  const link = connectGateway(gateway);
  const shop = await startMerchant({
    flow: 'manual-confirm',
    gateway: { url: gateway.url, apiSecret: API_SECRET },
    openOrders: true,
    amount: PRICE,
    stock: 10,
    ...merchant,
  });
  const pool = new Pool(shop.url, { connections: 64 });
  t.after(async () => {
    await pool.close();
    await shop.close();
    await link.close();
    await gateway.close();
  });
  return { gateway, link, shop, pool };
}

async function sale(rig: Rig, run: string, buyers: number, amount = PRICE): Promise<PaymentToken[]> {
  const payments = Array.from({ length: buyers }, (_, index) => ({ orderId: `${run}-${index}`, amount }));
  const { tokens } = await rig.link.register({ run, api: 'v2', flow: 'manual-confirm', payments });
  return tokens!;
}

async function complete(rig: Rig, body: unknown): Promise<{ status: number; body: { status?: string; reason?: string } }> {
  const response = await rig.pool.request({
    path: '/payment/complete',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, body: (await response.body.json()) as { status?: string; reason?: string } };
}

/** Every buyer at once; the merchant's answers, in buyer order. */
function burst(rig: Rig, tokens: PaymentToken[]): Promise<number[]> {
  return Promise.all(tokens.map(async (token) => (await complete(rig, token)).status));
}

/** What the gateway charged, against what the merchant told each buyer. */
function judge(statuses: string, answers: number[]): { paid: number; chargedRefused: number; toldPaidUnconfirmed: number } {
  let paid = 0;
  let chargedRefused = 0;
  let toldPaidUnconfirmed = 0;
  answers.forEach((answer, index) => {
    const charged = statuses[index] === 'P';
    if (charged) paid += 1;
    if (charged && answer !== 200) chargedRefused += 1;
    if (!charged && answer === 200) toldPaidUnconfirmed += 1;
  });
  return { paid, chargedRefused, toldPaidUnconfirmed };
}

test('the correct manual-confirm merchant confirms exactly the stock under a first-come burst, round after round', async (t) => {
  const rig = await rigFor(t, { stock: 25 });
  for (let round = 0; round < 5; round += 1) {
    rig.shop.reset();
    const tokens = await sale(rig, `round-${round}`, 200);
    const answers = await burst(rig, tokens);
    const { statuses } = await rig.link.statuses(`round-${round}`);
    assert.deepEqual(judge(statuses, answers), { paid: 25, chargedRefused: 0, toldPaidUnconfirmed: 0 }, `round ${round}`);
    assert.equal(answers.filter((answer) => answer === 409).length, 175, 'the rest are told sold out, and nothing of theirs is confirmed');
    assert.equal(rig.shop.stock(), 0);
    const summary = await rig.link.summary(`round-${round}`);
    assert.equal(summary.confirmCalls, 25, 'sold-out buyers are refused without a confirm call');
  }
});

test('a repeated completion answers as the first and confirms nothing twice; unknown orders and garbage are refused', async (t) => {
  const rig = await rigFor(t, { stock: 5, openOrders: false });
  await rig.link.register({ run: 'known', api: 'v2', flow: 'manual-confirm', payments: [{ orderId: 'known-0', amount: PRICE }] });
  const [token] = (await rig.link.register({ run: 'orders', api: 'v2', flow: 'manual-confirm', payments: [{ orderId: 'order-1', amount: PRICE }] })).tokens!;
  // Orders are the merchant's own: create the one the buyer pays for.
  const created = await rig.pool.request({
    path: '/orders',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ merchant_uid: 'order-1', amount: PRICE }),
  });
  assert.equal(created.statusCode, 201);
  await created.body.dump();
  const [first, second] = await Promise.all([complete(rig, token), complete(rig, token)]);
  assert.deepEqual([first.status, second.status], [200, 200]);
  assert.equal((await complete(rig, token)).status, 200, 'a later repeat too');
  assert.equal(rig.shop.stock(), 4, 'one unit taken');
  const summary = await rig.link.summary('orders');
  assert.equal(summary.confirmCalls, 1, 'the repeats never reached the gateway');
  assert.equal((await rig.link.statuses('orders')).statuses, 'P');

  const unknown = await complete(rig, { paymentId: 'known-0', paymentToken: 'ptk_x', txId: 'x' });
  assert.equal(unknown.status, 404, 'an order the merchant does not have');
  for (const garbage of [{}, { paymentId: 'order-1' }, { paymentId: '', paymentToken: 'x' }, [1], 'text']) {
    assert.equal((await complete(rig, garbage)).status, 400, JSON.stringify(garbage));
  }
});

test('a PG decline gives the stock back (402); a tampered amount or a forged token is refused by the gateway and gives it back', async (t) => {
  const rig = await rigFor(t, { stock: 1 }, 1);
  const [declined] = await sale(rig, 'decline', 1);
  const answer = await complete(rig, declined);
  assert.equal(answer.status, 402);
  assert.equal(answer.body.status, 'failed');
  assert.equal(rig.shop.stock(), 1, 'the unit is back');
  assert.equal((await rig.link.statuses('decline')).statuses, 'F');

  const clean = await rigFor(t, { stock: 1 });
  // The buyer's payment was made for 100 instead of the order's 15,000: the merchant confirms its own amount.
  const [cheap] = await sale(clean, 'cheap', 1, 100);
  const mismatch = await complete(clean, cheap);
  assert.equal(mismatch.status, 409);
  assert.match(mismatch.body.reason ?? '', /totalAmount/);
  assert.equal(clean.shop.stock(), 1);
  const [real] = await sale(clean, 'forged', 1);
  assert.equal((await complete(clean, { ...real, paymentToken: 'ptk_forged' })).status, 400);
  assert.equal(clean.shop.stock(), 1);
  assert.equal((await complete(clean, real)).status, 200, 'the real token then pays');
  assert.equal((await clean.link.statuses('forged')).statuses, 'P');
});

test('flaw confirm-first charges buyers it then tells "sold out"', async (t) => {
  const rig = await rigFor(t, { stock: 3, flaw: 'confirm-first' });
  const tokens = await sale(rig, 'first', 10);
  const answers = await burst(rig, tokens);
  const verdict = judge((await rig.link.statuses('first')).statuses, answers);
  assert.equal(verdict.paid, 10, 'every buyer was charged');
  assert.equal(verdict.chargedRefused, 7, 'seven of them were told sold out');
});

test('flaw race reads the stock, awaits the confirm call, then writes: oversells', async (t) => {
  const rig = await rigFor(t, { stock: 3, flaw: 'race' });
  const tokens = await sale(rig, 'race', 40);
  const answers = await burst(rig, tokens);
  const verdict = judge((await rig.link.statuses('race')).statuses, answers);
  assert.ok(verdict.paid > 3, `${verdict.paid} paid for 3 in stock`);
  assert.equal(verdict.chargedRefused, 0);
  // The seam's name for it works too.
  const alias = await startMerchant({ flow: 'manual-confirm', flaw: 'racy-confirm' as 'race', gateway: { url: rig.gateway.url } });
  assert.equal(alias.flaw, 'race');
  await alias.close();
});

test('flaw no-release keeps the stock of a declined payment: the next buyer is turned away', async (t) => {
  const rig = await rigFor(t, { stock: 1, flaw: 'no-release' }, 1);
  const [declined] = await sale(rig, 'keep', 1);
  assert.equal((await complete(rig, declined)).status, 402);
  assert.equal(rig.shop.stock(), 0, 'the declined unit never came back');
});

test('flaw double-confirm: a repeated completion confirms again and cancels the payment the first one charged', async (t) => {
  const rig = await rigFor(t, { stock: 2, flaw: 'double-confirm' });
  const [token] = await sale(rig, 'double', 1);
  assert.equal((await complete(rig, token)).status, 200, 'the buyer is told paid');
  assert.equal((await complete(rig, token)).status, 409);
  assert.equal((await rig.link.statuses('double')).statuses, 'C', 'the first payment was cancelled behind the buyer\'s back');
  const summary = await rig.link.summary('double');
  assert.equal(summary.confirmCalls, 2);
  assert.equal(summary.confirmsRefused.ALREADY_PAID, 1);
});

test('startMerchant and the CLI refuse manual-confirm set-ups that cannot work, with a line that says why', async () => {
  await assert.rejects(startMerchant({ flow: 'manual-confirm' }), /give its URL \(`gateway` http:/);
  await assert.rejects(startMerchant({ flow: 'manual-confirm', flaw: 'slow', gateway: { url: 'http://127.0.0.1:9' } }), /Confirm Process bug/);
  await assert.rejects(startMerchant({ flaw: 'confirm-first' }), /manual-confirm bug/);
  const noGateway = await runCli(['merchant', '--flow', 'manual-confirm']);
  assert.equal(noGateway.code, 2);
  assert.match(noGateway.stderr, /--gateway/);
  const badFlow = await runCli(['merchant', '--flow', 'manual']);
  assert.equal(badFlow.code, 2);
  assert.match(badFlow.stderr, /not a flow/);
});
