import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startGateway, type GatewayOptions, type RunningGateway } from '../src/gateway/index.js';
import { startMerchant, type MerchantOptions, type RunningMerchant } from '../src/merchants/index.js';
import { newImpUid } from '../src/protocol/index.js';
import { runCli } from './helpers/cli.js';

const PRICE = 1000;
/** Short enough for a test, long enough that the gateway has charged or declined before the first look. */
const HOLD_MS = 150;

interface Sale {
  gateway: RunningGateway;
  merchant: RunningMerchant;
  /** POST /users/getToken calls the gateway answered. */
  tokenCalls: () => number;
  lookups: () => number;
}

async function saleFor(t: TestContext, merchant: MerchantOptions = {}, gateway: GatewayOptions = {}): Promise<Sale> {
  const runningGateway = await startGateway({ port: 0, ...gateway });
  t.after(() => runningGateway.close());
  let tokenCalls = 0;
  let lookups = 0;
  runningGateway.events.on('request', (event) => {
    if (event.path === '/users/getToken') tokenCalls++;
    else if (event.path.startsWith('/payments/')) lookups++;
  });
  const runningMerchant = await startMerchant({
    stock: 5,
    amount: PRICE,
    openOrders: true,
    holdMs: HOLD_MS,
    verify: 'rest',
    gateway: { url: runningGateway.url },
    ...merchant,
  });
  t.after(() => runningMerchant.close());
  return { gateway: runningGateway, merchant: runningMerchant, tokenCalls: () => tokenCalls, lookups: () => lookups };
}

function pay(sale: Sale, merchantUid: string, extra: Record<string, unknown> = {}) {
  return sale.gateway.requestPayment({
    merchant_uid: merchantUid,
    amount: PRICE,
    confirm_url: sale.merchant.confirmUrl,
    notice_url: sale.merchant.webhookUrl,
    ...extra,
  });
}

async function postConfirm(merchant: RunningMerchant, body: unknown): Promise<{ status: number; reason: string | undefined }> {
  const answer = await request(merchant.confirmUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await answer.body.json()) as { reason?: string };
  return { status: answer.statusCode, reason: json.reason };
}

/** Waits until `predicate` holds, failing after `ms`: the merchant settles reservations on its own timers. */
async function eventually(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

test('the REST-verifying merchant looks the payment up, takes stock for a real one, and keeps it once paid', async (t) => {
  const sale = await saleFor(t);
  const attempt = await pay(sale, 'order-1');
  assert.equal(attempt.confirm?.decision.proceed, true, JSON.stringify(attempt.confirm?.answer));
  assert.equal(attempt.payment.status, 'paid');
  assert.equal(sale.merchant.stock(), 4);
  // The paid notice is looked up too; the hold deadline must then leave the sold unit alone.
  await sleep(HOLD_MS * 3);
  assert.equal(sale.merchant.stock(), 4);
  assert.ok(sale.lookups() >= 2, `a lookup for the confirm and one for the notice, saw ${sale.lookups()}`);
});

test('a forged confirm is refused without taking stock: unknown imp_uid, another order\'s payment, a settled payment', async (t) => {
  const sale = await saleFor(t);
  const unknown = await postConfirm(sale.merchant, { imp_uid: newImpUid(), merchant_uid: 'forged', amount: PRICE, status: 'ready' });
  assert.equal(unknown.status, 404);
  assert.match(String(unknown.reason), /the gateway has no payment imp_\d+/);

  const real = await pay(sale, 'victim');
  assert.equal(real.payment.status, 'paid');
  const borrowed = await postConfirm(sale.merchant, { imp_uid: real.payment.imp_uid, merchant_uid: 'thief', amount: PRICE, status: 'ready' });
  assert.equal(borrowed.status, 409);
  assert.match(String(borrowed.reason), /belongs to order victim, not thief/);

  const replayed = await postConfirm(sale.merchant, { imp_uid: real.payment.imp_uid, merchant_uid: 'victim', amount: PRICE, status: 'ready' });
  assert.equal(replayed.status, 409, 'a paid order is not confirmed again');
  assert.equal(sale.merchant.stock(), 4, 'only the real payment took stock');
});

test('a tampered amount is caught by the lookup even when the confirm body carries none', async (t) => {
  const sale = await saleFor(t);
  for (const dialect of ['v1', 'v1-status'] as const) {
    const attempt = await pay(sale, `cheap-${dialect}`, { amount: 10, dialect });
    assert.equal(attempt.confirm?.decision.proceed, false, dialect);
    assert.equal(attempt.payment.status, 'failed');
  }
  const lookedUp = await pay(sale, 'cheap-again', { amount: 10, dialect: 'v1-status' });
  assert.match(lookedUp.payment.fail_reason ?? '', /is for 10, the order costs 1000/);
  assert.equal(sale.merchant.stock(), 5);
});

test('stock held by a declined payment comes back: V1 sends no notice, so the hold deadline looks it up', async (t) => {
  const sale = await saleFor(t, { stock: 1 });
  const declined = await pay(sale, 'declined', { outcome: 'decline' });
  assert.equal(declined.confirm?.decision.proceed, true);
  assert.equal(declined.payment.status, 'failed');
  assert.equal(declined.webhook, null, 'V1 sends no notice for a failed payment');
  assert.equal(sale.merchant.stock(), 0, 'the confirm took the last unit');
  await eventually(() => sale.merchant.stock() === 1, HOLD_MS * 10, 'the declined payment\'s unit is back');
  const next = await pay(sale, 'next-buyer');
  assert.equal(next.payment.status, 'paid', 'the released unit sells again');
  assert.equal(sale.merchant.stock(), 0);
});

test('a cancellation notice is looked up and gives the unit back; a forged notice changes nothing', async (t) => {
  const sale = await saleFor(t, { stock: 2 });
  const paid = await pay(sale, 'to-cancel');
  assert.equal(sale.merchant.stock(), 1);
  const forged = await request(sale.merchant.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ imp_uid: paid.payment.imp_uid.replace(/\d$/, (d) => String((Number(d) + 1) % 10)), merchant_uid: 'to-cancel', status: 'cancelled' }),
  });
  assert.equal(forged.statusCode, 404);
  await forged.body.dump();
  const lying = await request(sale.merchant.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ imp_uid: paid.payment.imp_uid, merchant_uid: 'to-cancel', status: 'cancelled' }),
  });
  assert.equal(lying.statusCode, 200);
  await lying.body.dump();
  assert.equal(sale.merchant.stock(), 1, 'the body said cancelled, the gateway says paid');

  const cancel = await sale.gateway.cancelPayment({ imp_uid: paid.payment.imp_uid, enable_webhook: true });
  assert.equal(cancel.payment.status, 'cancelled');
  assert.ok(cancel.webhook, 'the cancellation was notified');
  assert.equal(sale.merchant.stock(), 2);
});

