import { Option } from 'commander';
import { DIALECTS, FLOWS, parseDialect, parseFlow } from '../protocol/index.js';
import { CheckRunner, selectCases, type CheckOptions, type CheckResult } from '../contract/index.js';
import { readScenarioFile, scenarioCheckOptions } from '../scenario/index.js';
import { parseFraction, parseWholeNumber } from '../util/numbers.js';
import { parseHeader } from '../load/index.js';
import { attachCheckTerminal, formatCaseList } from '../reporters/check-terminal.js';
import { terminalChalk } from '../reporters/style.js';
import { writeJson, writeReport, writesToStream, type ReportDestination } from '../reporters/json.js';
import { renderJunit } from '../reporters/junit.js';
import { parseDuration } from '../util/duration.js';
import { ExitCode, UsageError } from '../util/errors.js';
import { ensureWritable, requireDistinctOutputs } from '../util/files.js';
import {
  addAlias,
  caseResultForCli,
  collect,
  helpFooter,
  INTERRUPTED_EXIT,
  jsonOption,
  resolveSecretFlags,
  USAGE_EXIT,
  type CliContext,
  type RegisterCommand,
} from '../cli-context.js';

interface CheckFlags {
  scenario?: string;
  dialect?: string;
  secret?: string;
  secretEnv?: string;
  orderUrl?: string;
  resetUrl?: string;
  stockUrl?: string;
  webhookUrl?: string;
  gateway?: string;
  settle?: string;
  hookHeader?: string[];
  stock?: string;
  amount?: string;
  grep?: string;
  skip?: string;
  bail?: boolean;
  strict?: boolean;
  p99Budget?: string;
  maxErrorRate?: string;
  timeout?: string;
  reporter: string[];
  out: string[];
  json?: string;
  list?: boolean;
  flow?: string;
  body?: string;
  successStatus?: string;
  tokenLifetime?: string;
}

function parseTokenLifetime(text: string): number {
  const ms = parseDuration(text, '--token-lifetime');
  if (!(ms >= 1)) throw new UsageError(`--token-lifetime: "${text}" is not a lifetime above 0; give e.g. 10m, 90s or 500ms`);
  return ms;
}

const REPORTERS = ['cli', 'json', 'junit'] as const;
type ReporterName = (typeof REPORTERS)[number];
/** The reporters that write a report (to --out, or stdout); cli always prints to the terminal. */
type FileReporter = Exclude<ReporterName, 'cli'>;
const FILE_REPORTERS: readonly FileReporter[] = ['json', 'junit'];

interface ReporterPlan {
  cli: boolean;
  files: Map<FileReporter, ReportDestination>;
}

function parseReporter(text: string): ReporterName {
  if ((REPORTERS as readonly string[]).includes(text)) return text as ReporterName;
  throw new UsageError(`--reporter: unknown reporter "${text}"; use ${REPORTERS.join(', ')} (repeat --reporter for several)`);
}

/**
 * Pairs --out values with reporters: "junit=report.xml" names its reporter, a bare path goes to the next
 * json/junit reporter in --reporter order. At most one reporter may write to stdout, so JSON stays pure.
 */
