import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { parseConfirmBody, parseWebhookSecret } from '../src/protocol/index.js';
import { TypedEmitter } from '../src/util/events.js';
import { UsageError } from '../src/util/errors.js';
import {
  mergeBurstReports,
  resolveBurstPlan,
  runBurst,
  type BurstEvents,
  type BurstOptions,
  type BurstReport,
  type LedgerEntry,
} from '../src/load/index.js';
import { burstReportProblem } from '../src/load/report-file.js';
import { startMerchant } from '../src/merchants/index.js';

interface Seen {
  merchantUid: string | null;
  body: string;
  headers: IncomingMessage['headers'];
  socket: net.Socket;
  at: number;
}

type Handler = (seen: Seen, res: ServerResponse) => void;

interface TestServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

async function startServer(t: TestContext, handle: Handler): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let merchantUid: string | null = null;
      try {
        merchantUid = parseConfirmBody(JSON.parse(body))?.merchantUid ?? null;
      } catch {
        merchantUid = null;
      }
      const entry = { merchantUid, body, headers: req.headers, socket: req.socket, at: performance.now() };
      seen.push(entry);
      handle(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  t.after(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/confirm`, seen, close };
}

function answer(res: ServerResponse, status: number, payload: unknown = {}): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A correct first-come merchant in a few lines: 200 while stock lasts, the same answer for a repeat. */
function stockHandler(stock: number): { handle: Handler; left: () => number } {
  let left = stock;
  const answered = new Map<string, number>();
  return {
    left: () => left,
    handle: (seen, res) => {
      const uid = seen.merchantUid ?? '';
      let status = answered.get(uid);
      if (status === undefined) {
        status = left > 0 ? 200 : 409;
        if (status === 200) left--;
        answered.set(uid, status);
      }
      answer(res, status, status === 200 ? {} : { reason: 'sold out' });
    },
  };
}

function run(options: Partial<BurstOptions> & { url: string }, signal?: AbortSignal): Promise<BurstReport> {
  return runBurst({ buyers: 100, stock: 10, ...options }, { signal });
}

test('every buyer sends its own order, signed, in the chosen dialect, and the sale is judged', async (t) => {
  const secretText = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const shop = stockHandler(10);
  const server = await startServer(t, shop.handle);
  const report = await run({
    url: server.url,
    buyers: 60,
    stock: 10,
    dialect: 'v2-2024-04-25',
    secret: parseWebhookSecret(secretText),
    merchantUid: 'sale-{run}-{n}',
    runId: 'engine1',
    headers: { 'X-Test': 'yes' },
  });
  assert.equal(server.seen.length, 60);
  const uids = new Set(server.seen.map((seen) => seen.merchantUid));
  assert.equal(uids.size, 60, 'a distinct merchant_uid per buyer');
  assert.ok(uids.has('sale-engine1-1') && uids.has('sale-engine1-60'));
  const verifier = new Webhook(secretText);
  for (const seen of server.seen) {
    assert.equal(seen.headers['x-test'], 'yes');
    assert.equal(seen.headers['content-type'], 'application/json');
    const verified = verifier.verify(seen.body, {
      'webhook-id': String(seen.headers['webhook-id']),
      'webhook-timestamp': String(seen.headers['webhook-timestamp']),
      'webhook-signature': String(seen.headers['webhook-signature']),
    }) as { type: string; data: { totalAmount: number } };
    assert.equal(verified.type, 'Transaction.Confirm');
    assert.equal(verified.data.totalAmount, 1000);
  }
  assert.equal(report.verdict.pass, true, report.verdict.summary);
  assert.deepEqual(
    [report.counts.buyers, report.counts.accepted, report.counts.refused, report.counts.errors, report.counts.timeouts],
    [60, 10, 50, 0, 0],
  );
  assert.deepEqual(report.statusCodes, { '200': 10, '409': 50 });
  assert.equal(report.refusalReasons[0]!.detail, null, 'a V2 refusal reads errorMessage, which this merchant does not send');
  assert.equal(report.config.secret, 'whsec_****');
  assert.ok(!JSON.stringify(report).includes(secretText.slice(6)), 'the secret never appears in the report');
  assert.equal(burstReportProblem(report), null, 'the report matches the published schema');
  assert.equal(report.latencyMs.count, 60);
  assert.ok(report.latencyMs.p50! > 0 && report.latencyMs.p50! <= report.latencyMs.p99!);
  assert.ok(report.throughputPerSec > 0);
});

test('with fewer connections than buyers each socket sends its next buyer after the answer', async (t) => {
  const server = await startServer(t, stockHandler(1000).handle);
  const report = await run({ url: server.url, buyers: 300, stock: 1000, connections: 8 });
  assert.equal(server.seen.length, 300);
  assert.ok(new Set(server.seen.map((seen) => seen.socket)).size <= 8, 'keep-alive sockets are reused');
  assert.equal(report.counts.accepted, 300);
  assert.equal(report.transport.connections, 8);
  assert.equal(report.verdict.pass, true, report.verdict.summary);
});

test('a burst writes the opening wave at once; a rate paces arrivals and measures from the intended time', async (t) => {
  const server = await startServer(t, stockHandler(10).handle);
  const burst = await run({ url: server.url, buyers: 50 });
  assert.equal(burst.config.mode, 'burst');
  assert.equal(burst.dispatch.waveSize, 50);
  assert.ok(burst.dispatch.waveSpreadMs !== null && burst.dispatch.waveSpreadMs >= 0);
  assert.equal(burst.fairness, null, 'a burst has no arrival order to be fair about');

  server.seen.length = 0;
  const paced = await run({ url: server.url, buyers: 40, stock: 1000, ratePerSec: 200 });
  const arrivals = server.seen.map((seen) => seen.at);
  const spanMs = Math.max(...arrivals) - Math.min(...arrivals);
  assert.ok(spanMs >= 150, `40 requests at 200/s arrive over ~195 ms, not ${spanMs} ms`);
  assert.ok(paced.dispatchSpreadMs >= 150);
  assert.equal(paced.config.mode, 'rate');
  assert.equal(paced.fairness?.inversions, 0);
  assert.ok(paced.dispatch.lagP99Ms !== null);
});

test('unsigned duplicates re-send the same confirm, byte for byte, right after the original', async (t) => {
  const server = await startServer(t, stockHandler(5).handle);
  const report = await run({ url: server.url, buyers: 40, stock: 5, duplicates: 0.25 });
  assert.equal(server.seen.length, 50);
  assert.equal(report.counts.requests, 50);
  const byUid = new Map<string, string[]>();
  for (const seen of server.seen) byUid.set(seen.merchantUid!, [...(byUid.get(seen.merchantUid!) ?? []), seen.body]);
  const twice = [...byUid.values()].filter((bodies) => bodies.length === 2);
  assert.equal(twice.length, 10);
  for (const [first, second] of twice) assert.equal(first, second);
  assert.equal(report.counts.accepted, 5, 'a repeat answered 200 again counts its buyer once');
  assert.equal(report.verdict.pass, true, report.verdict.summary);
});

test('an answer after the timeout fails the payment, and a late 200 is caught as stranded', async (t) => {
  const server = await startServer(t, (_seen, res) => setTimeout(() => answer(res, 200), 300));
  const watched = await run({ url: server.url, buyers: 6, stock: 6, timeoutMs: 100, strandedWaitMs: 1000 });
  assert.equal(watched.counts.timeouts, 6);
  assert.equal(watched.tally.stranded, 6);
  assert.deepEqual(
    watched.verdict.problems.map((problem) => problem.kind),
    ['undersell', 'slow', 'stranded'],
  );
  assert.equal(watched.errorKinds.timeout, 6);
  assert.ok(watched.latencyMs.p99! >= 100);

  const closedAtTimeout = await run({ url: server.url, buyers: 6, stock: 6, timeoutMs: 100, strandedWaitMs: 0 });
  assert.equal(closedAtTimeout.counts.timeouts, 6);
  assert.equal(closedAtTimeout.tally.stranded, 0, 'with --stranded-wait 0 the late answer is not waited for');
  // Without the timeout the run would take 300 ms + 1 s of stranded wait; the bound allows a loaded CI box.
  assert.ok(closedAtTimeout.timing.durationMs < 2000, `${closedAtTimeout.timing.durationMs} ms`);
});

test('a target that dies mid-burst is classified, and the run ends with a report', async (t) => {
  let answered = 0;
  let server: TestServer | undefined;
  server = await startServer(t, (_seen, res) => {
    answered++;
    if (answered === 50) void server!.close();
    if (answered < 50) answer(res, 200);
  });
  const report = await run({ url: server.url, buyers: 400, stock: 400, connections: 10, timeoutMs: 2000 });
  assert.equal(report.counts.accepted, 49);
  assert.equal(report.counts.errors, 351);
  assert.ok((report.errorKinds.reset ?? 0) >= 1, 'requests in flight when it died were reset');
  assert.ok((report.errorKinds.refused ?? 0) >= 300, 'the rest found nothing listening');
  assert.ok(report.selfCheck.warnings.some((warning) => warning.code === 'target-down'));
  assert.ok(report.timing.durationMs < 1500, 'no waiting for timeouts once the target is gone');
  assert.deepEqual(report.verdict.problems.map((problem) => problem.kind), ['undersell', 'errors']);
  assert.equal(report.verdict.problems[0]!.causes!.connectionErrors, 351);
  assert.equal(report.verdict.problems[1]!.count, 351);
});

test('nothing listening and garbage answers are connection errors, never a crash', async (t) => {
  const closed = await startServer(t, () => {});
  await closed.close();
  const refused = await run({ url: closed.url, buyers: 30 });
  assert.equal(refused.counts.errors, 30);
  assert.equal(refused.errorKinds.refused, 30);

  const garbage = net.createServer((socket) => {
    socket.on('data', () => socket.end('this is not HTTP\r\n\r\n'));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => garbage.close(() => resolve())));
  const port = (garbage.address() as AddressInfo).port;
  const report = await run({ url: `http://127.0.0.1:${port}/confirm`, buyers: 20 });
  assert.equal(report.counts.errors, 20);
  assert.equal(report.errorKinds['invalid-http'], 20);
});