test('the access token is fetched once and reused until shortly before it expires', async (t) => {
  const sale = await saleFor(t, { stock: 100 }, { tokenTtlSeconds: 2 });
  await Promise.all(Array.from({ length: 20 }, (_, i) => pay(sale, `buyer-${i}`)));
  assert.equal(sale.merchant.stock(), 80);
  assert.equal(sale.tokenCalls(), 1, 'twenty concurrent confirms share one token');
  // Renewed at half a 2 s lifetime at the latest (30 s ahead for a real 30-minute token).
  await sleep(1_100);
  await pay(sale, 'after-expiry');
  assert.equal(sale.tokenCalls(), 2);
});

test('a gateway that cannot be reached refuses the confirm (503) rather than selling unverified', async (t) => {
  const sale = await saleFor(t);
  const attempt = await pay(sale, 'first');
  assert.equal(attempt.payment.status, 'paid');
  const gatewayUrl = sale.gateway.url;
  await sale.gateway.close();
  const answer = await postConfirm(sale.merchant, { imp_uid: newImpUid(), merchant_uid: 'while-down', amount: PRICE, status: 'ready' });
  assert.equal(answer.status, 503);
  assert.match(String(answer.reason), /could not verify the payment/);
  assert.ok(!String(answer.reason).includes('confirm_sim_secret'));
  assert.equal(sale.merchant.stock(), 4);
  assert.ok(gatewayUrl.startsWith('http://127.0.0.1:'));
});

test('trusting takes a forged confirm and an underpaid one; no-release keeps a declined payment\'s unit', async (t) => {
  const trusting = await saleFor(t, { flaw: 'trusting' });
  const forged = await postConfirm(trusting.merchant, { imp_uid: newImpUid(), merchant_uid: 'forged', amount: PRICE, status: 'ready' });
  assert.equal(forged.status, 200, 'no lookup: any imp_uid takes stock');
  const underpaid = await pay(trusting, 'cheap', { amount: 10, dialect: 'v1-status' });
  assert.equal(underpaid.payment.status, 'paid', 'charged 10 for a 1000 item');
  assert.equal(trusting.merchant.stock(), 3);

  const noRelease = await saleFor(t, { flaw: 'no-release', stock: 1 });
  const declined = await pay(noRelease, 'declined', { outcome: 'decline' });
  assert.equal(declined.payment.status, 'failed');
  await sleep(HOLD_MS * 4);
  assert.equal(noRelease.merchant.stock(), 0, 'the declined unit never comes back');
  const turnedAway = await pay(noRelease, 'next-buyer');
  assert.equal(turnedAway.payment.status, 'failed', 'the next buyer is told sold out: undersold');
});

test('merchant --verify rest: needs --gateway, shows what it verifies, and generates an admin token', async (t) => {
  const gateway = await startGateway({ port: 0 });
  t.after(() => gateway.close());
  const run = await runCli(['merchant', '--port', '0', '--verify', 'rest', '--gateway', gateway.url], { signal: AbortSignal.timeout(200) });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`verify\\s+every confirm and notice is looked up at ${gateway.url}`));
  assert.match(run.stdout, /hold\s+5\.00 s: then an unpaid reservation is looked up/);
  assert.match(run.stdout, /--hook-header 'authorization: Bearer csadm_/);

  const cases: [string[], RegExp][] = [
    [['--verify', 'rest'], /give its URL \(--gateway/],
    [['--verify', 'soap', '--gateway', gateway.url], /--verify: unknown way "soap"/],
    [['--gateway', gateway.url], /add --verify rest/],
    [['--flaw', 'trusting'], /--flaw trusting is a merchant that looks payments up, badly: give --verify rest/],
    [['--verify', 'rest', '--gateway', 'ftp://x'], /--gateway/],
    [['--verify', 'rest', '--gateway', gateway.url, '--imp-secret-env', 'CONFIRM_SIM_UNSET_VAR'], /CONFIRM_SIM_UNSET_VAR is empty or not set/],
  ];
  for (const [args, message] of cases) {
    const bad = await runCli(['merchant', '--port', '0', ...args]);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stdout}`);
    assert.match(bad.stderr, message);
  }
});
