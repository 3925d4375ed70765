import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Option } from 'commander';
import { parseDuration } from '../util/duration.js';
import { ExitCode, UsageError } from '../util/errors.js';
import { SecretMask } from '../util/secrets.js';
import { FLAWS, parseFlaw } from '../merchants/flaws.js';
import { parseWholeNumber } from '../util/numbers.js';
import { DEFAULT_MAX_ORDERS, startMerchant } from '../merchants/server.js';
import { checkAdminToken, generateAdminToken, maskAdminToken } from '../merchants/admin.js';
import { terminalChalk } from '../reporters/style.js';
import {
  formatConfirm,
  formatStarted,
  formatStopped,
  startedLine,
  type MerchantConfirmLine,
  type MerchantStoppedLine,
} from '../reporters/merchant-terminal.js';
import { parseFlow } from '../protocol/flows.js';
import {
  addAlias,
  helpFooter,
  jsonToStdout,
  prepareJsonFile,
  resolveSecretFlags,
  USAGE_EXIT,
  type CliContext,
  type RegisterCommand,
} from '../cli-context.js';

interface MerchantFlags {
  host: string;
  port: string;
  stock: string;
  amount: string;
  flaw?: string;
  openOrders?: boolean;
  hold?: string;
  secret?: string;
  secretEnv?: string;
  adminToken?: string;
  maxOrders: string;
  verify?: string;
  gateway?: string;
  impKey?: string;
  impSecretEnv?: string;
  apiSecretEnv?: string;
  storeId?: string;
  flow?: string;
  verbose?: boolean;
  json?: string;
}

async function runMerchant(flags: MerchantFlags, context: CliContext): Promise<void> {
  const price = parseWholeNumber(flags.amount, '--amount', 0);
  const holdMs = flags.hold === undefined ? undefined : parseDuration(flags.hold, '--hold');
  const secret = resolveSecretFlags(flags, context.env);
  const verify = parseVerify(flags.verify);
  const flow = flags.flow === undefined ? undefined : parseFlow(flags.flow);
  if (flags.gateway !== undefined && verify === undefined && flow !== 'manual-confirm') {
    throw new UsageError('--gateway is where --verify rest looks payments up; add --verify rest (or --flow manual-confirm, which confirms payments there)');
  }
  // A merchant that authenticates its confirms must not leave its books open: anyone could reset the stock.
  const authenticates = secret !== undefined || verify !== undefined;
  const generatedToken = flags.adminToken === undefined && authenticates ? generateAdminToken() : undefined;
  const adminToken = flags.adminToken === undefined ? generatedToken : checkAdminToken(flags.adminToken, '--admin-token');
  await prepareJsonFile(flags.json);
  const merchant = await startMerchant({
    host: flags.host,
    port: parseWholeNumber(flags.port, '--port', 0, 65_535),
    stock: parseWholeNumber(flags.stock, '--stock', 0),
    amount: price,
    flaw: flags.flaw === undefined ? undefined : parseFlaw(flags.flaw),
    secret,
    openOrders: flags.openOrders ?? false,
    holdMs,
    adminToken,
    maxOrders: parseWholeNumber(flags.maxOrders, '--max-orders', 1),
    verify,
    flow,
    gateway: flags.gateway === undefined ? undefined : {
      url: flags.gateway,
      impKey: flags.impKey,
      impSecret: fromEnv(flags.impSecretEnv, '--imp-secret-env', context.env),
      apiSecret: fromEnv(flags.apiSecretEnv, '--api-secret-env', context.env),
      storeId: flags.storeId,
    },
  });
  const colour = terminalChalk(context.stdout, context.env);
  // The gateway URL may carry credentials; a merchant's log never shows them, nor the gateway's secrets.
  const secrets = new SecretMask().addUrl(flags.gateway).add(context.env[flags.impSecretEnv ?? ''], context.env[flags.apiSecretEnv ?? '']);
  // Text goes to stdout unless --json - has it; JSON lines go where --json says, as they happen.
  const print = jsonToStdout(flags.json) ? (): void => {} : (text: string): void => void context.stdout.write(secrets.text(text));
  const jsonStream = flags.json === undefined ? null : jsonToStdout(flags.json) ? context.stdout : jsonLinesFile(flags.json, context);
  const printJson = (line: object): void => void jsonStream?.write(secrets.text(`${JSON.stringify(line)}\n`));
  const started = startedLine(merchant, {
    price,
    openOrders: flags.openOrders ?? false,
    holdMs: merchant.holdMs,
    maskedSecret: secret?.masked ?? null,
    // A generated token is shown once, since nobody else knows it; one the user gave is theirs to keep.
    adminToken: adminToken === undefined ? null : generatedToken ?? maskAdminToken(adminToken),
  });
  printJson(started);
  print(formatStarted(started, colour));
  if (flags.verbose) {
    merchant.events.on('confirm', (event) => {
      const line: MerchantConfirmLine = { schemaVersion: 1, type: 'confirm', ...event };
      printJson(line);
      print(formatConfirm(event, colour));
    });
  }
  if (!context.signal.aborted) await once(context.signal, 'abort');
  await merchant.close();
  const stopped: MerchantStoppedLine = { schemaVersion: 1, type: 'stopped', stock: merchant.stock() };
  printJson(stopped);
  print(formatStopped(stopped.stock));
  if (jsonStream !== null && jsonStream !== context.stdout) await new Promise<void>((done) => jsonStream.end(done));
  context.setExitCode(ExitCode.ok);
}

