import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fireConfirm } from '../src/fire/index.js';
import { runBurst, type BurstReport } from '../src/load/index.js';
import { UsageError } from '../src/util/errors.js';
import { MerchantHooks, HookError } from '../src/contract/hooks.js';
import { startFixedAnswer, startRawTarget } from './helpers/hostile-raw.js';
import { startEndlessBody } from './helpers/hostile-endless.js';
import { startStrayAnswers } from './helpers/hostile-stray.js';
import { startStalledListener } from './helpers/hostile-backlog.js';

const OK_BODY = '{"ok":true}';

/** Answers that Node's llhttp refuses, and a few that are fine; `expect` is what every command must say. */
const ANSWER_TABLE: Array<{ name: string; bytes: string; expect: 'invalid-http' | 'reset' | number }> = [
  { name: 'a plain 200', bytes: `HTTP/1.1 200 OK\r\nContent-Length: ${OK_BODY.length}\r\n\r\n${OK_BODY}`, expect: 200 },
  { name: 'a 409 without a reason phrase', bytes: 'HTTP/1.1 409\r\nContent-Length: 0\r\n\r\n', expect: 409 },
  { name: 'status 2000', bytes: 'HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok', expect: 'invalid-http' },
  { name: 'status 099', bytes: 'HTTP/1.1 099 OK\r\nContent-Length: 2\r\n\r\nok', expect: 'invalid-http' },
  { name: 'status 600', bytes: 'HTTP/1.1 600 OK\r\nContent-Length: 2\r\n\r\nok', expect: 'invalid-http' },
  { name: 'an unasked 101', bytes: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n', expect: 'invalid-http' },
  {
    name: 'Content-Length with Transfer-Encoding',
    bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    expect: 'invalid-http',
  },
  { name: 'bare LF line endings', bytes: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', expect: 'invalid-http' },
  { name: 'a NUL in a header', bytes: 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok', expect: 'invalid-http' },
  { name: '"Content-Length : 2"', bytes: 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok', expect: 'invalid-http' },
  { name: 'two different Content-Lengths', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok', expect: 'invalid-http' },
  { name: 'Content-Length "2 2"', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 2 2\r\n\r\nok', expect: 'invalid-http' },
  { name: 'an obs-fold header', bytes: 'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok', expect: 'invalid-http' },
  { name: 'HTTP/2.1', bytes: 'HTTP/2.1 200 OK\r\nContent-Length: 2\r\n\r\nok', expect: 'invalid-http' },
  { name: 'a bad chunk size', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n', expect: 'invalid-http' },
  { name: 'a body cut short', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nok', expect: 'reset' },
];

/** What burst made of its single buyer: a status, or the kind of no-answer. */
function burstVerdictOf(report: BurstReport): number | string {
  const statuses = Object.entries(report.statusCodes);
  const errors = Object.entries(report.errorKinds);
  assert.equal(statuses.length + errors.length, 1, `one outcome expected: ${JSON.stringify({ statuses, errors })}`);
  return statuses.length === 1 ? Number(statuses[0]![0]) : errors[0]![0];
}

test('fire and burst classify every malformed answer the same, by llhttp\'s strict rules', async (t) => {
  for (const row of ANSWER_TABLE) {
    // A cut-short body only shows as such when the connection closes after it.
    const target = await startRawTarget(t, (socket) => (row.expect === 'reset' ? socket.end(row.bytes) : socket.write(row.bytes)));
    const fired = await fireConfirm({ url: target.url, timeoutMs: 2000 });
    const fireSays = fired.answer.kind === 'http' ? fired.answer.status : fired.answer.error;
    const report = await runBurst({ url: target.url, buyers: 1, stock: 1, timeoutMs: 2000, strandedWaitMs: 0 });
    const burstSays = burstVerdictOf(report);
    assert.equal(fireSays, row.expect, `fire on ${row.name}`);
    assert.equal(burstSays, row.expect, `burst on ${row.name}`);
    await target.close();
  }
});

test('a confirm answer that never ends is body-too-large in fire and burst, and the run goes on', async (t) => {
  const endless = await startEndlessBody(t, '/confirm');
  const fired = await fireConfirm({ url: endless.url, timeoutMs: 10_000 });
  assert.equal(fired.answer.kind, 'no-answer');
  assert.equal(fired.answer.kind === 'no-answer' && fired.answer.error, 'body-too-large');
  assert.equal(fired.decision.proceed, false);
  const rssBefore = process.memoryUsage().rss;
  const report = await runBurst({ url: endless.url, buyers: 20, stock: 5, connections: 5, timeoutMs: 10_000, strandedWaitMs: 0 });
  assert.equal(report.errorKinds['body-too-large'], 20);
  assert.equal(report.counts.accepted, 0);
  // Each answer is cut at 1 MiB: 20 of them never sit in memory at once.
  assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'memory stayed bounded');
});

test('a stock probe that never ends stops burst with one line; check\'s hooks the same', async (t) => {
  const endless = await startEndlessBody(t, '/stock');
  const merchant = await startFixedAnswer(t, 'HTTP/1.1 409 Conflict\r\nContent-Length: 0\r\n\r\n');
  await assert.rejects(
    runBurst({ url: merchant.url, buyers: 5, stockUrl: endless.url }),
    (error: Error) => error instanceof UsageError && /`stockUrl`: GET .* failed \(body-too-large: the body went past 1 MiB/.test(error.message),
  );
  const hooks = new MerchantHooks({ stock: endless.url }, {}, 10_000, new AbortController().signal);
  await assert.rejects(hooks.readStock(), (error: Error) => error instanceof HookError && /body-too-large/.test(error.message));
});

test('Ctrl-C while set-up reads an endless probe stops at once and still gives the report', async (t) => {
  // Headers, then a trickle that never ends and never reaches the size limit: only the signal can stop it.
  const trickle = await startRawTarget(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('1\r\n \r\n')), 50);
  }, '/stock');
  const merchant = await startFixedAnswer(t, 'HTTP/1.1 409 Conflict\r\nContent-Length: 0\r\n\r\n');
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 300);
  const started = performance.now();
  const report = await runBurst({ url: merchant.url, buyers: 10, stock: 3, stockUrl: trickle.url }, { signal: stop.signal });
  assert.ok(performance.now() - started < 5_000, 'stopped well before the set-up timeout');
  assert.equal(report.interrupted, true);
  assert.equal(report.counts.notSent, 10);
  assert.equal(merchant.requests(), 0);
  assert.ok(report.selfCheck.warnings.some((warning) => warning.code === 'setup-interrupted'));
  assert.ok(report.verdict.problems.some((problem) => problem.kind === 'interrupted'));
});

test('a stock probe answering -5 or 2.5 is a usage error, not a verdict', async (t) => {
  const merchant = await startFixedAnswer(t, 'HTTP/1.1 409 Conflict\r\nContent-Length: 0\r\n\r\n');
  for (const answer of ['-5', '2.5', '{"stock":-1}']) {
    const probe = await startFixedAnswer(t, `HTTP/1.1 200 OK\r\nContent-Length: ${answer.length}\r\n\r\n${answer}`, '/stock');
    await assert.rejects(
      runBurst({ url: merchant.url, buyers: 5, stockUrl: probe.url }),
      (error: Error) => error instanceof UsageError && /must answer 200 with a number or \{"stock": n\}, a whole number of 0 or more/.test(error.message),
    );
  }
});

test('an answer with no request in flight is never credited to the next buyer', async (t) => {
  const target = await startStrayAnswers(t);
  const report = await runBurst({ url: target.url, buyers: 1000, stock: 0, connections: 10, timeoutMs: 2000, strandedWaitMs: 0 });
  assert.equal(report.counts.accepted, 0, 'no stray 200 is a sale');
  assert.ok(!report.verdict.problems.some((problem) => problem.kind === 'oversell'), report.verdict.summary);
  assert.equal(report.statusCodes['409'], 1000, 'every buyer keeps the 409 it was answered');
  assert.equal(report.transport.strayAnswers, 1000, 'every stray is counted, each on a connection it closed');
  assert.ok(report.transport.connectionsOpened >= 1000);
  const fired = await fireConfirm({ url: (await startStrayAnswers(t)).url });
  assert.equal(fired.answer.kind === 'http' && fired.answer.status, 409);
});

test('a merchant that accepts connections slowly makes the burst say it was no burst', async (t) => {
  const stalled = await startStalledListener(t);
  setTimeout(() => stalled.resume(), 1500);
  const report = await runBurst({ url: stalled.url, buyers: 20, stock: 0, timeoutMs: 300, strandedWaitMs: 0 });
  const warning = report.selfCheck.warnings.find((entry) => entry.code === 'slow-connect');
  assert.ok(warning, JSON.stringify(report.selfCheck.warnings));
  assert.match(warning.message, /the burst was no burst/);
});
