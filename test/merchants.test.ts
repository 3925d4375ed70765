import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import {
  buildConfirmBody,
  decide,
  newImpUid,
  newTransactionId,
  parseWebhookSecret,
  signWebhook,
  v1FailReason,
  DEFAULT_TIMEOUT_MS,
  DIALECTS,
  type ConfirmAnswer,
  type Dialect,
  type SignOptions,
} from '../src/protocol/index.js';
import { startMerchant, type MerchantOptions, type RunningMerchant } from '../src/merchants/index.js';
import { runCli, spawnCli } from './helpers/cli.js';
import { Chalk } from 'chalk';
import { formatConfirm } from '../src/reporters/merchant-terminal.js';

const agent = new Agent({ connections: null });
after(() => agent.close());

const SECRET_TEXT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET = parseWebhookSecret(SECRET_TEXT);
const JSON_HEADERS = { 'content-type': 'application/json' };

interface Answer {
  status: number;
  text: string;
  ms: number;
}

async function send(url: string, body: string, headers: Record<string, string> = JSON_HEADERS): Promise<Answer> {
  const started = performance.now();
  const res = await request(url, { method: 'POST', body, headers, dispatcher: agent });
  const text = await res.body.text();
  return { status: res.statusCode, text, ms: performance.now() - started };
}

function gatewayAnswer(answer: Answer): ConfirmAnswer {
  return { kind: 'http', status: answer.status, body: answer.text };
}

function field(answer: Answer, name: string): unknown {
  return (JSON.parse(answer.text) as Record<string, unknown>)[name];
}

async function merchantFor(t: TestContext, options: MerchantOptions = {}): Promise<RunningMerchant> {
  const merchant = await startMerchant(options);
  t.after(() => merchant.close());
  return merchant;
}

async function createOrder(merchant: RunningMerchant, merchantUid: string, amount = 1000, quantity = 1): Promise<void> {
  const answer = await send(merchant.orderUrl, JSON.stringify({ merchant_uid: merchantUid, amount, quantity }));
  assert.equal(answer.status, 201, answer.text);
}

function confirmBody(dialect: Dialect, merchantUid: string, amount = 1000): string {
  return buildConfirmBody(dialect, {
    merchantUid,
    impUid: newImpUid(),
    amount,
    status: 'ready',
    transactionId: newTransactionId(),
  });
}

function confirm(
  merchant: RunningMerchant,
  merchantUid: string,
  options: { dialect?: Dialect; amount?: number; sign?: SignOptions } = {},
): Promise<Answer> {
  const body = confirmBody(options.dialect ?? 'v1', merchantUid, options.amount);
  const signature = options.sign ? signWebhook(SECRET, body, options.sign) : {};
  return send(merchant.confirmUrl, body, { ...JSON_HEADERS, ...signature });
}

function v1Webhook(merchant: RunningMerchant, merchantUid: string, status: string, form = false): Promise<Answer> {
  const fields = { imp_uid: newImpUid(), merchant_uid: merchantUid, status };
  return form
    ? send(merchant.webhookUrl, new URLSearchParams(fields).toString(), { 'content-type': 'application/x-www-form-urlencoded' })
    : send(merchant.webhookUrl, JSON.stringify(fields));
}

function v2Webhook(merchant: RunningMerchant, paymentId: string, type: string, signed: boolean): Promise<Answer> {
  const body = JSON.stringify({
    type,
    timestamp: new Date().toISOString(),
    data: { storeId: 'store-1', paymentId, transactionId: newTransactionId() },
  });
  return send(merchant.webhookUrl, body, { ...JSON_HEADERS, ...(signed ? signWebhook(SECRET, body) : {}) });
}

test('accepts a confirm in every dialect and takes one unit for each', async (t) => {
  const merchant = await merchantFor(t, { stock: 10 });
  for (const dialect of DIALECTS) {
    await createOrder(merchant, `order-${dialect}`);
    const answer = await confirm(merchant, `order-${dialect}`, { dialect });
    assert.equal(answer.status, 200, `${dialect}: ${answer.text}`);
    assert.equal(decide(dialect, gatewayAnswer(answer)).proceed, true);
  }
  assert.equal(merchant.stock(), 10 - DIALECTS.length);
  const stock = await request(merchant.stockUrl, { dispatcher: agent });
  assert.deepEqual(await stock.body.json(), { stock: 10 - DIALECTS.length });
});

