import type { ChalkInstance } from 'chalk';
import type { DemoEvents, DemoMerchantResult, DemoResult } from '../demo/index.js';
import type { FireResult } from '../fire/index.js';
import { caseLabel, type CaseStatus } from '../contract/index.js';
import { formatMs } from '../util/duration.js';
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

function fireCell(result: FireResult, expectProceed: boolean): Cell {
  const word = result.decision.proceed ? 'PROCEED' : 'FAIL';
  const answer = result.answer.kind === 'http' ? `HTTP ${result.answer.status}` : result.answer.error;
  return { text: `${word} ${answer}`, good: result.decision.proceed === expectProceed };
}

function rows(merchants: DemoMerchantResult[]): Row[] {
  const cellsOf = (cell: (merchant: DemoMerchantResult) => Cell): Cell[] => merchants.map(cell);
  const first = merchants[0];
  const table: Row[] = [
    { label: 'fire: a known order', cells: cellsOf((m) => fireCell(m.fire.knownOrder, true)) },
    { label: 'fire: an unknown order', cells: cellsOf((m) => fireCell(m.fire.unknownOrder, false)) },
    {
      label: `burst: ${first?.burst.counts.buyers ?? 0} buyers, ${first?.burst.stock.stock ?? 0} stock`,
      cells: cellsOf((m) => {
        const problems = m.burst.verdict.problems.map((problem) => problem.kind).join(', ');
        return { text: m.burst.verdict.pass ? 'PASS' : `FAIL ${problems}`, good: m.burst.verdict.pass };
      }),
    },
    { label: '  accepted (200 in time)', cells: cellsOf((m) => ({ text: String(m.burst.counts.accepted), good: null })) },
    {
      label: '  latency p99',
      cells: cellsOf((m) => ({ text: m.burst.latencyMs.p99 === null ? '-' : formatMs(m.burst.latencyMs.p99), good: null })),
    },
  ];
  for (const [index, result] of (first?.check.cases ?? []).entries()) {
    table.push({
      label: `check ${caseLabel(result)}`,
      cells: cellsOf((m) => {
        const status = m.check.cases[index]?.status ?? 'skipped';
        return { text: CASE_WORDS[status], good: status === 'skipped' ? null : status !== 'failed' };
      }),
    });
  }
  return table;
}

function paint(cell: Cell, style: ChalkInstance): (text: string) => string {
  if (cell.good === null) return (text) => text;
  return cell.good ? style.green : style.red;
}

/** The two merchants side by side, one row per thing confirm-sim looked at. */
export function formatDemo(result: DemoResult, style: ChalkInstance): string {
  const table = rows(result.merchants);
  const labelWidth = Math.max(...table.map((row) => row.label.length)) + 2;
  const columnWidth = Math.max(18, ...table.flatMap((row) => row.cells.map((cell) => cell.text.length + 2)));
  const header = (
    ' '.repeat(labelWidth) + result.merchants.map((merchant) => style.bold(merchant.label.padEnd(columnWidth))).join('')
  ).trimEnd();
  const lines = table.map((row) =>
    (row.label.padEnd(labelWidth) + row.cells.map((cell) => paint(cell, style)(cell.text.padEnd(columnWidth))).join('')).trimEnd(),
  );
  const [correct, flawed] = result.merchants;
  const caughtBy = flawed
    ? [
        ...flawed.burst.verdict.problems.map((problem) => `burst (${problem.kind})`),
        ...flawed.check.cases.filter((c) => c.status === 'failed').map((c) => `check ${caseLabel(c)}`),
      ]
    : [];
  const closing = result.interrupted
    ? style.yellow('interrupted: the table shows what ran before Ctrl-C')
    : result.ok
      ? style.green(`the correct merchant passed everything; the "${result.flaw}" flaw was caught by ${caughtBy.join(', ')}`)
      : style.red(
          correct && !(correct.burst.verdict.pass && correct.check.ok)
            ? 'the correct merchant did not pass: this machine may be overloaded (see --json for details)'
            : `the "${result.flaw}" flaw was not caught`,
        );
  return [
    `${style.bold('confirm-sim demo')}: a correct sample merchant beside one with the "${result.flaw}" flaw`,
    style.dim(`  ${result.flaw}: ${result.flawDescription}`),
    style.dim(`  dialect ${result.dialect}; try another bug with --flaw race|double|lenient|slow|leak`),
    '',
    header,
    ...lines,
    '',
    closing,
    '',
  ].join('\n');
}

/** One line per step on a TTY, so the ~20 s the demo takes does not look like a hang. */
export function attachDemoProgress(events: TypedEmitter<DemoEvents>, stream: NodeJS.WritableStream, style: ChalkInstance): void {
  events.on('step', ({ merchant, step }) => stream.write(style.dim(`… ${merchant}: ${step}\n`)));
}
