import type { ChalkInstance } from 'chalk';
import { caseLabel, type CaseResult, type CaseStatus, type CheckResult, type CheckRunner, type ContractCase } from '../contract/index.js';
import { formatMs } from '../util/duration.js';

const STATUS_WORDS: Record<CaseStatus, string> = { passed: 'PASS', failed: 'FAIL', warning: 'WARN', skipped: 'SKIP' };

function statusStyle(status: CaseStatus, style: ChalkInstance): ChalkInstance {
  switch (status) {
    case 'passed':
      return style.green;
    case 'failed':
      return style.red;
    case 'warning':
      return style.yellow;
    case 'skipped':
      return style.dim;
  }
}

export function formatCaseLine(result: CaseResult, style: ChalkInstance): string {
  const word = statusStyle(result.status, style).bold(STATUS_WORDS[result.status]);
  const timing = result.status === 'skipped' ? '' : style.dim(` (${formatMs(result.durationMs)})`);
  const line = `${word} ${caseLabel(result)}${timing}`;
  // A pass says what was checked in the details; failures, warnings and skips need their reason in the log.
  return result.status === 'passed' ? line : `${line}\n     ${result.message}`;
}

export function formatSummary(result: CheckResult, style: ChalkInstance): string {
  const { summary } = result;
  const parts = [
    style.green(`${summary.passed} passed`),
    summary.failed > 0 ? style.red(`${summary.failed} failed`) : `${summary.failed} failed`,
    summary.warning > 0 ? style.yellow(`${summary.warning} warning${summary.warning === 1 ? '' : 's'}`) : null,
    `${summary.skipped} skipped`,
  ].filter((part): part is string => part !== null);
  const verdict = result.ok ? style.green.bold('contract kept') : style.red.bold(result.interrupted ? 'interrupted' : 'contract broken');
  return `\n${verdict}: ${parts.join(', ')} ${style.dim(`in ${formatMs(result.durationMs)}`)}\n`;
}

/**
 * Follows a running check and prints each case as it ends, then the summary. `told` turns a case into what
 * the reader is told of it: the CLI's skip reasons name flags where the library's name options.
 */
export function attachCheckTerminal(
  runner: CheckRunner,
  stream: NodeJS.WritableStream,
  style: ChalkInstance,
  told: (result: CaseResult) => CaseResult = (result) => result,
): void {
  runner.on('start', ({ url, cases }) => {
    stream.write(`${style.bold('confirm-sim check')} ${url} ${style.dim(`(${runner.setup.dialect}, ${cases.length} cases)`)}\n\n`);
  });
  runner.on('case:end', (result) => stream.write(`${formatCaseLine(told(result), style)}\n`));
  runner.on('done', (result) => stream.write(formatSummary(result, style)));
}

/** `check --list`: each case's id, name, title and paragraph, as the README shows them. */
export function formatCaseList(cases: readonly ContractCase[], style: ChalkInstance): string {
  return cases.map((contractCase) => `${style.bold(caseLabel(contractCase))}  ${contractCase.title}\n  ${style.dim(contractCase.doc)}\n`).join('\n');
}
