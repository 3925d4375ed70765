import { open } from 'node:fs/promises';
import { readBurstReport, readLedger } from '../load/index.js';
import { writeHtmlReport } from '../reporters/html/index.js';
import { UsageError } from '../util/errors.js';
import { parseWholeNumber } from '../util/numbers.js';
import { helpFooter, type RegisterCommand } from '../cli-context.js';

interface ReportFlags {
  html?: string;
  stock?: string;
}

/** Enough of the file's start to hold a ledger's first line. */
const SNIFF_BYTES = 64 * 1024;

/**
 * A ledger is NDJSON whose first line is a request ({"buyer":1,...,"outcome":...}); a report is one JSON
 * document. Only the first line is read to tell, so a gigabyte ledger is not parsed as one string.
 */
async function looksLikeLedger(path: string): Promise<boolean> {
  let head: string;
  try {
    const file = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(SNIFF_BYTES);
      const { bytesRead } = await file.read(buffer, 0, SNIFF_BYTES, 0);
      head = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await file.close();
    }
  } catch (error) {
    throw new UsageError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); give a burst --json report or a --ledger file`);
  }
  const firstLine = head.split('\n', 1)[0]!.trim();
  try {
    const value = JSON.parse(firstLine) as Record<string, unknown> | null;
    return value !== null && typeof value === 'object' && 'outcome' in value && 'buyer' in value;
  } catch {
    return false;
  }
}

function kilobytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

export const registerReport: RegisterCommand = (program, context) => {
  program
    .command('report')
    .description('turn a saved burst or merge --json report, or a --ledger file, into one self-contained HTML page')
    .argument('<file>', 'a report written by burst/merge --json, or a ledger written by burst --ledger')
    .option('--html <file>', 'where to write the page (it opens offline and sends no request)')
    .option('-s, --stock <n>', 'a ledger only: the stock, to draw the stock line and mark when it ran out')
    .addHelpText('after', helpFooter([[0, 'the page was written'], [2, 'usage error: the file is not a report or ledger, is of another schemaVersion, or cannot be read']], { durations: false }))
    .action(async (path: string, flags: ReportFlags) => {
      if (flags.html === undefined) throw new UsageError('report: say where to write the page with --html FILE, e.g. --html sale.html');
      const ledger = await looksLikeLedger(path);
      if (!ledger && flags.stock !== undefined) throw new UsageError('--stock: only for a --ledger file; a report knows its stock');
      const stock = flags.stock === undefined ? undefined : parseWholeNumber(flags.stock, '--stock', 0);
      const source = ledger ? await readLedger(path, { stock }) : await readBurstReport(path);
      const bytes = await writeHtmlReport(source, flags.html);
      const what = source.kind === 'confirm-sim.ledger' ? `${source.requests.toLocaleString('en-US')} requests from the ledger` : source.verdict.summary;
      context.stdout.write(`wrote ${flags.html} (${kilobytes(bytes)}): ${what}\n`);
    });
};