/** A --json file written line by line; a write that fails later (disk full) is said once, not a crash. */
function jsonLinesFile(path: string, context: CliContext): NodeJS.WritableStream {
  const stream = createWriteStream(path);
  stream.once('error', (error: NodeJS.ErrnoException) => {
    context.stderr.write(`confirm-sim: --json ${path}: cannot write it any more (${error.code ?? error.message})\n`);
  });
  return stream;
}

function parseVerify(text: string | undefined): 'rest' | undefined {
  if (text === undefined) return undefined;
  if (text === 'rest') return 'rest';
  throw new UsageError(`--verify: unknown way "${text}"; use --verify rest (look payments up through the gateway's REST API)`);
}

function fromEnv(name: string | undefined, flag: string, env: NodeJS.ProcessEnv): string | undefined {
  if (name === undefined) return undefined;
  const value = env[name];
  if (!value) throw new UsageError(`${flag}: the environment variable ${name} is empty or not set; export it first`);
  return value;
}

export const registerMerchant: RegisterCommand = (program, context) => {
  const command = program
    .command('merchant')
    .description('run a sample merchant (confirm endpoint with stock) to try confirm-sim on; correct, or with one --flaw')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '3000')
    .option('-s, --stock <n>', 'units in stock at start and after POST /reset', '100')
    .option('--amount <krw>', 'amount of an --open-orders order (alias: --price)', '1000')
    .option('--flaw <flaw>', `run with one realistic bug: ${FLAWS.join(', ')}`)
    .option('--open-orders', 'take any new merchant_uid as an order of 1 unit at --amount (no POST /orders needed)')
    .option('--hold <duration>', 'stock reserved at confirm and not paid within this time comes back, e.g. 30s')
    .addOption(new Option('--secret <whsec>', 'require signed V2 confirm calls and webhooks (Standard Webhooks secret)').conflicts('secretEnv'))
    .addOption(new Option('--secret-env <name>', 'read the --secret from this environment variable').conflicts('secret'))
    .option('--admin-token <token>', 'require Authorization: Bearer <token> on /reset and /orders (generated when --secret is given)')
    .option('--verify <how>', "'rest': look every confirm and notice up through the gateway's REST API (V1 API, V2 PortOne SDK)")
    .option('--gateway <url>', 'the REST API --verify rest asks, e.g. a confirm-sim gateway at http://127.0.0.1:4000')
    .option('--imp-key <key>', 'V1 REST API key for --verify rest (default: the simulated gateway\'s)')
    .option('--imp-secret-env <name>', 'read the V1 REST API secret from this environment variable (default: the simulated gateway\'s)')
    .option('--api-secret-env <name>', 'read the V2 API secret from this environment variable (default: the simulated gateway\'s)')
    .option('--store-id <id>', 'V2 store id for PortOne SDK calls')
    .option('--max-orders <n>', 'orders kept at most; past it new orders are refused until POST /reset', String(DEFAULT_MAX_ORDERS))
    .option(
      '--flow <flow>',
      "confirm-process (POST /confirm, asked by the gateway) or manual-confirm (POST /payment/complete: the merchant confirms each buyer's paymentToken at --gateway with PortOne's SDK)",
    )
    .option('--verbose', 'print one line per confirm (order id and answer)')
    .addOption(
      new Option('--json <file|->', 'write JSON lines (started, confirm with --verbose, stopped) to a file as they happen, or - for stdout (then stdout carries only them)'),
    )
    .addHelpText('after', helpFooter([[0, 'stopped by Ctrl-C or SIGTERM, after printing the stock left'], USAGE_EXIT]))
    .action((flags: MerchantFlags) => runMerchant(flags, context));
  addAlias(command, '--price <krw>', '--amount');
};
