import { once } from 'node:events';
import { Option } from 'commander';
import { DEFAULT_TIMEOUT_MS, maskSecret } from '../protocol/index.js';
import {
  DEFAULT_GATEWAY_HOST,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_API_SECRET,
  DEFAULT_IMP_KEY,
  DEFAULT_IMP_SECRET,
  DEFAULT_PAYMENT_TOKEN_LIFETIME_MS,
  DEFAULT_MAX_PAYMENTS,
  DEFAULT_TOKEN_TTL_SECONDS,
  DEFAULT_WEBHOOK_RETRY_SCALE,
  V2_RETRY_DELAYS_MS,
  startGateway,
} from '../gateway/index.js';
import { parseFactor, parseFraction, parseWholeNumber } from '../util/numbers.js';
import { terminalChalk } from '../reporters/style.js';
import { attachGatewayLog, formatGatewayBanner } from '../reporters/gateway-terminal.js';
import { collectGatewaySession } from '../reporters/gateway-json.js';
import { writeJson } from '../reporters/json.js';
import { parseDuration } from '../util/duration.js';
import { ExitCode, UsageError } from '../util/errors.js';
import { SecretMask } from '../util/secrets.js';
import {
  addAlias,
  helpFooter,
  jsonOption,
  jsonToStdout,
  prepareJsonFile,
  resolveSecretFlags,
  USAGE_EXIT,
  type CliContext,
  type RegisterCommand,
} from '../cli-context.js';

interface GatewayFlags {
  host: string;
  port: string;
  impKey: string;
  impSecret?: string;
  impSecretEnv?: string;
  apiSecret?: string;
  apiSecretEnv?: string;
  secret?: string;
  secretEnv?: string;
  storeId?: string;
  timeout: string;
  tokenTtl: string;
  tokenLifetime: string;
  declineRate: string;
  webhookRetryScale: string;
  maxPayments: string;
  verbose?: boolean;
  json?: string;
}

/** A credential given directly or, kept out of ps and shell history, through an environment variable. */
function credential(direct: string | undefined, envName: string | undefined, flag: string, env: NodeJS.ProcessEnv): string | undefined {
  if (direct === '') throw new UsageError(`${flag}: the value is empty; give the credential or leave the flag out`);
  if (direct !== undefined) return direct;
  if (envName === undefined) return undefined;
  const value = env[envName];
  if (!value) throw new UsageError(`${flag}-env: the environment variable ${envName} is empty or not set; export it first`);
  return value;
}

function tokenTtlSeconds(text: string): number {
  const seconds = parseDuration(text, '--token-ttl') / 1000;
  if (!Number.isInteger(seconds) || seconds <= 0) {
    throw new UsageError(`--token-ttl: "${text}" is not a whole number of seconds above 0; give e.g. 30m or 90s`);
  }
  return seconds;
}

function paymentTokenLifetimeMs(text: string): number {
  const ms = parseDuration(text, '--token-lifetime');
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new UsageError(`--token-lifetime: "${text}" is not a lifetime above 0; give e.g. 10m, 90s or 500ms`);
  }
  return ms;
}

async function runGateway(flags: GatewayFlags, context: CliContext): Promise<void> {
  const impSecret = credential(flags.impSecret, flags.impSecretEnv, '--imp-secret', context.env);
  const apiSecret = credential(flags.apiSecret, flags.apiSecretEnv, '--api-secret', context.env);
  const secret = resolveSecretFlags(flags, context.env);
  const confirmTimeoutMs = parseDuration(flags.timeout, '--timeout');
  const ttl = tokenTtlSeconds(flags.tokenTtl);
  const tokenLifetimeMs = paymentTokenLifetimeMs(flags.tokenLifetime);
  const declineRate = parseFraction(flags.declineRate, '--decline-rate');
  const webhookRetryScale = parseFactor(flags.webhookRetryScale, '--webhook-retry-scale', '1/10000, 0.001 or 1 (the real schedule)');
  const maxPayments = parseWholeNumber(flags.maxPayments, '--max-payments', 1);
  await prepareJsonFile(flags.json);
  const gateway = await startGateway({
    host: flags.host,
    port: parseWholeNumber(flags.port, '--port', 0, 65_535),
    impKey: flags.impKey,
    impSecret,
    apiSecret,
    tokenTtlSeconds: ttl,
    tokenLifetimeMs,
    secret,
    storeId: flags.storeId,
    timeoutMs: confirmTimeoutMs,
    declineRate,
    webhookRetryScale,
    maxPayments,
  });
  const session = flags.json === undefined ? null : collectGatewaySession(gateway.events, gateway.url, (run) => gateway.summary(run));
  // --json - : stdout carries only the session's JSON, so the banner and the log go to stderr.
  const logStream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } = jsonToStdout(flags.json) ? context.stderr : context.stdout;
  const style = terminalChalk(logStream, context.env);
  logStream.write(
    formatGatewayBanner(
      {
        url: gateway.url,
        routes: gateway.routes,
        maskedImpKey: maskSecret(gateway.impKey),
        impKeyIsDefault: gateway.impKey === DEFAULT_IMP_KEY,
        maskedImpSecret: maskSecret(impSecret ?? DEFAULT_IMP_SECRET),
        impSecretIsDefault: impSecret === undefined,
        maskedApiSecret: maskSecret(apiSecret ?? DEFAULT_API_SECRET),
        apiSecretIsDefault: apiSecret === undefined,
        storeId: gateway.storeId,
        maskedWebhookSecret: secret?.masked ?? null,
        confirmTimeoutMs,
        tokenTtlSeconds: ttl,
        paymentTokenLifetimeMs: tokenLifetimeMs,
        declineRate,
        webhookRetryDelaysMs: V2_RETRY_DELAYS_MS.map((delay) => delay * webhookRetryScale),
        maxPayments,
      },
      style,
    ),
  );
  // A merchant's answer that echoes a credential (the webhook or API secret it was given) is logged masked, as are URL credentials.
  const secrets = new SecretMask().add(gateway.impKey, impSecret ?? DEFAULT_IMP_SECRET, apiSecret ?? DEFAULT_API_SECRET);
  if (secret !== undefined) secrets.add(secret.key.toString('base64'));
  const output = {
    write: (text: string) => logStream.write(secrets.text(text)),
    get columns() {
      return logStream.columns;
    },
  };
  const log = attachGatewayLog(gateway.events, output, style, { verbose: flags.verbose === true, live: logStream.isTTY === true });
  if (!context.signal.aborted) await once(context.signal, 'abort');
  log.close();
  const summary = session?.close();
  await gateway.close();
  // Masked like the log: a run's notice URL may carry credentials, a merchant's answer may echo a secret.
  if (summary !== undefined) await writeJson(secrets.deep(summary), { path: flags.json, stream: context.stdout }, '--json');
  context.setExitCode(ExitCode.ok);
}

