import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBurst } from '../src/index.js';
import type { BurstReport } from '../src/index.js';
import { runToEnd, startFixedAnswerServer } from './children.js';
import type { Finished } from './children.js';
import { count, megabytes, perSecond } from './figures.js';
// The probe only acts when its variable is set, which it never is in the bench's own process.
import { PEAK_RSS_FILE_ENV } from './rss-probe.js';
import type { BenchContext } from './context.js';
import type { BenchRow, Target } from './table.js';

export interface MemorySizes {
  buyers: number;
  /** Closed-loop requests measuring what the server sustains, from which the arrival rate is chosen. */
  calibrationRequests: number;
}

const BUDGET_BYTES = 200 * 1024 * 1024;
export const MEMORY_TARGET: Target = { direction: 'at-most', ratio: 1 };
/**
 * Drawing the page from a saved report against the CLI with nothing to do (`--version`, which loads the same
 * modules): the page is built from buckets, so it may cost a little more, never a run's worth.
 */
export const REPORT_MEMORY_TARGET: Target = { direction: 'at-most', ratio: 1.5 };
const STOCK = 1000;
/**
 * Arrivals at this share of the server's closed-loop throughput: paced requests arrive one at a time, which
 * costs the server more than back-to-back ones, and a rate it cannot keep only makes the run longer.
 */
const RATE_SHARE = 0.75;
const RATE_STEP = 500;

const CLI = fileURLToPath(new URL('../../bin/confirm-sim.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./rss-probe.js', import.meta.url));

/** Runs node with the peak-RSS probe preloaded and returns the process's result and its peak RSS in bytes. */
async function nodeWithPeakRss(folder: string, name: string, args: string[]): Promise<{ finished: Finished; peakBytes: number }> {
  const rssFile = path.join(folder, `${name}.rss`);
  const finished = await runToEnd(process.execPath, ['--import', PROBE, ...args], { ...process.env, [PEAK_RSS_FILE_ENV]: rssFile });
  const peak = Number(await readFile(rssFile, 'utf8').catch(() => 'NaN'));
  return { finished, peakBytes: peak };
}

async function sustainedRate(url: string, requests: number): Promise<number> {
  const report = await runBurst({ url, buyers: requests, stock: requests, connections: 50, strandedWaitMs: 0 });
  return Math.max(RATE_STEP, Math.floor((report.throughputPerSec * RATE_SHARE) / RATE_STEP) * RATE_STEP);
}

/** The run writes both of its reports, JSON and HTML, within the same process and budget. */
function cliArgs(url: string, buyers: number, rate: number, jsonFile: string, htmlFile: string): string[] {
  return [CLI, 'burst', url, '--buyers', String(buyers), '--stock', String(STOCK), '--rate', String(rate), '--stranded-wait', '0', '--json', jsonFile, '--html', htmlFile, '--quiet'];
}

/** What any reader of the saved report pays: node reading the file and parsing it. */
const PARSE_ONLY = "JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'))";

/**
 * `confirm-sim report` drawing the page from the run's saved report, in its own process, against the CLI's
 * floor (`confirm-sim --version`): the page's own cost, measured on the million-buyer report itself.
 */
async function measureReport(sizes: MemorySizes, folder: string, jsonFile: string): Promise<BenchRow> {
  const figure = `peak RSS, report --html of the ${count(sizes.buyers)}-buyer report`;
  const htmlFile = path.join(folder, 'again.html');
  const page = await nodeWithPeakRss(folder, 'report', [CLI, 'report', jsonFile, '--html', htmlFile]);
  const floor = await nodeWithPeakRss(folder, 'version', [CLI, '--version']);
  const parse = await nodeWithPeakRss(folder, 'parse', ['-e', PARSE_ONLY, jsonFile]);
  const failed = (why: string): BenchRow => ({ figure, ours: '-', reference: '-', ratio: null, target: REPORT_MEMORY_TARGET, notes: [why] });
  if (page.finished.code !== 0) return failed(`report exited ${page.finished.code ?? page.finished.signal}: ${page.finished.stderr.trim().split('\n').pop() ?? ''}`);
  if (parse.finished.code !== 0) return failed(`node could not parse the report: ${parse.finished.stderr.trim().split('\n').pop() ?? ''}`);
  if (![page, floor, parse].every((measured) => Number.isFinite(measured.peakBytes))) return failed('the peak-RSS probe left no figure');
  const [jsonBytes, htmlBytes] = await Promise.all([stat(jsonFile), stat(htmlFile)]).then((files) => files.map((file) => file.size));
  return {
    figure,
    ours: megabytes(page.peakBytes),
    reference: `CLI floor ${megabytes(floor.peakBytes)}`,
    ratio: page.peakBytes / floor.peakBytes,
    target: REPORT_MEMORY_TARGET,
    notes: [
      `report ${Math.round(jsonBytes! / 1024)} KB of JSON → page ${Math.round(htmlBytes! / 1024)} KB; ` +
        `${(page.peakBytes / BUDGET_BYTES).toFixed(2)}× the ${megabytes(BUDGET_BYTES)} budget; CLI floor = confirm-sim --version, node parsing the report alone: ${megabytes(parse.peakBytes)}`,
    ],
    unmet: page.peakBytes <= BUDGET_BYTES ? undefined : `over the ${megabytes(BUDGET_BYTES)} budget`,
  };
}

