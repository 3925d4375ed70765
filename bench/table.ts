import type { ChalkInstance } from 'chalk';

/** Which way a ratio has to go to meet its target. */
export type TargetDirection = 'at-least' | 'at-most';

export interface Target {
  direction: TargetDirection;
  ratio: number;
}

/** One line of the bench's table: our figure against a reference measured in the same run. */
export interface BenchRow {
  figure: string;
  ours: string;
  reference: string;
  /** ours / reference; null when the row could not be measured. */
  ratio: number | null;
  target: Target;
  /** Why the row has no ratio or missed regardless of it, and what the reader should know before trusting it. */
  notes: string[];
  /** Set when the row misses whatever its ratio says (the run did not complete). */
  unmet?: string | undefined;
}

export type RowVerdict = 'PASS' | 'MISS' | 'ERROR';

export function verdictOf(row: BenchRow): RowVerdict {
  if (row.ratio === null || !Number.isFinite(row.ratio)) return 'ERROR';
  if (row.unmet !== undefined) return 'MISS';
  const met = row.target.direction === 'at-least' ? row.ratio >= row.target.ratio : row.ratio <= row.target.ratio;
  return met ? 'PASS' : 'MISS';
}

function formatRatio(ratio: number | null): string {
  return ratio === null || !Number.isFinite(ratio) ? '-' : `${ratio.toFixed(2)}×`;
}

function formatTarget(target: Target): string {
  return `${target.direction === 'at-least' ? '≥' : '≤'} ${target.ratio.toFixed(2)}×`;
}

const HEADINGS = ['figure', 'ours', 'reference', 'ratio', 'target', 'result'] as const;

/** The table as text, columns padded to their widest cell; verdicts coloured when `style` has colour. */
export function formatTable(rows: BenchRow[], style: ChalkInstance): string {
  const cells = rows.map((row) => [row.figure, row.ours, row.reference, formatRatio(row.ratio), formatTarget(row.target), verdictOf(row)]);
  const widths = HEADINGS.map((heading, column) => Math.max(heading.length, ...cells.map((line) => line[column]!.length)));
  const pad = (line: readonly string[]): string[] => line.map((cell, column) => cell.padEnd(widths[column]!));
  const paint = (verdict: string, padded: string): string =>
    verdict === 'PASS' ? style.green(padded) : verdict === 'MISS' ? style.red.bold(padded) : style.yellow(padded);
  const lines = [style.bold(pad(HEADINGS).join('  ').trimEnd())];
  for (const [index, line] of cells.entries()) {
    const padded = pad(line);
    const verdict = line[5]!;
    padded[5] = paint(verdict, verdict);
    lines.push(padded.join('  ').trimEnd());
    const row = rows[index]!;
    if (row.unmet !== undefined) lines.push(style.red(`  ↳ ${row.unmet}`));
    for (const note of row.notes) lines.push(style.dim(`  ↳ ${note}`));
  }
  return `${lines.join('\n')}\n`;
}
