import { open } from 'node:fs/promises';
import { readBurstReport, readLedger } from '../load/index.js';
import { writeHtmlReport } from '../reporters/html/index.js';
import { writeJson } from '../reporters/json.js';
import { UsageError } from '../util/errors.js';
import { requireDistinctOutputs } from '../util/files.js';
import { parseWholeNumber } from '../util/numbers.js';
import { helpFooter, jsonOption, jsonToStdout, prepareJsonFile, type RegisterCommand } from '../cli-context.js';

interface ReportFlags {
  html?: string;
  json?: string;
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
    .addOption(
      jsonOption(
        'what the page is drawn from: a report as validated (schemaVersion checked, same shape as burst --json), or a ledger summed up (kind confirm-sim.ledger)',
      ),
    )
    .option('-s, --stock <n>', 'a ledger only: the stock, to draw the stock line and mark when it ran out')
    .addHelpText(
      'after',
      helpFooter(
        [
          [0, 'the page (and/or the JSON) was written, whatever the verdict inside; read .verdict.pass from --json for it'],
          [2, 'usage error: the file is not a report or ledger, is of another schemaVersion, or cannot be read'],
        ],
        { durations: false },
      ),
    )
    .action(async (path: string, flags: ReportFlags) => {
      if (flags.html === undefined && flags.json === undefined) {
        throw new UsageError('report: say what to write: --html FILE for the page (e.g. --html sale.html) and/or --json <file|-> for the checked report');
      }
      requireDistinctOutputs([['--json', flags.json], ['--html', flags.html]]);
      await prepareJsonFile(flags.json);
      const ledger = await looksLikeLedger(path);
      if (!ledger && flags.stock !== undefined) throw new UsageError('--stock: only for a --ledger file; a report knows its stock');
      const stock = flags.stock === undefined ? undefined : parseWholeNumber(flags.stock, '--stock', 0);
      const source = ledger ? await readLedger(path, { stock }) : await readBurstReport(path);
      const what = source.kind === 'confirm-sim.ledger' ? `${source.requests.toLocaleString('en-US')} requests from the ledger` : source.verdict.summary;
      // --json - : stdout carries only the JSON, so the line saying what was written goes to stderr.
      const said = jsonToStdout(flags.json) ? context.stderr : context.stdout;
      if (flags.html !== undefined) {
        const bytes = await writeHtmlReport(source, flags.html, '--html');
        said.write(`wrote ${flags.html} (${kilobytes(bytes)}): ${what}\n`);
      }
      if (flags.json !== undefined) {
        await writeJson(source, { path: flags.json, stream: context.stdout }, '--json');
        if (!jsonToStdout(flags.json)) said.write(`wrote ${flags.json}: ${what}\n`);
      }
    });
};