test('answers that close the connection, or end with it, are still read', async (t) => {
  const closing = await startServer(t, (_seen, res) => {
    res.writeHead(200, { connection: 'close', 'content-length': '2' });
    res.end('{}');
  });
  const report = await run({ url: closing.url, buyers: 40, stock: 40, connections: 4 });
  assert.equal(report.counts.accepted, 40);
  assert.ok(report.transport.connectionsOpened >= 40, 'a new connection per request');

  const untilClose = net.createServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\n\r\n{"reason":"sold out"}'));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => untilClose.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => untilClose.close(() => resolve())));
  const port = (untilClose.address() as AddressInfo).port;
  const refused = await run({ url: `http://127.0.0.1:${port}/confirm`, buyers: 10, stock: 0 });
  assert.equal(refused.counts.refused, 10);
  assert.deepEqual(refused.refusalReasons.map((reason) => [reason.status, reason.detail, reason.count]), [[409, 'sold out', 10]]);
  assert.equal(refused.refusalReasons[0]!.failReason, '고객사 요청에 의해 결제를 중단합니다. (상세사유 : sold out)');
  assert.equal(refused.verdict.pass, true, refused.verdict.summary);
});

test('aborting stops dispatch, waits briefly, and returns a partial report marked interrupted', async (t) => {
  const server = await startServer(t, () => {});
  const controller = new AbortController();
  const events = new TypedEmitter<BurstEvents>();
  const progress: number[] = [];
  events.on('progress', (event) => progress.push(event.sent));
  events.on('start', () => setTimeout(() => controller.abort(), 150));
  const started = performance.now();
  const report = await runBurst(
    { url: server.url, buyers: 100, stock: 10, ratePerSec: 200, timeoutMs: 10_000 },
    { events, signal: controller.signal, progressIntervalMs: 50 },
  );
  assert.ok(performance.now() - started < 3000, 'an abort does not wait for the 10 s timeout');
  assert.equal(report.interrupted, true);
  assert.ok(report.counts.notSent > 50, 'buyers not yet due were never sent');
  assert.ok(report.counts.aborted > 0, 'requests in flight were counted as aborted');
  assert.equal(report.counts.notSent + report.counts.aborted, 100);
  assert.ok(report.verdict.problems.some((problem) => problem.kind === 'interrupted'));
  assert.ok(progress.length >= 2 && progress.at(-1)! > 0, 'progress was reported while it ran');
});

