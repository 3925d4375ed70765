import type { ChalkInstance } from 'chalk';
import {
  MANUAL_CONFIRM_DEMO_FLAWS,
  passedEverything,
  type ConfirmProcessDemoResult,
  type DemoEvents,
  type DemoMerchantResult,
  type DemoResult,
  type ManualConfirmDemoMerchantResult,
  type ManualConfirmDemoResult,
} from '../demo/index.js';
import type { BurstReport } from '../load/index.js';
import type { GatewayFireResult } from '../fire/gateway.js';
import type { FireAnswer } from '../fire/index.js';
import type { CompletionFireResult } from '../fire/manual-confirm.js';
import { caseLabel, type CaseStatus, type CheckResult } from '../contract/index.js';
import { formatMs } from '../util/duration.js';
import { CONFIRM_PROCESS_FLAWS } from '../merchants/flaws.js';
import { isV2 } from '../protocol/index.js';
import type { TypedEmitter } from '../util/events.js';

interface Cell {
  text: string;
  good: boolean | null;
}

interface Row {
  label: string;
  cells: Cell[];
}

const CASE_WORDS: Record<CaseStatus, string> = { passed: 'PASS', failed: 'FAIL', warning: 'WARN', skipped: 'SKIP' };

/** One fired request: what the merchant decided, its answer, and the payment's status at the gateway afterwards. */
function firedCell(word: string, answer: FireAnswer, status: string, good: boolean): Cell {
  return { text: `${word} ${answer.kind === 'http' ? `HTTP ${answer.status}` : answer.error} → ${status}`, good };
}

function fireCell(result: GatewayFireResult, expectProceed: boolean): Cell {
  return firedCell(result.decision.proceed ? 'PROCEED' : 'FAIL', result.answer, result.lifecycle.status, result.decision.proceed === expectProceed);
}

/** Manual confirm: what the buyer was told, and whether the gateway's payment agrees with it. */
function completionCell(result: CompletionFireResult, expectTold: CompletionFireResult['told']): Cell {
  const word = result.told === 'paid' ? 'TOLD PAID' : result.told === 'refused' ? 'TOLD NO' : 'NO ANSWER';
  return firedCell(word, result.answer, result.payment.status, result.told === expectTold && result.verdict === 'agrees');
}

/** What the merchant did at the gateway for a completion: its confirm calls and charges, and any disagreement. */
function confirmCallsCell(result: CompletionFireResult): Cell {
  const { confirmCalls, confirmed } = result.payment;
  const calls = `${confirmCalls} confirm call${confirmCalls === 1 ? '' : 's'}, ${confirmed} charged`;
  return { text: result.verdict === 'agrees' ? calls : `${calls}: ${result.verdict}`, good: result.verdict === 'agrees' ? null : false };
}

