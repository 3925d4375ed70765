import { DIALECTS, FLOWS, parseDialect, parseFlow, DEFAULT_TIMEOUT_MS } from '../protocol/index.js';
import {
  LedgerWriteError,
  runBurst,
  parseShard,
  parseStartAt,
  parseHeader,
  DEFAULT_AMOUNT,
  DEFAULT_MERCHANT_UID_TEMPLATE,
  ensureWritable,
} from '../load/index.js';
import type { BurstEvents, BurstOptions, BurstReport } from '../load/index.js';
import { attachBurstProgress, formatBurstSummary } from '../reporters/burst-terminal.js';
import { terminalChalk } from '../reporters/style.js';
import { writeJson } from '../reporters/json.js';
import { htmlPath, writeHtmlReport } from '../reporters/html/index.js';
import { ExitCode } from '../util/errors.js';
import { requireDistinctOutputs } from '../util/files.js';
import { parseDuration } from '../util/duration.js';
import { TypedEmitter } from '../util/events.js';
import { parseFraction, parsePositiveNumber, parseWholeNumber } from '../util/numbers.js';
import {
  addAlias,
  collect,
  helpFooter,
  INTERRUPTED_EXIT,
  jsonOption,
  jsonToStdout,
  prepareJsonFile,
  resolveSecretFlags,
  USAGE_EXIT,
} from '../cli-context.js';
import type { CliContext, RegisterCommand } from '../cli-context.js';

interface BurstFlags {
  buyers: string;
  stock?: string;
  dialect?: string;
  amount: string;
  merchantUid: string;
  runId?: string;
  secret?: string;
  secretEnv?: string;
  header?: string[];
  timeout: string;
  strandedWait: string;
  ramp?: string;
  rate?: string;
  connections?: string;
  duplicates?: string;
  orderUrl?: string;
  resetUrl?: string;
  stockUrl?: string;
  hookHeader?: string[];
  p99Budget: string;
  maxErrorRate: string;
  fairnessWindow: string;
  json?: string;
  html?: string;
  ledger?: string;
  workers: string;
  shard?: string;
  startAt?: string;
  quiet?: boolean;
  gateway?: string;
  webhookUrl?: string;
  declineRate?: string;
  settle?: string;
  flow?: string;
  body?: string;
  successStatus?: string;
  tokenLifetime?: string;
}

function optionsFrom(url: string, flags: BurstFlags, env: NodeJS.ProcessEnv): BurstOptions {
  const headers = Object.fromEntries((flags.header ?? []).map((text) => parseHeader(text)));
  const optionalDuration = (text: string | undefined, flag: string): number | undefined =>
    text === undefined ? undefined : parseDuration(text, flag);
  return {
    url,
    buyers: parseWholeNumber(flags.buyers, '--buyers', 1),
    stock: flags.stock === undefined ? undefined : parseWholeNumber(flags.stock, '--stock', 0),
    dialect: flags.dialect === undefined ? undefined : parseDialect(flags.dialect),
    amount: parseWholeNumber(flags.amount, '--amount', 0),
    merchantUid: flags.merchantUid,
    runId: flags.runId,
    secret: resolveSecretFlags(flags, env),
    headers,
    timeoutMs: parseDuration(flags.timeout, '--timeout'),
    strandedWaitMs: parseDuration(flags.strandedWait, '--stranded-wait'),
    rampMs: optionalDuration(flags.ramp, '--ramp'),
    ratePerSec: flags.rate === undefined ? undefined : parsePositiveNumber(flags.rate, '--rate'),
    connections: flags.connections === undefined ? undefined : parseWholeNumber(flags.connections, '--connections', 1),
    duplicates: flags.duplicates === undefined ? undefined : parseFraction(flags.duplicates, '--duplicates'),
    orderUrl: flags.orderUrl,
    resetUrl: flags.resetUrl,
    stockUrl: flags.stockUrl,
    hookHeaders: Object.fromEntries((flags.hookHeader ?? []).map((text) => parseHeader(text, '--hook-header'))),
    p99BudgetMs: parseDuration(flags.p99Budget, '--p99-budget'),
    maxErrorRate: parseFraction(flags.maxErrorRate, '--max-error-rate'),
    fairnessWindowMs: parseDuration(flags.fairnessWindow, '--fairness-window'),
    workers: parseWholeNumber(flags.workers, '--workers', 1),
    shard: flags.shard === undefined ? undefined : parseShard(flags.shard),
    startAt: flags.startAt === undefined ? undefined : parseStartAt(flags.startAt),
    ledgerPath: flags.ledger,
    gateway: flags.gateway,
    webhookUrl: flags.webhookUrl,
    declineRate: flags.declineRate === undefined ? undefined : parseFraction(flags.declineRate, '--decline-rate'),
    settleMs: optionalDuration(flags.settle, '--settle'),
    flow: flags.flow === undefined ? undefined : parseFlow(flags.flow),
    body: flags.body,
    successStatus: flags.successStatus,
    tokenLifetimeMs: optionalDuration(flags.tokenLifetime, '--token-lifetime'),
  };
}