test('sold out is a 409 with the reason where each dialect reads it', async (t) => {
  const merchant = await merchantFor(t, { stock: 1 });
  for (const uid of ['first', 'second', 'third']) await createOrder(merchant, uid);
  assert.equal((await confirm(merchant, 'first')).status, 200);

  const v1 = await confirm(merchant, 'second', { dialect: 'v1' });
  assert.equal(v1.status, 409);
  assert.equal(field(v1, 'reason'), 'sold out');
  assert.equal(decide('v1', gatewayAnswer(v1)).failReason, v1FailReason('sold out'));

  const v2 = await confirm(merchant, 'third', { dialect: 'v2-2024-04-25' });
  assert.equal(v2.status, 409);
  assert.equal(field(v2, 'errorMessage'), 'sold out');
  assert.equal(decide('v2-2024-04-25', gatewayAnswer(v2)).failReason, 'sold out');
  assert.equal(merchant.stock(), 0);
});

test('unknown orders and wrong amounts are refused; open orders take any new order at the list price', async (t) => {
  const strict = await merchantFor(t, { stock: 5 });
  await createOrder(strict, 'known', 1000);
  const unknown = await confirm(strict, 'nobody');
  assert.equal(unknown.status, 404);
  assert.match(String(field(unknown, 'reason')), /unknown order nobody/);
  const wrongAmount = await confirm(strict, 'known', { amount: 10 });
  assert.equal(wrongAmount.status, 409);
  assert.match(String(field(wrongAmount, 'reason')), /amount 10 does not match/);
  assert.equal(strict.stock(), 5);

  const open = await merchantFor(t, { stock: 5, openOrders: true, amount: 500 });
  assert.equal((await confirm(open, 'walk-in', { amount: 500 })).status, 200);
  assert.equal((await confirm(open, 'walk-in-2', { dialect: 'v1-status' })).status, 200);
  assert.equal((await confirm(open, 'walk-in-3', { amount: 1000 })).status, 409);
  assert.equal(open.stock(), 3);
});

test('orders are created idempotently and validated', async (t) => {
  const merchant = await merchantFor(t);
  await createOrder(merchant, 'order-1', 1000, 2);
  await createOrder(merchant, 'order-1', 1000, 2);
  const conflict = await send(merchant.orderUrl, JSON.stringify({ merchant_uid: 'order-1', amount: 1, quantity: 2 }));
  assert.equal(conflict.status, 409);
  const bad = await send(merchant.orderUrl, JSON.stringify({ merchant_uid: 'order-2', amount: '1000' }));
  assert.equal(bad.status, 400);
  assert.equal((await confirm(merchant, 'order-1')).status, 200);
  assert.equal(merchant.stock(), 98, 'an order of quantity 2 takes 2 units');

  const reset = await send(merchant.resetUrl, JSON.stringify({ stock: 7 }));
  assert.deepEqual(JSON.parse(reset.text), { stock: 7 });
  assert.equal((await confirm(merchant, 'order-1')).status, 404, 'reset forgets orders');
  const resetToStart = await send(merchant.resetUrl, '');
  assert.deepEqual(JSON.parse(resetToStart.text), { stock: 100 });
});

test('a repeated confirm gets the same answer and takes no more stock', async (t) => {
  const merchant = await merchantFor(t, { stock: 1 });
  await createOrder(merchant, 'a');
  await createOrder(merchant, 'b');
  assert.equal((await confirm(merchant, 'a')).status, 200);
  assert.equal((await confirm(merchant, 'a')).status, 200);
  assert.equal(merchant.stock(), 0);
  assert.equal((await confirm(merchant, 'b')).status, 409);

  assert.equal((await v1Webhook(merchant, 'a', 'paid')).status, 200);
  const paidAgain = await confirm(merchant, 'a');
  assert.equal(paidAgain.status, 409);
  assert.equal(field(paidAgain, 'reason'), 'order already paid');

  assert.equal((await v1Webhook(merchant, 'a', 'cancelled')).status, 200);
  assert.equal(merchant.stock(), 1);
  const refusedAgain = await confirm(merchant, 'b');
  assert.equal(refusedAgain.status, 409, 'a refused order stays refused');
  assert.equal(field(refusedAgain, 'reason'), 'sold out');
  assert.equal(merchant.stock(), 1);
});

