import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { buildConfirmBody, newImpUid, parseWebhookSecret } from '../src/protocol/index.js';
import { adminHeaders, generateAdminToken, startMerchant, type MerchantOptions, type RunningMerchant } from '../src/merchants/index.js';
import { runBurst } from '../src/load/index.js';
import { runCheck } from '../src/contract/index.js';
import { runCli } from './helpers/cli.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

async function merchantFor(t: TestContext, options: MerchantOptions): Promise<RunningMerchant> {
  const merchant = await startMerchant(options);
  t.after(() => merchant.close());
  return merchant;
}

async function call(
  url: string,
  method: 'GET' | 'POST',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const answer = await request(url, {
    method,
    headers: body === undefined ? headers : { ...JSON_HEADERS, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: answer.statusCode, json: (await answer.body.json()) as Record<string, unknown> };
}

test('a V1 confirm with any status but ready is refused and takes no stock; one without amount or status stays valid', async (t) => {
  const merchant = await merchantFor(t, { stock: 5, openOrders: true });
  for (const status of ['failed', 'paid', 'cancelled', 'READY']) {
    const body = { imp_uid: newImpUid(), merchant_uid: `order-${status}`, status, amount: 1000 };
    const answer = await call(merchant.confirmUrl, 'POST', body);
    assert.equal(answer.status, 400, status);
    assert.match(String(answer.json.reason), /status must be "ready"/);
  }
  assert.equal(merchant.stock(), 5);
  const older = buildConfirmBody('v1-status', { merchantUid: 'older', impUid: newImpUid(), amount: 1000, status: 'ready', transactionId: 'tx' });
  assert.equal((await call(merchant.confirmUrl, 'POST', JSON.parse(older))).status, 200);
  const current = buildConfirmBody('v1-amount', { merchantUid: 'current', impUid: newImpUid(), amount: 1000, status: 'ready', transactionId: 'tx' });
  assert.equal((await call(merchant.confirmUrl, 'POST', JSON.parse(current))).status, 200);
  assert.equal(merchant.stock(), 3);

  const lenient = await merchantFor(t, { stock: 5, openOrders: true, flaw: 'lenient' });
  const waved = await call(lenient.confirmUrl, 'POST', { imp_uid: newImpUid(), merchant_uid: 'x', status: 'failed' });
  assert.equal(waved.status, 200, 'the lenient flaw still waves garbage through, for check to catch');
});

test('with an admin token, /reset and /orders refuse callers without it; /confirm, /stock and /webhook stay open', async (t) => {
  const token = generateAdminToken();
  const merchant = await merchantFor(t, { stock: 3, adminToken: token, secret: parseWebhookSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') });
  assert.equal(merchant.adminToken, token);
  assert.deepEqual(merchant.adminHeaders, { authorization: `Bearer ${token}` });

  const attacks: [string, 'GET' | 'POST', unknown, Record<string, string>][] = [
    [merchant.resetUrl, 'POST', { stock: 999_999 }, {}],
    [merchant.resetUrl, 'POST', { stock: 999_999 }, { authorization: `Bearer ${token.slice(0, -1)}x` }],
    [merchant.resetUrl, 'POST', { stock: 999_999 }, { authorization: token }],
    [merchant.resetUrl, 'POST', { stock: 999_999 }, { authorization: `Bearer ${token}${token}` }],
    [merchant.orderUrl, 'POST', { merchant_uid: 'mine', amount: 1, quantity: 1 }, {}],
    [merchant.orderUrl, 'GET', undefined, {}],
  ];
  for (const [url, method, body, headers] of attacks) {
    const answer = await call(url, method, body, headers);
    assert.equal(answer.status, 401, `${method} ${url} ${JSON.stringify(headers)}`);
    assert.match(String(answer.json.error), /admin token/);
  }
  assert.equal(merchant.stock(), 3, 'no unauthenticated reset got through');

  assert.equal((await call(merchant.resetUrl, 'POST', { stock: 7 }, adminHeaders(token))).status, 200);
  assert.equal((await call(merchant.stockUrl, 'GET')).json.stock, 7);
  assert.equal((await call(merchant.orderUrl, 'POST', { merchant_uid: 'o-1', amount: 1000 }, merchant.adminHeaders)).status, 201);
  assert.equal(merchant.stock(), 7);

  const open = await merchantFor(t, { stock: 3 });
  assert.equal(open.adminToken, null);
  assert.equal((await call(open.resetUrl, 'POST', { stock: 4 })).status, 200, 'without a token the admin routes stay open');
});

test("burst and check send the admin token with --hook-header / hookHeaders; without it their set-up fails", async (t) => {
  const token = generateAdminToken();
  const merchant = await merchantFor(t, { stock: 3, adminToken: token });
  const burstOptions = {
    url: merchant.confirmUrl,
    buyers: 20,
    stock: 5,
    orderUrl: merchant.orderUrl,
    resetUrl: merchant.resetUrl,
    stockUrl: merchant.stockUrl,
  };
  await assert.rejects(runBurst(burstOptions), /`resetUrl`: POST .* answered 401/);
  const report = await runBurst({ ...burstOptions, hookHeaders: merchant.adminHeaders });
  assert.equal(report.verdict.pass, true, report.verdict.summary);
  assert.equal(merchant.stock(), 0);
  assert.ok(!JSON.stringify(report).includes(token), 'the report never carries the token');

  const hooks = { orderUrl: merchant.orderUrl, resetUrl: merchant.resetUrl, stockUrl: merchant.stockUrl };
  const denied = await runCheck({ url: merchant.confirmUrl, ...hooks, grep: /unknown-order/ });
  assert.equal(denied.ok, false);
  const allowed = await runCheck({ url: merchant.confirmUrl, ...hooks, hookHeaders: merchant.adminHeaders, grep: /unknown-order|wrong-amount|idempotent/ });
  assert.equal(allowed.ok, true, JSON.stringify(allowed.cases.map((c) => [c.name, c.status, c.message])));
  assert.ok(!JSON.stringify(allowed).includes(token));

  const cli = await runCli([
    'burst', merchant.confirmUrl, '--buyers', '10', '--stock', '2', '--quiet',
    '--reset-url', merchant.resetUrl, '--order-url', merchant.orderUrl,
    '--hook-header', `authorization: Bearer ${token}`,
  ]);
  assert.equal(cli.code, 0, cli.stdout + cli.stderr);
  assert.ok(!(cli.stdout + cli.stderr).includes(token));
});

test('the merchant keeps a bounded number of orders and pages GET /orders', async (t) => {
  const merchant = await merchantFor(t, { stock: 10, maxOrders: 5, openOrders: true });
  for (let i = 0; i < 4; i++) {
    assert.equal((await call(merchant.orderUrl, 'POST', { merchant_uid: `o-${i}`, amount: 1000 })).status, 201);
  }
  const body = (uid: string): unknown => ({ imp_uid: newImpUid(), merchant_uid: uid, amount: 1000 });
  assert.equal((await call(merchant.confirmUrl, 'POST', body('walk-in'))).status, 200, 'the fifth order still fits');
  const full = await call(merchant.orderUrl, 'POST', { merchant_uid: 'o-5', amount: 1000 });
  assert.equal(full.status, 507);
  assert.match(String(full.json.error), /at most 5 orders/);
  const fullConfirm = await call(merchant.confirmUrl, 'POST', body('walk-in-2'));
  assert.equal(fullConfirm.status, 503);
  assert.equal(merchant.stock(), 9, 'a refused order takes nothing');
  assert.equal((await call(merchant.confirmUrl, 'POST', body('o-1'))).status, 200, 'known orders still confirm');

  const first = await call(`${merchant.orderUrl}?limit=2`, 'GET');
  assert.equal(first.status, 200);
  assert.equal(first.json.total, 5);
  assert.equal(first.json.next, 2);
  assert.deepEqual((first.json.orders as { merchant_uid: string }[]).map((o) => o.merchant_uid), ['o-0', 'o-1']);
  assert.deepEqual((first.json.orders as unknown[])[1], { merchant_uid: 'o-1', amount: 1000, quantity: 1, state: 'reserved', held: 1 });
  const last = await call(`${merchant.orderUrl}?offset=4&limit=2`, 'GET');
  assert.deepEqual((last.json.orders as { merchant_uid: string }[]).map((o) => o.merchant_uid), ['walk-in']);
  assert.equal(last.json.next, null);
  for (const query of ['limit=0', 'limit=1001', 'offset=-1', 'limit=abc', 'offset=1e3']) {
    assert.equal((await call(`${merchant.orderUrl}?${query}`, 'GET')).status, 400, query);
  }
  const defaults = await call(merchant.orderUrl, 'GET');
  assert.equal((defaults.json.orders as unknown[]).length, 5);

  await call(merchant.resetUrl, 'POST', {});
  assert.equal((await call(merchant.orderUrl, 'POST', { merchant_uid: 'o-5', amount: 1000 })).status, 201, 'a reset frees the book');
});

test('merchant --secret prints a generated admin token once; --admin-token is masked; bad tokens exit 2', async () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const stopSoon = (): AbortSignal => AbortSignal.timeout(150);
  const generated = await runCli(['merchant', '--port', '0', '--json', '-', '--secret', secret], { signal: stopSoon() });
  assert.equal(generated.code, 0, generated.stderr);
  const started = JSON.parse(generated.stdout.split('\n')[0]!) as { adminToken: string };
  assert.match(started.adminToken, /^csadm_[\w-]{24}$/);

  const text = await runCli(['merchant', '--port', '0', '--secret', secret], { signal: stopSoon() });
  assert.match(text.stdout, /admin\s+\/reset and \/orders need it; give confirm-sim --hook-header 'authorization: Bearer csadm_[\w-]{24}'/);

  const given = 'my-own-admin-token-123';
  const masked = await runCli(['merchant', '--port', '0', '--json', '-', '--admin-token', given], { signal: stopSoon() });
  assert.equal((JSON.parse(masked.stdout.split('\n')[0]!) as { adminToken: string }).adminToken, '****');
  assert.ok(!masked.stdout.includes(given));

  const open = await runCli(['merchant', '--port', '0', '--json', '-'], { signal: stopSoon() });
  assert.equal((JSON.parse(open.stdout.split('\n')[0]!) as { adminToken: string | null }).adminToken, null);

  const short = await runCli(['merchant', '--admin-token', 'short']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /--admin-token: give at least 16 visible ASCII characters/);
  const bad = await runCli(['merchant', '--max-orders', '0']);
  assert.equal(bad.code, 2);
});