/**
 * Prints and writes a finished burst (or merged) report and sets the exit code from its verdict. With
 * --json - stdout carries only the JSON, so the summary goes to stderr.
 */
export async function deliverBurstReport(
  report: BurstReport,
  flags: { json?: string | undefined; html?: string | undefined; quiet?: boolean | undefined },
  context: CliContext,
): Promise<void> {
  const summaryStream = jsonToStdout(flags.json) ? context.stderr : context.stdout;
  const style = terminalChalk(summaryStream, context.env);
  // The verdict first: a report that then cannot be written (a full disk) is one more line and exit 2.
  const summary = formatBurstSummary(report, style);
  summaryStream.write(flags.quiet ? `${summary.split('\n')[0]}\n` : summary);
  context.setExitCode(report.interrupted ? ExitCode.interrupted : report.verdict.pass ? ExitCode.ok : ExitCode.failed);
  if (flags.json !== undefined) await writeJson(report, { path: flags.json, stream: context.stdout }, '--json');
  if (flags.html !== undefined) await writeHtmlReport(report, flags.html, '--html');
}

async function runBurstCommand(url: string, flags: BurstFlags, context: CliContext): Promise<void> {
  const options = optionsFrom(url, flags, context.env);
  requireDistinctOutputs([['--json', flags.json], ['--ledger', flags.ledger], ['--html', flags.html === undefined ? undefined : htmlPath(flags.html, '--html')]]);
  await prepareJsonFile(flags.json);
  if (flags.ledger !== undefined) await ensureWritable(flags.ledger, '--ledger');
  if (flags.html !== undefined) await ensureWritable(htmlPath(flags.html, '--html'), '--html');
  const events = new TypedEmitter<BurstEvents>();
  const inCi = context.env.CI !== undefined && context.env.CI !== '' && context.env.CI !== 'false';
  const progressStream = context.stderr;
  // Progress is for a person watching a terminal; a pipe reading --json - or a CI log gets the result only.
  const detach =
    flags.quiet || inCi || jsonToStdout(flags.json)
      ? () => {}
      : attachBurstProgress(events, progressStream, terminalChalk(progressStream, context.env));
  let report: BurstReport;
  try {
    report = await runBurst(options, { events, signal: context.signal });
  } catch (error) {
    if (!(error instanceof LedgerWriteError)) throw error;
    // The run is judged all the same; the ledger's failure is the last line, and exit 2.
    detach();
    await deliverBurstReport(error.report, flags, context);
    throw error;
  } finally {
    detach();
  }
  await deliverBurstReport(report, flags, context);
}