test('a paced merchant that serves later buyers first is unfair', async (t) => {
  let left = 20;
  // Serves even-numbered buyers only while stock lasts: odd ones arrived earlier and were refused.
  const server = await startServer(t, (seen, res) => {
    const number = Number(seen.merchantUid!.split('-').at(-1));
    const take = number % 2 === 0 && left > 0;
    if (take) left--;
    answer(res, take ? 200 : 409, take ? {} : { reason: 'not you' });
  });
  const report = await run({ url: server.url, buyers: 60, stock: 20, rampMs: 300, fairnessWindowMs: 0 });
  assert.equal(report.counts.accepted, 20);
  assert.deepEqual(report.verdict.problems.map((problem) => problem.kind), ['unfair']);
  assert.ok(report.fairness!.inversions >= 100, `inversions: ${report.fairness!.inversions}`);
  const problem = report.verdict.problems[0]!;
  assert.ok(problem.examples.every((uid) => Number(uid.split('-').at(-1)) % 2 === 0), 'the examples are accepted later arrivals');
});

test('worker threads split the buyers and gather one exact result', async (t) => {
  const shop = stockHandler(25);
  const server = await startServer(t, shop.handle);
  const report = await run({ url: server.url, buyers: 200, stock: 25, workers: 2, merchantUid: 'w-{n}', duplicates: 0.1 });
  assert.equal(server.seen.length, 220);
  assert.equal(new Set(server.seen.map((seen) => seen.merchantUid)).size, 200);
  assert.equal(report.counts.buyers, 200);
  assert.equal(report.counts.requests, 220);
  assert.equal(report.counts.accepted, 25);
  assert.equal(report.selfCheck.threads, 2);
  assert.equal(report.verdict.pass, true, report.verdict.summary);
});