/** What the gateway did after the answer: the charge and the webhooks, as fire shows them. */
function lifecycleCell(result: GatewayFireResult): Cell {
  const { charge, webhooks } = result.lifecycle;
  const delivered = webhooks.filter((webhook) => webhook.state === 'delivered').length;
  const sent = webhooks.length === 0 ? 'no webhook' : `webhook ${delivered === webhooks.length ? 'delivered' : `${delivered} of ${webhooks.length} delivered`}`;
  return { text: `${charge === 'not-attempted' ? 'not charged' : `charge ${charge}`}, ${sent}`, good: null };
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

function burstCell(burst: BurstReport): Cell {
  const problems = burst.verdict.problems.map((problem) => problem.kind).join(', ');
  return { text: burst.verdict.pass ? 'PASS' : `FAIL ${problems}`, good: burst.verdict.pass };
}

function stockLeftCell(burst: BurstReport): Cell {
  return { text: String(burst.stock.probe?.after ?? '-'), good: null };
}

function latencyCell(burst: BurstReport): Cell {
  return { text: burst.latencyMs.p99 === null ? '-' : formatMs(burst.latencyMs.p99), good: null };
}

function rows(result: ConfirmProcessDemoResult): Row[] {
  const { merchants } = result;
  const cellsOf = (cell: (merchant: DemoMerchantResult) => Cell): Cell[] => merchants.map(cell);
  const plain = (text: (merchant: DemoMerchantResult) => string): Cell[] => cellsOf((m) => ({ text: text(m), good: null }));
  const table: Row[] = [
    { label: 'fire: a known order', cells: cellsOf((m) => fireCell(m.fire.knownOrder, true)) },
    { label: '  then at the gateway', cells: cellsOf((m) => lifecycleCell(m.fire.knownOrder)) },
    { label: 'fire: an unknown order', cells: cellsOf((m) => fireCell(m.fire.unknownOrder, false)) },
    { label: `burst: ${result.buyers} buyers, ${result.stock} stock`, cells: cellsOf((m) => burstCell(m.burst)) },
    { label: '  accepted (200 in time)', cells: plain((m) => String(m.burst.counts.accepted)) },
    { label: `  declined by the PG (${percent(result.declineRate)})`, cells: plain((m) => String(m.burst.payments?.declined ?? '-')) },
    {
      label: '  paid, against the stock',
      cells: cellsOf((m) => {
        const paid = m.burst.payments?.paid;
        return { text: paid === undefined ? '-' : `${paid} of ${m.burst.stock.stock}`, good: paid === undefined ? null : paid <= m.burst.stock.stock };
      }),
    },
    { label: '  stock left after the settle', cells: cellsOf((m) => stockLeftCell(m.burst)) },
    {
      label: '  webhooks delivered',
      cells: plain((m) => {
        const webhooks = m.burst.payments?.webhooks;
        return webhooks === undefined ? '-' : `${webhooks.sent - webhooks.unanswered - webhooks.pending} of ${webhooks.sent}`;
      }),
    },
    { label: '  latency p99', cells: cellsOf((m) => latencyCell(m.burst)) },
  ];
  return [...table, ...checkRows(merchants.map((m) => m.check))];
}

/** A row per check case, the correct merchant's case list naming them. */
function checkRows(checks: CheckResult[]): Row[] {
  return (checks[0]?.cases ?? []).map((caseResult, index) => ({
    label: `check ${caseLabel(caseResult)}`,
    cells: checks.map((check) => {
      const status = check.cases[index]?.status ?? 'skipped';
      return { text: CASE_WORDS[status], good: status === 'skipped' ? null : status !== 'failed' };
    }),
  }));
}

function paint(cell: Cell, style: ChalkInstance): (text: string) => string {
  if (cell.good === null) return (text) => text;
  return cell.good ? style.green : style.red;
}

/** Manual confirm: what the buyers were told against what the gateway holds confirmed, per merchant. */
function manualConfirmRows(result: ManualConfirmDemoResult): Row[] {
  const firesOf = (cell: (merchant: ManualConfirmDemoMerchantResult) => Cell): Cell[] => result.merchants.map(cell);
  const cellsOf = (cell: (burst: BurstReport) => Cell): Cell[] => result.merchants.map((merchant) => cell(merchant.burst));
  const finding = (value: (mc: NonNullable<BurstReport['manualConfirm']>) => number): Cell[] =>
    cellsOf((burst) => {
      const n = burst.manualConfirm ? value(burst.manualConfirm) : null;
      return { text: n === null ? '-' : String(n), good: n === null ? null : n === 0 };
    });
  return [
    { label: 'fire: a known order', cells: firesOf((m) => completionCell(m.fire.knownOrder, 'paid')) },
    { label: '  then at the gateway', cells: firesOf((m) => confirmCallsCell(m.fire.knownOrder)) },
    { label: 'fire: a tampered amount (a tenth)', cells: firesOf((m) => completionCell(m.fire.tamperedAmount, 'refused')) },
    { label: '  then at the gateway', cells: firesOf((m) => confirmCallsCell(m.fire.tamperedAmount)) },
    { label: `burst: ${result.buyers} buyers, ${result.stock} stock`, cells: cellsOf(burstCell) },
    {
      label: '  told paid',
      cells: cellsOf((burst) => ({ text: burst.manualConfirm ? `${burst.manualConfirm.toldPaid} (${burst.manualConfirm.successStatus} in time)` : '-', good: null })),
    },
    {
      label: '  confirmed (PAID), against the stock',
      cells: cellsOf((burst) => {
        const confirmed = burst.manualConfirm?.confirmed;
        return confirmed === undefined ? { text: '-', good: null } : { text: `${confirmed} of ${burst.stock.stock}`, good: confirmed <= burst.stock.stock };
      }),
    },
    {
      label: `  declined by the PG (${percent(result.declineRate)})`,
      cells: cellsOf((burst) => ({ text: burst.manualConfirm ? String(burst.manualConfirm.statuses.failed) : '-', good: null })),
    },
    { label: '  charged, told no (charged-refused)', cells: finding((mc) => mc.chargedRefused) },
    { label: '  told paid, not confirmed', cells: finding((mc) => mc.toldPaidUnconfirmed) },
    { label: '  confirmed twice (double-confirm)', cells: finding((mc) => mc.doubleConfirm) },
    { label: '  stock left after the settle', cells: cellsOf(stockLeftCell) },
    { label: '  latency p99', cells: cellsOf(latencyCell) },
    ...checkRows(result.merchants.map((m) => m.check)),
  ];
}

/** "a", "a and b", "a, b and c". */
function listed(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** What caught the flawed merchant: its burst's findings and the check cases it failed. */
function caughtBy(flawed: { burst: BurstReport; check: CheckResult } | undefined): string[] {
  if (flawed === undefined) return [];
  return [
    ...flawed.burst.verdict.problems.map((problem) => `burst (${problem.kind})`),
    ...flawed.check.cases.filter((c) => c.status === 'failed').map((c) => `check ${caseLabel(c)}`),
  ];
}

/** The last line, for both flows: a pass names what caught the flaw; a miss says which side failed. */
function closingLine(result: DemoResult, style: ChalkInstance, expected: string[]): string {
  const [correct, flawed] = result.merchants;
  const caught = caughtBy(flawed);
  if (result.ok) return style.green(`the correct merchant passed everything; the "${result.flaw}" flaw was caught by ${caught.join(', ')}`);
  if (correct && !passedEverything(correct)) return style.red('the correct merchant did not pass: this machine may be overloaded (see --json for details)');
  const wanted = expected.length > 0 ? ` by ${listed(expected)}` : '';
  return style.red(`the "${result.flaw}" flaw was not caught${wanted}${flawed && expected.length > 0 ? ` (caught by: ${caught.join(', ') || 'nothing'})` : ''}`);
}

function confirmProcessIntro(result: ConfirmProcessDemoResult, style: ChalkInstance): string[] {
  return [
    `${style.bold('confirm-sim demo')}: a correct sample merchant beside one with the "${result.flaw}" flaw`,
    style.dim(`  ${result.flaw}: ${result.flawDescription}`),
    style.dim(
      `  the gateway in the loop: both merchants look every payment up through its ${isV2(result.dialect) ? 'V2 REST API (PortOne\'s SDK)' : 'V1 REST API'}; ` +
        `the PG declines ${percent(result.declineRate)} of the charges after a 200`,
    ),
    style.dim(`  dialect ${result.dialect}; try another bug with --flaw ${CONFIRM_PROCESS_FLAWS.join('|')}, or --flow manual-confirm`),
  ];
}

function manualConfirmIntro(result: ManualConfirmDemoResult, style: ChalkInstance): string[] {
  return [
    `${style.bold('confirm-sim demo --flow manual-confirm')}: a correct sample merchant beside one with the "${result.flaw}" flaw`,
    style.dim(`  ${result.flaw}: ${result.flawDescription}`),
    style.dim(`  manual confirm: each buyer posts the paymentToken its requestPayment returned to the merchant's /payment/complete;`),
    style.dim(`  both merchants charge it with PortOne's SDK (confirmPayment) at the gateway in the loop, whose PG declines ${percent(result.declineRate)} of the confirms`),
    style.dim(`  dialect ${result.dialect}, ${percent(result.duplicates)} of the buyers post twice; try another bug with --flaw ${MANUAL_CONFIRM_DEMO_FLAWS.join('|')}`),
  ];
}

/** The two merchants side by side, one row per thing confirm-sim looked at. */
export function formatDemo(result: DemoResult, style: ChalkInstance): string {
  const table = result.flow === 'manual-confirm' ? manualConfirmRows(result) : rows(result);
  const labelWidth = Math.max(...table.map((row) => row.label.length)) + 2;
  const columnWidth = Math.max(18, ...table.flatMap((row) => row.cells.map((cell) => cell.text.length + 2)));
  const header = (
    ' '.repeat(labelWidth) + result.merchants.map((merchant) => style.bold(merchant.label.padEnd(columnWidth))).join('')
  ).trimEnd();
  const lines = table.map((row) =>
    (row.label.padEnd(labelWidth) + row.cells.map((cell) => paint(cell, style)(cell.text.padEnd(columnWidth))).join('')).trimEnd(),
  );
  const intro = result.flow === 'manual-confirm' ? manualConfirmIntro(result, style) : confirmProcessIntro(result, style);
  const expected = result.flow === 'manual-confirm' ? [...result.expectedFindings.map((kind) => `burst (${kind})`), ...result.expectedCases.map((name) => `check ${name}`)] : [];
  return [
    ...intro,
    '',
    header,
    ...lines,
    '',
    result.interrupted ? style.yellow('interrupted: the table shows what ran before Ctrl-C') : closingLine(result, style, expected),
    '',
  ].join('\n');
}

/** One line per step on a TTY, so the seconds the demo takes do not look like a hang. */
export function attachDemoProgress(events: TypedEmitter<DemoEvents>, stream: NodeJS.WritableStream, style: ChalkInstance): void {
  events.on('step', ({ merchant, step }) => stream.write(style.dim(`… ${merchant}: ${step}\n`)));
}