export const registerBurst: RegisterCommand = (program, context) => {
  const command = program
    .command('burst')
    .description('first-come flash sale: many buyers confirm at once against a stock, and the stock oracle judges the outcome')
    .argument('<url>', 'the merchant\'s confirm URL, on this machine (e.g. http://127.0.0.1:3000/confirm)')
    .option('-n, --buyers <n>', 'buyers, each with its own order', '1000')
    .option('-s, --stock <n>', 'items on sale; with --stock-url it may be left out and read from the merchant')
    .option('--dialect <dialect>', `confirm body shape: ${DIALECTS.join(', ')} (default: v1; v2-2024-04-25 with --flow manual-confirm)`)
    .option('--amount <krw>', 'amount of every order', String(DEFAULT_AMOUNT))
    .option('--merchant-uid <template>', 'order id template; {n} = buyer number, {run} = run id', DEFAULT_MERCHANT_UID_TEMPLATE)
    .option('--run-id <id>', 'names the run in order ids and reports; give all shards the same one')
    .option('--secret <whsec>', 'sign every confirm (Standard Webhooks), as V2 does')
    .option('--secret-env <name>', 'read the signing secret from this environment variable')
    .option('-H, --header <name: value>', 'extra request header (repeatable)', collect)
    .option('-t, --timeout <duration>', "the gateway's confirm timeout; a later answer fails the payment", `${DEFAULT_TIMEOUT_MS / 1000}s`)
    .option('--stranded-wait <duration>', 'keep a timed-out request open this long to catch a late 200 (0 = close at the timeout)', '5s')
    .option('--ramp <duration>', 'spread arrivals evenly over this long instead of all at once')
    .option('--rate <per-second>', 'open-model arrivals at this many requests per second')
    .option('-c, --connections <n>', 'sockets at most (default: one per request in a burst, 1000 when paced; capped by ulimit -n)')
    .option('--duplicates <fraction>', 'fraction of buyers whose confirm is sent twice, e.g. 0.05 or 5%')
    .option('--order-url <url>', 'create each buyer\'s order first: POST {merchant_uid, amount, quantity}')
    .option('--reset-url <url>', 'POST {stock} here before the run')
    .option('--stock-url <url>', 'GET the remaining stock before and after (a number or {"stock": n})')
    .option('--hook-header <name: value>', 'header for the order, reset and stock calls, e.g. the merchant\'s admin token (repeatable)', collect)
    .option('--p99-budget <duration>', 'p99 latency above this is a problem', '1s')
    .option('--max-error-rate <fraction>', 'share of requests that may get 5xx, a reset or invalid HTTP and still pass, e.g. 0.01 or 1%', '0')
    .option('--fairness-window <duration>', 'a refusal and a later acceptance closer than this count as simultaneous', '1ms')
    .addOption(jsonOption('the report'))
    .option('--html <file>', 'write the report as one self-contained HTML page (charts, verdict, run facts)')
    .option('--ledger <file>', 'write one NDJSON line per request')
    .option('-w, --workers <n>', 'worker threads generating load', '1')
    .option('--shard <i/n>', 'run slice i (0-based) of n, for one machine or pod of a sharded run')
    .option('--start-at <unix-ms>', 'send the first request at this instant (synchronizes shards)')
    .option('--gateway <url>', "play every payment through this simulated gateway (confirm-sim gateway's base URL): the verdict is then paid payments against stock")
    .option('--webhook-url <url>', "with --gateway: where the gateway sends webhooks, the merchant's notice_url / V2 webhook endpoint (alias: --notice-url)")
    .option('--decline-rate <fraction>', 'with --gateway: fraction of charges the PG declines after a 200, e.g. 0.2 or 20%')
    .option('--settle <duration>', 'with --gateway: after the last answer, wait up to this long for webhooks and stock to come back (default 2s)')
    .option('--flow <flow>', `${FLOWS.join(' or ')}: manual-confirm posts each buyer's paymentToken to the URL, the merchant's completion endpoint, and needs --gateway (default: confirm-process)`)
    .option('--body <template>', 'manual-confirm: the JSON each buyer posts, with {paymentId} {paymentToken} {txId} {amount} {n} (default: {"paymentId","paymentToken","txId"})')
    .option('--success-status <statuses>', 'manual-confirm: the merchant answers that tell a buyer "paid", e.g. 200 or 200,201 (default: 2xx)')
    .option('--token-lifetime <duration>', "manual-confirm: how long each payment token is valid (default: the gateway's --token-lifetime)")
    .option('-q, --quiet', 'no progress, and only the verdict line')
    .addHelpText('after', helpFooter([[0, 'PASS: no oversell, undersell or other problem'], [1, 'FAIL: the verdict found a problem'], USAGE_EXIT, INTERRUPTED_EXIT]))
    .action(async (url: string, flags: BurstFlags) => {
      await runBurstCommand(url, flags, context);
    });
  addAlias(command, '--notice-url <url>', '--webhook-url');
};