export function planReporters(reporterFlags: string[], outFlags: string[], stdout: NodeJS.WritableStream): ReporterPlan {
  const names = (reporterFlags.length > 0 ? reporterFlags : ['cli']).map(parseReporter);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) throw new UsageError(`--reporter ${repeated} is given twice; give each reporter once`);
  const fileReporters = names.filter((name): name is FileReporter => name !== 'cli');
  const paths = new Map<FileReporter, string>();
  const unnamed: string[] = [];
  for (const out of outFlags) {
    // "name=path" names a reporter; a file really called "a=b.xml" is written as ./a=b.xml.
    const match = /^([A-Za-z][\w-]*)=(.*)$/.exec(out);
    if (!match) {
      unnamed.push(out);
      continue;
    }
    const [, name, path] = match as unknown as [string, string, string];
    if (!(FILE_REPORTERS as readonly string[]).includes(name)) {
      throw new UsageError(`--out ${out}: "${name}" is not a reporter that writes a file; use json=<file> or junit=<file> (./${out} for a file so named)`);
    }
    if (path === '') throw new UsageError(`--out ${out}: no path after "="; write e.g. --out ${name}=reports/confirm-sim.${name === 'junit' ? 'xml' : 'json'}`);
    if (paths.has(name as FileReporter)) throw new UsageError(`--out ${name}= is given twice; give each reporter one file`);
    paths.set(name as FileReporter, path);
  }
  for (const [name] of paths) {
    if (!fileReporters.includes(name)) throw new UsageError(`--out ${name}=...: there is no --reporter ${name}; add it`);
  }
  for (const path of unnamed) {
    const next = fileReporters.find((name) => !paths.has(name));
    if (next === undefined) {
      throw new UsageError(`--out ${path}: no json or junit reporter left to write it; add --reporter junit or --reporter json`);
    }
    paths.set(next, path);
  }
  const files = new Map<FileReporter, ReportDestination>(fileReporters.map((name) => [name, { path: paths.get(name), stream: stdout }]));
  const onStdout = [
    ...(names.includes('cli') ? ['cli'] : []),
    ...[...files].filter(([, destination]) => writesToStream(destination)).map(([name]) => name),
  ];
  if (onStdout.length > 1) {
    throw new UsageError(`--reporter ${onStdout.join(' and ')} would all write to stdout; give each json/junit reporter --out <file>`);
  }
  return { cli: names.includes('cli'), files };
}

/**
 * --json <file|-> means what it means on every other command; here it is the json reporter with its --out.
 * Without --reporter the terminal reporter stays beside it, unless the JSON takes stdout.
 */
function withJsonFlag(flags: CheckFlags): [reporters: string[], outs: string[]] {
  if (flags.json === undefined) return [flags.reporter, flags.out];
  if (flags.reporter.includes('json')) {
    throw new UsageError('--json and --reporter json both ask for the JSON report; keep one (--json <file|-> is the short form)');
  }
  const others = flags.reporter.length > 0 ? flags.reporter : flags.json === '-' ? [] : ['cli'];
  return [[...others, 'json'], [...flags.out, `json=${flags.json}`]];
}

const PATTERN_FLAGS = { grep: '--grep', skip: '--skip' };

function parsePattern(text: string | undefined, flag: string): RegExp | undefined {
  if (text === undefined) return undefined;
  try {
    return new RegExp(text);
  } catch (error) {
    throw new UsageError(`${flag}: "${text}" is not a regular expression (${(error as Error).message}); e.g. ${flag} 'refuses|burst'`);
  }
}