test('shards run slices of one sale and merge into one verdict', async (t) => {
  const shop = stockHandler(15);
  const server = await startServer(t, shop.handle);
  const shared = { url: server.url, buyers: 90, stock: 15, runId: 'shardtest', rampMs: 200 } as const;
  const shards = await Promise.all([
    run({ ...shared, shard: { index: 0, count: 2 } }),
    run({ ...shared, shard: { index: 1, count: 2 } }),
  ]);
  for (const shard of shards) {
    assert.equal(shard.counts.buyers, 45);
    assert.equal(shard.verdict.partial, true);
    assert.ok(shard.fairness?.timeline, 'a sharded paced report carries its fairness timeline');
  }
  const merged = mergeBurstReports(shards);
  assert.deepEqual(merged.shards, [0, 1]);
  assert.equal(merged.counts.buyers, 90);
  assert.equal(merged.counts.accepted, 15);
  assert.equal(merged.latencyMs.count, 90);
  assert.equal(merged.verdict.partial, false);
  assert.equal(burstReportProblem(merged), null);
  assert.equal(typeof merged.fairness?.inversions, 'number');

  const oneMissing = mergeBurstReports([shards[0]!]);
  assert.deepEqual(oneMissing.verdict.problems.map((problem) => problem.kind), ['missing-shards']);

  const otherRun = { ...shards[1]!, config: { ...shards[1]!.config, runId: 'another' } };
  assert.throws(() => mergeBurstReports([shards[0]!, otherRun]), UsageError);
  assert.throws(() => mergeBurstReports([shards[0]!, shards[0]!]), /given twice/);
});

test('the ledger has one line per request with what the gateway saw', async (t) => {
  const server = await startServer(t, stockHandler(3).handle);
  const dir = await mkdtemp(join(tmpdir(), 'confirm-sim-ledger-'));
  const ledgerPath = join(dir, 'ledger.ndjson');
  const report = await run({ url: server.url, buyers: 12, stock: 3, duplicates: 0.5, ledgerPath, merchantUid: 'l-{n}' });
  const lines = (await readFile(ledgerPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as LedgerEntry);
  assert.equal(lines.length, 18);
  assert.equal(report.ledger, ledgerPath);
  assert.deepEqual(lines.slice(0, 2).map((line) => [line.buyer, line.merchant_uid, line.duplicate]), [
    [1, 'l-1', false],
    [2, 'l-2', false],
  ]);
  assert.equal(lines.filter((line) => line.duplicate).length, 6);
  const refused = lines.find((line) => line.outcome === 'refused')!;
  assert.equal(refused.status, 409);
  assert.equal(refused.reason, 'sold out');
  assert.match(refused.failReason!, /sold out/);
  assert.ok(lines.every((line) => line.sentMs !== null && line.latencyMs !== null));
});

test('options are validated with one line naming the option as the caller wrote it', () => {
  const base = { url: 'http://127.0.0.1:3000/confirm', buyers: 10, stock: 1 };
  const cases: Array<[Partial<BurstOptions>, RegExp]> = [
    [{ url: 'http://example.com/confirm' }, /only sent to this machine/],
    [{ url: 'https://127.0.0.1/confirm' }, /plain HTTP/],
    [{ buyers: 0 }, /^`buyers`: 0 is not a whole number/],
    [{ stock: undefined }, /^`stock`: say how many items are on sale, or give `stockUrl`/],
    [{ rampMs: 1000, ratePerSec: 10 }, /^`rampMs` and `ratePerSec` both set an arrival pattern; pick one/],
    [{ duplicates: 1.5 }, /^`duplicates`: 1.5/],
    [{ merchantUid: 'no-number' }, /has no \{n\}/],
    [{ merchantUid: `${'x'.repeat(39)}{n}` }, /40/],
    [{ shard: { index: 2, count: 2 } }, /^`shard`: 2\/2/],
    [{ startAt: 1_700_000_000 }, /^`startAt`: /],
    [{ headers: { Host: 'x' } }, /^`headers`: Host is set by confirm-sim/],
    [{ orderUrl: 'http://10.0.0.1/orders' }, /^`orderUrl`: load is only sent to this machine/],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => resolveBurstPlan({ ...base, ...change }), (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, message);
      assert.ok(!error.message.includes('\n'));
      assert.ok(!/--[a-z]/.test(error.message), `a library error speaks of options, not flags: ${error.message}`);
      return true;
    });
  }
});