async function measure(sizes: MemorySizes, figure: string, folder: string, url: string, log: (line: string) => void): Promise<BenchRow[]> {
  const failed = (why: string): BenchRow[] => [{ figure, ours: '-', reference: '-', ratio: null, target: MEMORY_TARGET, notes: [why] }];
  log(`memory: measuring what the server sustains (${count(sizes.calibrationRequests)} requests)`);
  const rate = await sustainedRate(url, sizes.calibrationRequests);
  log(`memory: ${count(sizes.buyers)} buyers at ${count(rate)}/s through the CLI (about ${Math.round(sizes.buyers / rate)} s)`);
  const jsonFile = path.join(folder, 'report.json');
  const htmlFile = path.join(folder, 'report.html');
  const cli = await nodeWithPeakRss(folder, 'cli', cliArgs(url, sizes.buyers, rate, jsonFile, htmlFile));
  const idle = await nodeWithPeakRss(folder, 'idle', ['-e', '0']);
  // A fixed 200 for everyone oversells, so the verdict fails (exit 1); only 2 (usage) or a crash is ours.
  if (cli.finished.code !== 0 && cli.finished.code !== 1) {
    return failed(`the CLI exited ${cli.finished.code ?? cli.finished.signal}: ${cli.finished.stderr.trim().split('\n').pop() ?? ''}`);
  }
  if (!Number.isFinite(cli.peakBytes)) return failed('the peak-RSS probe left no figure');
  const report = JSON.parse(await readFile(jsonFile, 'utf8')) as BurstReport;
  const pageBytes = (await stat(htmlFile).catch(() => null))?.size ?? null;
  if (pageBytes === null) return failed('the run wrote no --html page');
  const { sent, requests } = report.counts;
  const warnings = report.selfCheck.warnings.map((warning) => warning.code);
  const run: BenchRow = {
    figure,
    ours: megabytes(cli.peakBytes),
    reference: `budget ${megabytes(BUDGET_BYTES)}`,
    ratio: cli.peakBytes / BUDGET_BYTES,
    target: MEMORY_TARGET,
    notes: [
      `peak RSS ${megabytes(cli.peakBytes)} = ${(cli.peakBytes / BUDGET_BYTES).toFixed(2)}× the ${megabytes(BUDGET_BYTES)} budget; ` +
        `idle node -e 0: ${megabytes(idle.peakBytes)}; wrote the JSON report and a ${Math.round(pageBytes / 1024)} KB HTML page`,
      `${count(sent)} of ${count(requests)} sent at --rate ${count(rate)} in ${(cli.finished.wallMs / 1000).toFixed(1)} s wall ` +
        `(${perSecond(report.throughputPerSec)} answered, send lag p99 ${report.dispatch.lagP99Ms?.toFixed(0) ?? '-'} ms` +
        `${warnings.length > 0 ? `, warnings: ${warnings.join(', ')}` : ''})`,
    ],
    unmet: sent === sizes.buyers && !report.interrupted ? undefined : `only ${count(sent)} of ${count(sizes.buyers)} buyers were sent`,
  };
  log('memory: drawing the page again from the saved report (confirm-sim report)');
  return [run, await measureReport(sizes, folder, jsonFile)];
}

/**
 * A long paced run as users start it: the real CLI in its own process, `--rate` arrivals for every buyer,
 * against the fixed-answer server, writing its JSON report and HTML page. Its peak RSS (the kernel's
 * high-water mark) is judged against the budget; an idle `node -e` gives the floor any node process pays.
 * Then `confirm-sim report --html` draws the page again from the saved report, against parsing it.
 */
export async function benchMemory(sizes: MemorySizes, { log, cpus }: BenchContext): Promise<BenchRow[]> {
  const folder = await mkdtemp(path.join(tmpdir(), 'confirm-sim-bench-'));
  try {
    const server = await startFixedAnswerServer(cpus);
    try {
      return await measure(sizes, `peak RSS, ${count(sizes.buyers)} buyers --rate, --json + --html`, folder, server.url, log);
    } finally {
      await server.stop();
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