/** The scenario file's options with the flags laid over them: a flag always wins. */
async function resolveOptions(url: string | undefined, flags: CheckFlags, context: CliContext): Promise<CheckOptions> {
  const secretFlagGiven = flags.secret !== undefined || flags.secretEnv !== undefined;
  const flagFlow = flags.flow === undefined ? undefined : parseFlow(flags.flow);
  const base =
    flags.scenario === undefined
      ? {}
      : scenarioCheckOptions(await readScenarioFile(flags.scenario), context.env, flags.scenario, { readSecret: !secretFlagGiven, flow: flagFlow });
  const target = url ?? base.url;
  if (target === undefined) {
    throw new UsageError('no confirm URL: give it as confirm-sim check <url>, or as target.url in a --scenario file');
  }
  const product = { ...base.product };
  if (flags.stock !== undefined) product.stock = parseWholeNumber(flags.stock, '--stock', 1);
  if (flags.amount !== undefined) {
    product.price = parseWholeNumber(flags.amount, '--amount', 1);
    product.priceKnown = true;
  }
  return {
    ...base,
    url: target,
    dialect: flags.dialect === undefined ? base.dialect : parseDialect(flags.dialect),
    secret: resolveSecretFlags(flags, context.env) ?? base.secret,
    orderUrl: flags.orderUrl ?? base.orderUrl,
    resetUrl: flags.resetUrl ?? base.resetUrl,
    stockUrl: flags.stockUrl ?? base.stockUrl,
    webhookUrl: flags.webhookUrl ?? base.webhookUrl,
    hookHeaders: flags.hookHeader === undefined
      ? base.hookHeaders
      : Object.fromEntries(flags.hookHeader.map((text) => parseHeader(text, '--hook-header'))),
    product,
    timeoutMs: flags.timeout === undefined ? base.timeoutMs : parseDuration(flags.timeout, '--timeout'),
    p99BudgetMs: flags.p99Budget === undefined ? base.p99BudgetMs : parseDuration(flags.p99Budget, '--p99-budget'),
    maxErrorRate: flags.maxErrorRate === undefined ? base.maxErrorRate : parseFraction(flags.maxErrorRate, '--max-error-rate'),
    gateway: flags.gateway ?? base.gateway,
    settleMs: flags.settle === undefined ? base.settleMs : parseDuration(flags.settle, '--settle'),
    strict: flags.strict ?? base.strict,
    grep: parsePattern(flags.grep, '--grep'),
    skip: parsePattern(flags.skip, '--skip'),
    bail: flags.bail ?? false,
    flow: flagFlow ?? base.flow,
    body: flags.body ?? base.body,
    successStatus: flags.successStatus ?? base.successStatus,
    tokenLifetimeMs: flags.tokenLifetime === undefined ? base.tokenLifetimeMs : parseTokenLifetime(flags.tokenLifetime),
    signal: context.signal,
  };
}

async function writeFileReports(plan: ReporterPlan, result: CheckResult): Promise<void> {
  for (const [name, destination] of plan.files) {
    if (name === 'json') await writeJson(result, destination, '--out');
    else await writeReport(renderJunit(result), destination, '--out');
  }
}

async function runCheckCommand(url: string | undefined, flags: CheckFlags, context: CliContext): Promise<void> {
  const style = terminalChalk(context.stdout, context.env);
  if (flags.list) {
    // A scenario's flow decides which cases there are, as it does for the run.
    const flow = flags.flow === undefined ? (flags.scenario === undefined ? undefined : (await readScenarioFile(flags.scenario)).flow) : parseFlow(flags.flow);
    context.stdout.write(formatCaseList(selectCases(parsePattern(flags.grep, '--grep'), parsePattern(flags.skip, '--skip'), PATTERN_FLAGS, flow), style));
    context.setExitCode(ExitCode.ok);
    return;
  }
  const plan = planReporters(...withJsonFlag(flags), context.stdout);
  requireDistinctOutputs([...plan.files].map(([name, destination]) => [`--out ${name}`, destination.path] as const));
  // A report path that cannot be written fails now, not after the whole suite has run.
  for (const destination of plan.files.values()) {
    if (!writesToStream(destination)) await ensureWritable(destination.path!, '--out');
  }
  const options = await resolveOptions(url, flags, context);
  selectCases(options.grep, options.skip, PATTERN_FLAGS, options.flow);
  const runner = new CheckRunner(options);
  if (plan.cli) attachCheckTerminal(runner, context.stdout, style, caseResultForCli);
  const ran = await runner.run();
  const result: CheckResult = { ...ran, cases: ran.cases.map(caseResultForCli) };
  await writeFileReports(plan, result);
  if (result.interrupted) context.stderr.write('confirm-sim: interrupted; the report covers the cases that ran\n');
  context.setExitCode(result.interrupted ? ExitCode.interrupted : result.ok ? ExitCode.ok : ExitCode.failed);
}

