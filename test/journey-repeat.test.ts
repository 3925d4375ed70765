import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBurst } from '../src/load/index.js';
import { runCheck, type CheckResult } from '../src/contract/index.js';
import { startGateway } from '../src/gateway/index.js';
import { parseWebhookSecret } from '../src/protocol/index.js';
import { startDocMerchant } from './helpers/doc-merchants/index.js';
import { DOC_WEBHOOK_SECRET, docBurstOptions, docCheckOptions, startDocSale, type DocSale } from './helpers/doc-sale.js';
import { observeV1Answers, observeV2Answers } from './helpers/gateway-rest-observe.js';

const RUNS = 20;
/** Fewer than the 20 runs' payments together: the gateway only keeps up if every run's payments can be forgotten. */
const MAX_PAYMENTS = 200;

test(`${RUNS} bursts in a row against the same gateway and doc-written merchant: each correct on its own, the gateway's memory bounded`, async (t) => {
  const sale = await startDocSale(t, 'iamport', { holdMs: 150, gateway: { maxPayments: MAX_PAYMENTS } });
  const buyers = 40;
  const stock = 10;
  for (let run = 1; run <= RUNS; run++) {
    // Plain, with declines, and every fourth run with declines and a ramp, so declined units sell again.
    const declineRate = run % 2 === 0 ? 0.2 : 0;
    const rampMs = run % 4 === 0 ? 600 : undefined;
    const report = await runBurst(docBurstOptions(sale, { buyers, stock, declineRate, rampMs, runId: `repeat-${run}` }));
    const payments = report.payments!;
    const facts = `run ${run}: ${report.verdict.summary}\n${JSON.stringify({ counts: report.counts, payments })}`;
    assert.equal(report.verdict.pass, true, facts);
    // Each run's counts are its own: nothing carried over from the run before (fresh stock via the reset hook).
    assert.equal(payments.registered, buyers, facts);
    assert.equal(report.stock.probe!.before, stock, facts);
    assert.equal(payments.paid + payments.declined, report.counts.accepted, facts);
    assert.equal(payments.paid + report.stock.probe!.after, stock, `every unit paid for or back in stock: ${facts}`);
    if (declineRate === 0) assert.equal(payments.paid, stock, facts);
    assert.equal(payments.ready, 0, facts);
    assert.ok(sale.gateway.payments().length <= MAX_PAYMENTS, `run ${run}: the gateway keeps ${sale.gateway.payments().length} payments`);
  }
  // The runs' summaries stay exact after their payments were forgotten.
  const first = sale.gateway.summary('repeat-1');
  assert.equal(first.ended, true);
  assert.equal(first.payments.registered, buyers);
  assert.equal(first.payments.paid, stock);
  assert.ok(first.forgotten > 0, 'the first run\'s payments made room for later runs');
});

test(`check ${RUNS} times in a row against one gateway, the V1 (iamport) and V2 (PortOne SDK) doc merchants side by side: every case passes every time`, async (t) => {
  const secret = parseWebhookSecret(DOC_WEBHOOK_SECRET, 'secret');
  const gateway = await startGateway({ port: 0, secret, maxPayments: MAX_PAYMENTS });
  t.after(() => gateway.close());
  // Every REST answer the merchants get in the twenty runs is checked against its schema: V1 through a
  // validating proxy the iamport client is pointed at, V2 where PortOne's SDK calls fetch.
  const v1Answers = await observeV1Answers(t, gateway.url);
  const v2Answers = observeV2Answers(gateway.url);
  t.after(() => v2Answers.stop());
  const sales: DocSale[] = [];
  for (const kind of ['iamport', 'portone-v2'] as const) {
    const v2 = kind === 'portone-v2';
    const gatewayUrl = v2 ? gateway.url : v1Answers.url;
    const merchant = await startDocMerchant(kind, { gatewayUrl, stock: 20, holdMs: 150, ...(v2 ? { webhookSecret: DOC_WEBHOOK_SECRET } : {}) });
    t.after(() => merchant.close());
    sales.push({ gateway, merchant, dialect: v2 ? 'v2-2024-04-25' : 'v1', secret: v2 ? secret : undefined });
  }
  // Left out: case 6 (garbage at the merchant's HTTP parser) and case 8 (latency under a second of load), which
  // touch nothing a run leaves behind and are most of a check's time; the burst of case 9 is kept small. The
  // rest, every case that moves stock or involves the gateway, runs as a user's check does.
  const skip = /^(6|8) /;
  const listing = (result: CheckResult): string => result.cases.map((c) => `${c.id} ${c.name} ${c.status}: ${c.message}`).join('\n');
  // The two merchants' series run side by side: one gateway serves both, as it would a team's CI.
  const series = async (sale: DocSale): Promise<void> => {
    for (let run = 1; run <= RUNS; run++) {
      const result = await runCheck(docCheckOptions(sale, { skip, burst: { buyers: 12, stock: 4 } }));
      const facts = `run ${run}, ${sale.merchant.kind}:\n${listing(result)}`;
      assert.equal(result.ok, true, facts);
      const notPassed = result.cases.filter((c) => c.status !== 'passed').map((c) => c.id);
      // V1 confirms are unsigned: case 7 (signatures) has nothing to judge.
      assert.deepEqual(notPassed, sale.dialect === 'v1' ? [7] : [], facts);
      assert.ok(gateway.payments().length <= MAX_PAYMENTS, `run ${run}: the gateway keeps ${gateway.payments().length} payments`);
    }
  };
  await Promise.all(sales.map(series));
  for (const [api, observer] of [['V1', v1Answers], ['V2', v2Answers]] as const) {
    assert.deepEqual(observer.problems, [], `every ${api} answer the merchant got satisfies its documented schema`);
    assert.ok(observer.answers.length >= RUNS * 10, `${observer.answers.length} ${api} answers observed`);
  }
});