export const registerGateway: RegisterCommand = (program, context) => {
  const command = program
    .command('gateway')
    .description(
      "run a simulated gateway: the V1 and V2 REST APIs a merchant's confirm and webhook handlers call, and /sim/payments to pay through the merchant's confirm endpoint",
    )
    .option('--host <host>', 'address to listen on', DEFAULT_GATEWAY_HOST)
    .option('--port <port>', 'port to listen on (0 picks a free one)', String(DEFAULT_GATEWAY_PORT))
    .option('--imp-key <key>', 'REST API key merchants present to POST /users/getToken', DEFAULT_IMP_KEY)
    .addOption(
      new Option('--imp-secret <secret>', `REST API secret (default: ${DEFAULT_IMP_SECRET}; prefer --imp-secret-env)`).conflicts(
        'impSecretEnv',
      ),
    )
    .addOption(new Option('--imp-secret-env <name>', 'read the REST API secret from this environment variable').conflicts('impSecret'))
    .addOption(
      new Option(
        '--api-secret <secret>',
        `V2 API secret merchants send as Authorization: PortOne <secret> (default: ${DEFAULT_API_SECRET}; prefer --api-secret-env)`,
      ).conflicts('apiSecretEnv'),
    )
    .addOption(new Option('--api-secret-env <name>', 'read the V2 API secret from this environment variable').conflicts('apiSecret'))
    .addOption(
      new Option('--secret <whsec>', 'webhook secret that signs V2 confirm calls and webhooks (prefer --secret-env)').conflicts('secretEnv'),
    )
    .addOption(new Option('--secret-env <name>', 'read the webhook secret from this environment variable').conflicts('secret'))
    .option('--store-id <id>', 'V2 store id of every V2 payment, sent in V2 confirm and webhook data (default: a fixed test store id)')
    .option('-t, --timeout <duration>', "how long to wait for the merchant's confirm answer (alias: --confirm-timeout)", `${DEFAULT_TIMEOUT_MS / 1000}s`)
    .option('--token-ttl <duration>', 'lifetime of an access token', `${DEFAULT_TOKEN_TTL_SECONDS / 60}m`)
    .option(
      '--token-lifetime <duration>',
      "how long a manual-confirm payment token stays valid after the buyer's requestPayment (a later confirm is INVALID_PAYMENT_TOKEN)",
      `${DEFAULT_PAYMENT_TOKEN_LIFETIME_MS / 60_000}m`,
    )
    .option('--decline-rate <fraction>', 'fraction of charges the PG declines after the merchant said 200, e.g. 0.2 or 20% (a run may set its own)', '0')
    .option(
      '--webhook-retry-scale <factor>',
      'compresses the webhook retry schedule (1, 4, 16, 64, 256 min): 1 is the real one, 1/10000 puts all five retries in 2 s',
      `1/${Math.round(1 / DEFAULT_WEBHOOK_RETRY_SCALE)}`,
    )
    .option(
      '--max-payments <n>',
      'most payments kept in memory; past it the oldest completed ones are forgotten (run summaries stay exact)',
      String(DEFAULT_MAX_PAYMENTS),
    )
    .addOption(jsonOption('a summary of what the gateway saw (runs, payments by status, webhooks, confirms) when it stops'))
    .option('--verbose', 'print one line per request, payment change, confirm call and webhook attempt (default: a summary per burst of activity and per run)')
    .addHelpText('after', helpFooter([[0, 'stopped by Ctrl-C or SIGTERM (--json is written then)'], USAGE_EXIT]))
    .action((flags: GatewayFlags) => runGateway(flags, context));
  addAlias(command, '--confirm-timeout <duration>', '--timeout');
};