test('malformed confirms get 400 (413 when oversized) and the server keeps serving', async (t) => {
  const merchant = await merchantFor(t, { stock: 5 });
  await createOrder(merchant, 'good');
  const cases: [string, string, Record<string, string>][] = [
    ['bad JSON', '{"merchant_uid": ', JSON_HEADERS],
    ['wrong content type', confirmBody('v1', 'good'), { 'content-type': 'text/plain' }],
    ['no content type', confirmBody('v1', 'good'), {}],
    ['an array', '[1,2]', JSON_HEADERS],
    ['a JSON string', '"good"', JSON_HEADERS],
    ['missing merchant_uid', JSON.stringify({ imp_uid: newImpUid(), amount: 1000 }), JSON_HEADERS],
    ['amount as a string', JSON.stringify({ imp_uid: newImpUid(), merchant_uid: 'good', amount: '1000' }), JSON_HEADERS],
    ['neither amount nor status', JSON.stringify({ imp_uid: newImpUid(), merchant_uid: 'good' }), JSON_HEADERS],
    ['V2 without tx_id', JSON.stringify({ payment_id: 'good', total_amount: 1000 }), JSON_HEADERS],
    ['order id over 40 characters', confirmBody('v1', 'x'.repeat(41)), JSON_HEADERS],
  ];
  for (const [name, body, headers] of cases) {
    const answer = await send(merchant.confirmUrl, body, headers);
    assert.equal(answer.status, 400, `${name}: ${answer.text}`);
    assert.ok(field(answer, 'reason') ?? field(answer, 'errorMessage'), `${name} carries a reason`);
  }
  const oversized = await send(merchant.confirmUrl, `{"pad":"${'x'.repeat(1_000_000)}"}`);
  assert.equal(oversized.status, 413);

  const url = new URL(merchant.url);
  const chunkedStatus = await rawExchange(url, (socket) => {
    // A chunked upload declares no length: the cap has to hold while reading.
    socket.write(`POST /confirm HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 8; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  });
  assert.match(chunkedStatus, /^HTTP\/1\.1 413/);
  const garbageStatus = await rawExchange(url, (socket) => socket.write('NOT HTTP AT ALL\r\n\r\n'));
  assert.match(garbageStatus, /^HTTP\/1\.1 400/);

  assert.equal((await confirm(merchant, 'good')).status, 200);
  assert.equal(merchant.stock(), 4, 'only the one valid confirm took stock');
});

/** Writes raw bytes on a fresh socket and resolves with the first line of the answer. */
function rawExchange(url: URL, write: (socket: ReturnType<typeof connect>) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    // The server may hang up while we are still uploading; the answer we already read is what counts.
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      if (received.includes('\r\n')) {
        socket.destroy();
        resolve(received.slice(0, received.indexOf('\r\n')));
      }
    });
    socket.on('close', () => reject(new Error(`closed without an answer: ${received}`)));
    socket.on('connect', () => write(socket));
  });
}

test('with a secret, V2 confirms must be signed, fresh and not replayed', async (t) => {
  const merchant = await merchantFor(t, { stock: 10, secret: SECRET, openOrders: true });
  const dialect = 'v2-2024-04-25';
  const unsigned = await confirm(merchant, 'unsigned', { dialect });
  assert.equal(unsigned.status, 401);
  assert.match(String(field(unsigned, 'errorMessage')), /signature/);

  const body = confirmBody(dialect, 'forged');
  const forged = signWebhook(parseWebhookSecret('whsec_dGhpcyBpcyBhbm90aGVyIGtleQ=='), body);
  assert.equal((await send(merchant.confirmUrl, body, { ...JSON_HEADERS, ...forged })).status, 401);
  const tampered = signWebhook(SECRET, body);
  assert.equal((await send(merchant.confirmUrl, body.replace('1000', '1'), { ...JSON_HEADERS, ...tampered })).status, 401);

  const stale = await confirm(merchant, 'stale', { dialect, sign: { timestampSeconds: Math.floor(Date.now() / 1000) - 600 } });
  assert.equal(stale.status, 401);
  assert.match(String(field(stale, 'errorMessage')), /too old/);

  const validBody = confirmBody(dialect, 'valid');
  const headers = { ...JSON_HEADERS, ...signWebhook(SECRET, validBody) };
  assert.equal((await send(merchant.confirmUrl, validBody, headers)).status, 200);
  const replay = await send(merchant.confirmUrl, validBody, headers);
  assert.equal(replay.status, 401);
  assert.match(String(field(replay, 'errorMessage')), /replayed/);

  assert.equal((await confirm(merchant, 'flat', { dialect: 'v2-2024-01-01', sign: {} })).status, 200);
  assert.equal(merchant.stock(), 8, 'only the two genuine confirms took stock');
});

test('with a secret, an unsigned V1-shaped confirm is refused too and takes no stock', async (t) => {
  const merchant = await merchantFor(t, { stock: 10, secret: SECRET, openOrders: true });
  const unsigned = await confirm(merchant, 'v1-has-no-signature', { dialect: 'v1' });
  assert.equal(unsigned.status, 401);
  assert.match(String(field(unsigned, 'reason')), /signature/);
  const body = confirmBody('v1', 'v1-forged');
  const forged = signWebhook(parseWebhookSecret('whsec_dGhpcyBpcyBhbm90aGVyIGtleQ=='), body);
  assert.equal((await send(merchant.confirmUrl, body, { ...JSON_HEADERS, ...forged })).status, 401);
  assert.equal(merchant.stock(), 10, 'no unsigned or forged confirm took stock, whatever its body shape');
  const signed = confirmBody('v1', 'v1-signed');
  assert.equal((await send(merchant.confirmUrl, signed, { ...JSON_HEADERS, ...signWebhook(SECRET, signed) })).status, 200);
  assert.equal(merchant.stock(), 9, 'a correctly signed V1-shaped confirm is accepted');
});

test('webhooks commit or release reservations (V1 JSON and form, V2 signed)', async (t) => {
  const v1 = await merchantFor(t, { stock: 3, openOrders: true });
  for (const uid of ['a', 'b', 'c']) assert.equal((await confirm(v1, uid)).status, 200);
  assert.equal((await v1Webhook(v1, 'a', 'paid')).status, 200);
  assert.equal(v1.stock(), 0, 'paid keeps the unit sold');
  assert.equal((await v1Webhook(v1, 'b', 'failed', true)).status, 200);
  assert.equal(v1.stock(), 1, 'a failed payment (form-encoded) gives its unit back');
  assert.equal((await v1Webhook(v1, 'a', 'cancelled', true)).status, 200);
  assert.equal(v1.stock(), 2, 'a cancel after paid gives the unit back');
  assert.equal((await send(v1.webhookUrl, '{oops')).status, 400);
  assert.equal((await send(v1.webhookUrl, JSON.stringify({ merchant_uid: 'c' }))).status, 400);
  assert.equal(v1.stock(), 2);

  const v2 = await merchantFor(t, { stock: 2, openOrders: true, secret: SECRET });
  for (const uid of ['x', 'y']) {
    assert.equal((await confirm(v2, uid, { dialect: 'v2-2024-04-25', sign: {} })).status, 200);
  }
  assert.equal((await v2Webhook(v2, 'x', 'Transaction.Failed', false)).status, 401);
  assert.equal(v2.stock(), 0, 'an unsigned webhook changes nothing');
  assert.equal((await v1Webhook(v2, 'x', 'failed')).status, 401);
  assert.equal(v2.stock(), 0, 'nor does an unsigned V1-shaped notice when notices are signed');
  assert.equal((await v2Webhook(v2, 'x', 'Transaction.Failed', true)).status, 200);
  assert.equal(v2.stock(), 1);
  assert.equal((await v2Webhook(v2, 'y', 'Transaction.Paid', true)).status, 200);
  assert.equal(v2.stock(), 1);
  assert.equal((await v2Webhook(v2, 'y', 'Transaction.Cancelled', true)).status, 200);
  assert.equal(v2.stock(), 2);
});

test('the hold deadline brings back unpaid reservations, not paid ones', async (t) => {
  const merchant = await merchantFor(t, { stock: 2, openOrders: true, holdMs: 100 });
  assert.equal((await confirm(merchant, 'paid-in-time')).status, 200);
  assert.equal((await confirm(merchant, 'abandoned')).status, 200);
  await v1Webhook(merchant, 'paid-in-time', 'paid');
  assert.equal(merchant.stock(), 0);
  await sleep(400);
  assert.equal(merchant.stock(), 1);
  assert.equal((await confirm(merchant, 'abandoned')).status, 200, 'a lapsed order may be paid again');
  assert.equal(merchant.stock(), 0);
});

/** Fires `buyers` confirms at once, each for its own open order, and counts the 200s. */
async function burst(merchant: RunningMerchant, buyers: number): Promise<number> {
  const answers = await Promise.all(Array.from({ length: buyers }, (_, i) => confirm(merchant, `buyer-${i}`)));
  return answers.filter((answer) => answer.status === 200).length;
}

test('race oversells under a concurrent burst; the correct merchant accepts exactly its stock', async (t) => {
  const correct = await merchantFor(t, { stock: 50, openOrders: true });
  assert.equal(await burst(correct, 500), 50);
  assert.equal(correct.stock(), 0);

  const racy = await merchantFor(t, { stock: 50, openOrders: true, flaw: 'race' });
  const accepted = await burst(racy, 500);
  assert.ok(accepted > 50, `race accepted ${accepted} buyers for 50 units`);
});

test('double takes stock again for a repeated confirm', async (t) => {
  for (const [flaw, expectedStock] of [[undefined, 2], ['double', 0]] as const) {
    const merchant = await merchantFor(t, { stock: 3, flaw });
    await createOrder(merchant, 'again');
    for (let i = 0; i < 3; i++) assert.equal((await confirm(merchant, 'again')).status, 200, `${flaw} repeat ${i}`);
    assert.equal(merchant.stock(), expectedStock, `${flaw ?? 'correct'}`);
  }
  const double = await merchantFor(t, { stock: 1, flaw: 'double' });
  await createOrder(double, 'again');
  assert.equal((await confirm(double, 'again')).status, 200);
  assert.equal((await confirm(double, 'again')).status, 409, 'double still stops at zero');
});

test('lenient answers 200 to garbage, unknown orders and wrong amounts, without taking stock', async (t) => {
  const merchant = await merchantFor(t, { stock: 1, flaw: 'lenient' });
  await createOrder(merchant, 'known');
  await createOrder(merchant, 'late');
  const garbage = [
    await send(merchant.confirmUrl, 'not json'),
    await send(merchant.confirmUrl, confirmBody('v1', 'known'), { 'content-type': 'text/plain' }),
    await send(merchant.confirmUrl, JSON.stringify({ merchant_uid: 7 })),
    await confirm(merchant, 'nobody'),
    await confirm(merchant, 'known', { amount: 1 }),
  ];
  for (const answer of garbage) assert.equal(answer.status, 200, answer.text);
  assert.equal(merchant.stock(), 1);
  assert.equal((await confirm(merchant, 'known')).status, 200);
  assert.equal((await confirm(merchant, 'known')).status, 200);
  assert.equal(merchant.stock(), 0, 'known orders are still handled correctly');
  assert.equal((await confirm(merchant, 'late')).status, 409, 'sold out is still refused');
});

test('slow answers overloaded confirms after the gateway timeout, yet takes their stock', async (t) => {
  const crowd = 30;
  const merchant = await merchantFor(t, { stock: 40, openOrders: true, flaw: 'slow' });
  const single = await confirm(merchant, 'alone');
  assert.equal(single.status, 200);
  assert.ok(single.ms < DEFAULT_TIMEOUT_MS, 'one confirm at a time is answered in time');

  const pending = Promise.all(Array.from({ length: crowd }, (_, i) => confirm(merchant, `crowd-${i}`)));
  await sleep(1_000);
  assert.equal(merchant.stock(), 40 - 1 - crowd, 'every confirm took its unit before answering');
  const answers = await pending;
  assert.ok(answers.every((answer) => answer.status === 200));
  const late = answers.filter((answer) => answer.ms > DEFAULT_TIMEOUT_MS).length;
  assert.ok(late >= 1, `${late} of ${crowd} answered after the gateway's timeout`);
  assert.ok(crowd - late >= 4, 'the first four in flight are answered in time');

  const correct = await merchantFor(t, { stock: 40, openOrders: true });
  const correctAnswers = await Promise.all(Array.from({ length: crowd }, (_, i) => confirm(correct, `crowd-${i}`)));
  assert.ok(correctAnswers.every((answer) => answer.ms < DEFAULT_TIMEOUT_MS));
});

test('leak never gives back stock of failed payments; the correct merchant does', async (t) => {
  for (const [flaw, expectedStock] of [[undefined, 2], ['leak', 0]] as const) {
    const merchant = await merchantFor(t, { stock: 2, openOrders: true, holdMs: 100, flaw });
    assert.equal((await confirm(merchant, 'declined')).status, 200);
    assert.equal((await confirm(merchant, 'abandoned')).status, 200);
    await v1Webhook(merchant, 'declined', 'failed');
    await sleep(400);
    assert.equal(merchant.stock(), expectedStock, flaw ?? 'correct');
  }
});

test('close ends idle keep-alive connections promptly', async () => {
  const merchant = await startMerchant();
  await send(merchant.resetUrl, '');
  const started = performance.now();
  await merchant.close();
  await merchant.close();
  assert.ok(performance.now() - started < DEFAULT_TIMEOUT_MS);
});

test('the CLI serves until interrupted and exits 0', { timeout: 30_000 }, async () => {
  let session: Promise<void> = Promise.resolve();
  const run = await spawnCli(['merchant', '--port', '0', '--stock', '7', '--verbose'], {
    onSpawn: (child) => {
      session = (async () => {
        try {
          let output = '';
          const confirmUrl = await new Promise<string>((resolve) => {
            child.stdout?.on('data', (chunk: string) => {
              output += chunk;
              const match = /confirm\s+(http:\/\/\S+\/confirm)/.exec(output);
              if (match?.[1]) resolve(match[1]);
            });
          });
          const answer = await send(confirmUrl, confirmBody('v1', 'nobody'));
          assert.equal(answer.status, 404);
        } finally {
          child.kill('SIGINT');
        }
      })();
    },
  });
  await session;
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /flaw\s+none/);
  assert.match(run.stdout, /confirm nobody 404 unknown order nobody/);
  assert.match(run.stdout, /merchant stopped with 7 units in stock/);
});

test('the CLI prints JSON lines and never the secret', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const run = await runCli(['merchant', '--port', '0', '--json', '-', '--secret', SECRET_TEXT, '--flaw', 'race'], {
    signal: controller.signal,
  });
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines[0]?.type, 'started');
  assert.equal(lines[0]?.flaw, 'race');
  assert.equal(lines[0]?.signatures, 'whsec_****');
  assert.match(String(lines[0]?.confirmUrl), /^http:\/\/127\.0\.0\.1:\d+\/confirm$/);
  assert.equal(lines.at(-1)?.type, 'stopped');
  assert.ok(!run.stdout.includes(SECRET_TEXT.slice('whsec_'.length)));
});