/** A raw TCP server answering every request on a socket with `reply`, for answers node:http will not write. */
async function rawServer(t: TestContext, reply: string): Promise<string> {
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      // Each request is a head plus a Content-Length body; answer once per complete request.
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        socket.write(reply);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/confirm`;
}

test('an interim 1xx answer (103 Early Hints, 100 Continue) is not the final answer', async (t) => {
  const hints = await rawServer(t, 'HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}');
  const report = await run({ url: hints, buyers: 5, stock: 5 });
  assert.equal(report.counts.accepted, 5);
  assert.equal(report.counts.refused, 0);
  assert.equal(report.verdict.pass, true, report.verdict.summary);

  const continued = await rawServer(
    t,
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 409 Conflict\r\ncontent-length: 21\r\n\r\n{"reason":"sold out"}',
  );
  const refused = await run({ url: continued, buyers: 3, stock: 0 });
  assert.equal(refused.counts.refused, 3);
  assert.deepEqual(refused.refusalReasons.map((reason) => [reason.status, reason.detail]), [[409, 'sold out']]);
});

test('a duplicate with a secret is a new signed message for the same order, so a double take is caught', async (t) => {
  const secret = parseWebhookSecret('whsec_' + Buffer.from('duplicate-test-secret-32-bytes!!').toString('base64'));
  const shop = await startMerchant({ stock: 20, flaw: 'double', secret, openOrders: true });
  t.after(() => shop.close());
  const report = await run({
    url: shop.confirmUrl,
    buyers: 50,
    stock: 20,
    dialect: 'v2-2024-04-25',
    secret,
    duplicates: 0.2,
    stockUrl: shop.stockUrl,
  });
  assert.ok(
    report.verdict.problems.some((problem) => problem.kind === 'double-take'),
    `problems: ${report.verdict.problems.map((problem) => problem.kind).join(', ')}`,
  );
});

test('a secret signs only V2 confirm calls; with V1 it goes unused and the report says so', async (t) => {
  const server = await startServer(t, (_seen, res) => answer(res, 200));
  const secret = parseWebhookSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const v1 = await run({ url: server.url, buyers: 4, stock: 4, dialect: 'v1', secret });
  assert.equal(server.seen.length, 4);
  for (const seen of server.seen) {
    assert.equal(seen.headers['webhook-signature'], undefined, 'the gateway never signs a V1 confirm');
    assert.equal(seen.headers['webhook-id'], undefined);
  }
  assert.equal(v1.config.signed, false);
  assert.ok(v1.selfCheck.warnings.some((warning) => warning.code === 'secret-unused'));
  assert.equal(burstReportProblem(v1), null);

  const v2 = await run({ url: server.url, buyers: 4, stock: 4, dialect: 'v2-2024-04-25', secret });
  assert.equal(v2.config.signed, true);
  assert.ok(!v2.selfCheck.warnings.some((warning) => warning.code === 'secret-unused'));
  assert.ok(server.seen.slice(4).every((seen) => typeof seen.headers['webhook-signature'] === 'string'));
});

test('the reason of a long refusal body (4 KiB) is still read', async (t) => {
  const reason = 'sold out: ' + 'x'.repeat(4000);
  const server = await startServer(t, (_seen, res) => answer(res, 409, { reason }));
  const report = await run({ url: server.url, buyers: 3, stock: 0 });
  assert.equal(report.counts.refused, 3);
  assert.equal(report.refusalReasons.length, 1);
  assert.equal(report.refusalReasons[0]!.detail, reason);
});

test('a target that is down before the run says so, not a time into the run', async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const report = await run({ url: `http://127.0.0.1:${port}/confirm`, buyers: 5, stock: 5, connections: 2 });
  assert.equal(report.counts.errors, 5);
  const down = report.selfCheck.warnings.find((warning) => warning.code === 'target-down');
  assert.ok(down, 'target-down warning');
  assert.match(down.message, /before the run started/);
});