export const registerCheck: RegisterCommand = (program, context) => {
  const command = program
    .command('check')
    .description("run the contract suite against a merchant's confirm endpoint")
    .argument('[url]', "the merchant's confirm URL (or target.url in --scenario)")
    .option('--scenario <file>', 'a scenario file (.yaml, .yml or .json; confirm-sim init writes one); flags override it')
    .option('--dialect <dialect>', `confirm body and signing: ${DIALECTS.join(', ')} (default: v1)`)
    .option('--secret-env <name>', 'read the V2 webhook secret from this environment variable')
    .option('--secret <whsec>', 'the V2 webhook secret (prefer --secret-env: arguments show up in ps)')
    .option('--order-url <url>', 'hook: POST {merchant_uid, amount, quantity} creates an order')
    .option('--reset-url <url>', 'hook: POST {stock} resets orders and stock before each case')
    .option('--stock-url <url>', 'hook: GET answers the stock, as n or {"stock": n}')
    .option('--webhook-url <url>', "the merchant's payment webhook (notice_url), told that a confirmed payment failed (case 10); with --gateway, where the gateway sends its webhooks (alias: --notice-url)")
    .option('--gateway <url>', "play every confirm's payment through this simulated gateway (confirm-sim gateway's base URL), so a merchant that looks payments up works, and run cases 11-14")
    .option('--settle <duration>', 'with --gateway: how long a case waits for a decline, webhooks and the stock coming back (default: 2s)')
    .option('--hook-header <name: value>', "header for the order, reset and stock hooks, e.g. the merchant's admin token (repeatable)", collect)
    .option('-s, --stock <n>', 'the stock the reset hook sets before each case (default: 20)')
    .option('--amount <krw>', 'amount of a one-unit order (default: 1000); also tells case 4 an open-orders merchant knows it (alias: --price)')
    .option('--grep <regex>', 'run only cases whose "<id> <name>" matches')
    .option('--skip <regex>', 'leave out cases whose "<id> <name>" matches')
    .option('--bail', 'stop at the first failed case')
    .option('--strict', 'count warnings (a refusal without a reason) as failures')
    .option('--p99-budget <duration>', 'case 8 fails above this p99 (default: 1s)')
    .option('--max-error-rate <fraction>', 'cases 8 and 9: share of confirms that may get 5xx, a reset or invalid HTTP (default: 0)')
    .option('-t, --timeout <duration>', "the gateway's wait for each answer (default: 5s; the developer docs say 10s)")
    .addOption(new Option('--reporter <name>', `${REPORTERS.join(', ')}; repeatable`).argParser(collect).default([], 'cli'))
    .addOption(
      new Option('--out <path>', 'file for a json/junit reporter, in --reporter order, or as junit=path; repeatable')
        .argParser(collect)
        .default([], 'stdout'),
    )
    .addOption(jsonOption('the result (the same as --reporter json --out <file>)'))
    .option('--flow <flow>', `${FLOWS.join(' or ')}: manual-confirm checks the URL as the merchant's completion endpoint (cases 15-20) and needs --gateway (default: confirm-process, cases 1-14)`)
    .option('--body <template>', 'manual-confirm: the JSON the buyer\'s front end posts, with {paymentId} {paymentToken} {txId} {amount} {n}')
    .option('--success-status <statuses>', 'manual-confirm: the merchant answers that tell a buyer "paid", e.g. 200 or 200,201 (default: 2xx)')
    .option('--token-lifetime <duration>', "manual-confirm: how long each minted payment token is valid (default: the gateway's --token-lifetime)")
    .option('--list', 'list the cases and what each checks, then exit')
    .addHelpText(
      'after',
      helpFooter([[0, 'contract kept: every case that ran passed (skipped cases say why)'], [1, 'contract broken: a case failed'], [2, `${USAGE_EXIT[1]}, or no case left to run`], INTERRUPTED_EXIT]),
    )
    .action((url: string | undefined, flags: CheckFlags) => runCheckCommand(url, flags, context));
  addAlias(command, '--notice-url <url>', '--webhook-url');
  addAlias(command, '--price <krw>', '--amount');
};
