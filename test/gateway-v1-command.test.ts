import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Chalk } from 'chalk';
import { startGateway } from '../src/gateway/index.js';
import { attachGatewayLog } from '../src/reporters/gateway-terminal.js';
import { runCli, spawnCli } from './helpers/cli.js';

/** `confirm-sim gateway`: its flags reach the gateway, bad ones are one line and exit 2, and its log summarizes. */

const plain = new Chalk({ level: 0 });

test('gateway flags: a bad --decline-rate, --webhook-retry-scale or --max-payments is one line and exit 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--decline-rate', 'often'], /^confirm-sim: --decline-rate: "often" is not a fraction between 0 and 1/],
    [['--decline-rate', '1.5'], /--decline-rate: "1.5"/],
    [['--webhook-retry-scale', '0'], /^confirm-sim: --webhook-retry-scale: "0" is not a factor above 0 and up to 1; give e\.g\. 1\/10000/],
    [['--webhook-retry-scale', '10'], /--webhook-retry-scale: "10"/],
    [['--webhook-retry-scale', '1/0'], /--webhook-retry-scale: "1\/0"/],
    [['--webhook-retry-scale', 'fast'], /--webhook-retry-scale: "fast"/],
    [['--max-payments', '0'], /^confirm-sim: --max-payments: 0 is not a whole number 1 or more/],
    [['--max-payments', '2e5'], /--max-payments: "2e5" is not a whole number/],
  ];
  for (const [flags, message] of cases) {
    const run = await runCli(['gateway', '--port', '0', ...flags]);
    assert.equal(run.code, 2, `${flags.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, 'one line');
    assert.equal(run.stdout, '', 'no gateway was started');
  }
  const help = await runCli(['gateway', '--help']);
  for (const flag of ['--decline-rate <fraction>', '--webhook-retry-scale <factor>', '--max-payments <n>', '--verbose']) assert.ok(help.stdout.includes(flag), flag);
  assert.match(help.stdout, /\(default:\s+"1\/10000"\)/);
  assert.match(help.stdout, /\(default:\s+"200000"\)/);
});

test('gateway: --decline-rate and --max-payments reach the gateway; the log sums a burst up in a few lines', async () => {
  const observed: { oneOff?: string; tooMany?: { status: number; message: string } } = {};
  const run = await spawnCli(['gateway', '--port', '0', '--decline-rate', '100%', '--max-payments', '300', '--webhook-retry-scale', '1/1000'], {
    onSpawn: (child) => {
      let output = '';
      let started = false;
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const url = /listening on (http:\S+)/.exec(output)?.[1];
        if (!url || started) return;
        started = true;
        void (async () => {
          const post = async (path: string, body: unknown): Promise<{ status: number; body: { code: number; message: string | null; response: unknown } }> => {
            const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
            return { status: response.status, body: (await response.json()) as { code: number; message: string | null; response: unknown } };
          };
          const oneOff = await post('/sim/payments', { merchant_uid: 'order-1', amount: 1000 });
          observed.oneOff = (oneOff.body.response as { payment: { status: string; fail_reason: string } }).payment.status;
          const payments = Array.from({ length: 250 }, (_, index) => ({ orderId: `sale-${index}`, amount: 1000 }));
          await post('/sim/sales', { run: 'flash-1', payments });
          await post('/sim/confirm-answers', { run: 'flash-1', answers: payments.map((payment, index) => ({ orderId: payment.orderId, status: index < 50 ? 200 : 409 })) });
          await post('/sim/sales/flash-1/end', {});
          const tooMany = await post('/sim/sales', { run: 'flash-2', payments: Array.from({ length: 301 }, (_, index) => ({ orderId: `big-${index}`, amount: 1000 })) });
          observed.tooMany = { status: tooMany.status, message: tooMany.body.message ?? '' };
          await delay(1500);
          child.kill('SIGINT');
        })();
      });
    },
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(observed.oneOff, 'failed', '--decline-rate 100% declines every charge');
  assert.equal(observed.tooMany?.status, 409);
  assert.match(observed.tooMany?.message ?? '', /301 payments are more than the gateway keeps \(300\)/);
  assert.match(run.stdout, /PG declines +100% of charges/);
  assert.match(run.stdout, /webhook retries +V2 after waits of about 60\.0 ms, 240 ms, 960 ms, 3\.8 s, 15\.4 s/);
  assert.match(run.stdout, /keeps +300 payments at most/);

  const log = run.stdout.slice(run.stdout.indexOf('Ctrl-C stops the gateway.'));
  assert.match(log, /one-off payments: 1 registered · 1 declined/);
  assert.match(log, /run flash-1: 250 registered · 50 declined · 200 failed/);
  assert.match(log, /run flash-1 ended: 250 registered · 50 declined · 200 failed · webhooks 0 sent/);
  assert.match(log, /1× POST \/sim\/sales 409 code 1/);
  assert.ok(log.split('\n').length < 15, `a summary, not a line per payment:\n${log}`);
  assert.doesNotMatch(log, /sale-17/, 'no payment is named without --verbose');
});

test('the gateway log: a summary per burst of activity, live on a terminal; one line per event with verbose', async (t) => {
  const gateway = await startGateway({ port: 0 });
  t.after(() => gateway.close());
  const written: string[] = [];
  const log = attachGatewayLog(gateway.events, { write: (text) => written.push(text), columns: 60 }, plain, { verbose: false, live: true, idleMs: 100 });
  const payments = Array.from({ length: 2000 }, (_, index) => ({ orderId: `o-${index}`, amount: 500 }));
  gateway.register({ run: 'r1', payments });
  gateway.answer(payments.map((payment, index) => ({ orderId: payment.orderId, status: index % 2 === 0 ? 200 : 500 })), 'r1');
  const token = await fetch(`${gateway.url}/users/getToken`, { method: 'POST', body: JSON.stringify({ imp_key: 'wrong', imp_secret: 'x' }) });
  await token.arrayBuffer();
  await delay(300);
  gateway.end('r1');
  log.close();
  const text = written.join('');
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  assert.ok(lines.length <= 6, text);
  assert.match(text, /1 request in \d\.\d s: 1× POST \/users\/getToken 401 code -1/);
  assert.match(text, /run r1: 2,000 registered · 1,000 paid · 1,000 failed/);
  assert.match(text, /run r1 ended: 2,000 registered · 1,000 paid · 1,000 failed · webhooks 0 sent/);
  const live = written.filter((chunk) => chunk.startsWith('\r\u001b[2K') && chunk.length > 5);
  assert.ok(live.length >= 1, 'the activity showed live');
  for (const chunk of live) assert.ok(chunk.length - 5 <= 59, `cut to the terminal's width: ${JSON.stringify(chunk)}`);

  const verbose: string[] = [];
  const verboseLog = attachGatewayLog(gateway.events, { write: (line) => verbose.push(line) }, plain, { verbose: true, live: false });
  const more = Array.from({ length: 100 }, (_, index) => ({ orderId: `v-${index}`, amount: 500 }));
  gateway.register({ run: 'r2', payments: more });
  gateway.answer(more.map((payment) => ({ orderId: payment.orderId, status: 200 })), 'r2');
  verboseLog.close();
  assert.equal(verbose.filter((line) => / v-\d+ 500 KRW (ready|paid)/.test(line)).length, 200, 'a line per payment change');
});