test('the CLI refuses bad values with exit 2 and one line', async (t) => {
  const busy = await merchantFor(t);
  const cases: [string[], RegExp][] = [
    [['--flaw', 'bogus'], /unknown flaw "bogus"; use one of race, double, lenient, slow, leak/],
    [['--stock', '-1'], /--stock: -1 is not a whole number 0 or more/],
    [['--port', '70000'], /--port: 70000 is not a whole number from 0 to 65535/],
    [['--port', 'abc'], /--port: "abc" is not a whole number/],
    [['--hold', 'soon'], /--hold: "soon" is not a duration/],
    [['--secret', 'whsec_not base64!'], /--secret: the secret is not valid base64/],
    [['--secret-env', 'CONFIRM_SIM_TEST_UNSET'], /CONFIRM_SIM_TEST_UNSET is not set/],
    [['--port', new URL(busy.url).port], /already in use/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(['merchant', ...args]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}`);
    assert.match(run.stderr, message);
  }
  const both = await runCli(['merchant', '--secret', SECRET_TEXT, '--secret-env', 'X']);
  assert.equal(both.code, 2);
});

test('merchant --verbose escapes control characters in the order id it prints', async (t) => {
  const merchant = await merchantFor(t, { stock: 1, openOrders: true });
  const events: Parameters<typeof formatConfirm>[0][] = [];
  merchant.events.on('confirm', (event: Parameters<typeof formatConfirm>[0]) => events.push(event));
  const hostile = 'x\u001b]0;pwned\u0007\u001b[2J\ry';
  assert.equal((await confirm(merchant, hostile)).status, 200);
  const line = formatConfirm(events[0]!, new Chalk({ level: 0 }));
  assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(line.slice(0, -1)), JSON.stringify(line));
  assert.match(line, /^confirm x\\x1b\]0;pwned\\x07\\x1b\[2J y 200 /);
});
