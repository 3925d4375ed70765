import { DIALECTS, DEFAULT_TIMEOUT_MS, FLOWS, parseDialect, parseFlow, type ConfirmOrder } from '../protocol/index.js';
import { fireCompletion } from '../fire/manual-confirm.js';
import { fireConfirm, type FireEvents, type FireResult } from '../fire/index.js';
import { fireThroughGateway, type GatewayFireResult } from '../fire/gateway.js';
import { formatCompletionOutcome, formatCompletionRequest, formatFireLifecycle, formatFireOutcome, formatFireRequest } from '../reporters/fire-terminal.js';
import { terminalChalk } from '../reporters/style.js';
import type { ChalkInstance } from 'chalk';
import { UsageError, ExitCode } from '../util/errors.js';
import { describeBadHeader } from '../util/secrets.js';
import { parseDuration } from '../util/duration.js';
import { TypedEmitter } from '../util/events.js';
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
  type CliContext,
  type RegisterCommand,
} from '../cli-context.js';
import { writeJson } from '../reporters/json.js';

interface FireFlags {
  dialect: string;
  merchantUid?: string;
  impUid?: string;
  amount?: string;
  status?: string;
  secret?: string;
  secretEnv?: string;
  timeout?: string;
  header?: string[];
  data?: string;
  expect?: string;
  json?: string;
  gateway?: string;
  webhookUrl?: string;
  decline?: boolean;
  settle?: string;
  flow?: string;
  body?: string;
  successStatus?: string;
}

const EXPECTATIONS = ['proceed', 'fail'] as const;
type Expectation = (typeof EXPECTATIONS)[number];

// RFC 9110 token characters, so a typo such as "X-Test=1" is caught here instead of as a cryptic undici error.
const HEADER_PATTERN = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*(.*)$/s;

function parseHeaders(entries: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of entries) {
    const match = HEADER_PATTERN.exec(entry);
    if (!match) throw new UsageError(`--header: ${describeBadHeader(entry)} is not "Name: value"; write e.g. -H 'X-Request-Id: 42'`);
    headers[match[1]!.toLowerCase()] = match[2]!.trim();
  }
  return headers;
}

function parseAmount(text: string): number {
  const amount = Number(text);
  if (text.trim() === '' || !Number.isFinite(amount)) {
    throw new UsageError(`--amount: "${text}" is not a number; give the amount in KRW, e.g. --amount 1000`);
  }
  return amount;
}

function parseExpectation(text: string): Expectation {
  if ((EXPECTATIONS as readonly string[]).includes(text)) return text as Expectation;
  throw new UsageError(`--expect: "${text}" is not a verdict; use --expect proceed or --expect fail`);
}

function orderFrom(flags: FireFlags): Partial<ConfirmOrder> {
  const order: Partial<ConfirmOrder> = {};
  if (flags.merchantUid !== undefined) order.merchantUid = flags.merchantUid;
  if (flags.impUid !== undefined) order.impUid = flags.impUid;
  if (flags.amount !== undefined) order.amount = parseAmount(flags.amount);
  if (flags.status !== undefined) order.status = flags.status;
  return order;
}

/** The fire's result, or undefined when Ctrl-C stopped it before the merchant answered (the exit code is set). */
async function unlessInterrupted<T>(firing: Promise<T>, context: CliContext): Promise<T | undefined> {
  try {
    return await firing;
  } catch (error) {
    if (!context.signal.aborted || error instanceof UsageError) throw error;
    context.stderr.write('confirm-sim: interrupted before the merchant answered\n');
    context.setExitCode(ExitCode.interrupted);
    return undefined;
  }
}

/** Warnings go to stderr, and the result to its --json file (or stdout) before any human output. */
async function reportResult(result: { warnings: readonly string[] }, flags: FireFlags, context: CliContext, err: ChalkInstance): Promise<void> {
  for (const warning of result.warnings) context.stderr.write(`${err.yellow('warning:')} ${warning}\n`);
  if (flags.json !== undefined) await writeJson(result, { path: flags.json, stream: context.stdout }, '--json');
}

/** fire --flow manual-confirm: one buyer's completion post, then what the gateway holds. */
async function runCompletionFire(url: string, flags: FireFlags, context: CliContext): Promise<void> {
  if (flags.gateway === undefined) {
    throw new UsageError('--flow manual-confirm needs --gateway <url>: the gateway mints the paymentToken and shows what the merchant confirmed');
  }
  for (const [given, flag] of [[flags.data, '--data'], [flags.impUid, '--imp-uid'], [flags.status, '--status'], [flags.expect, '--expect'], [flags.secret ?? flags.secretEnv, '--secret']] as const) {
    if (given !== undefined) throw new UsageError(`${flag} is for the Confirm Process; with --flow manual-confirm give --body (a template) and --success-status`);
  }
  await prepareJsonFile(flags.json);
  const humanOutput = !jsonToStdout(flags.json);
  const out = terminalChalk(context.stdout, context.env);
  const err = terminalChalk(context.stderr, context.env);
  const events = new TypedEmitter<FireEvents>();
  if (humanOutput) events.on('request', (request) => context.stdout.write(`${formatCompletionRequest(request, out)}\n`));
  const result = await unlessInterrupted(
    fireCompletion({
      url,
      gateway: flags.gateway,
      body: flags.body,
      successStatus: flags.successStatus,
      paymentId: flags.merchantUid,
      amount: flags.amount === undefined ? undefined : parseAmount(flags.amount),
      outcome: flags.decline ? 'decline' : 'approve',
      webhookUrl: flags.webhookUrl,
      settleMs: flags.settle === undefined ? undefined : parseDuration(flags.settle, '--settle'),
      timeoutMs: flags.timeout === undefined ? undefined : parseDuration(flags.timeout, '--timeout'),
      headers: parseHeaders(flags.header ?? []),
      signal: context.signal,
      events,
    }),
    context,
  );
  if (result === undefined) return;
  await reportResult(result, flags, context, err);
  if (humanOutput) context.stdout.write(formatCompletionOutcome(result, out));
  // The merchant's answer contradicting what it charged is a failure whatever the answer was.
  context.setExitCode(result.verdict === 'agrees' || result.verdict === 'charged-unanswered' ? ExitCode.ok : ExitCode.failed);
}

async function runFire(url: string, flags: FireFlags, context: CliContext): Promise<void> {
  const flow = flags.flow === undefined ? 'confirm-process' : parseFlow(flags.flow);
  if (flow === 'manual-confirm') return runCompletionFire(url, flags, context);
  for (const [given, flag] of [[flags.body, '--body'], [flags.successStatus, '--success-status']] as const) {
    if (given !== undefined) throw new UsageError(`${flag} is for --flow manual-confirm; to send exact bytes in the Confirm Process use --data`);
  }
  const expectation = flags.expect === undefined ? undefined : parseExpectation(flags.expect);
  const timeoutMs = flags.timeout === undefined ? undefined : parseDuration(flags.timeout, '--timeout');
  await prepareJsonFile(flags.json);
  // With --json - stdout carries the JSON only; a --json file leaves the usual output on stdout.
  const humanOutput = !jsonToStdout(flags.json);
  const out = terminalChalk(context.stdout, context.env);
  const err = terminalChalk(context.stderr, context.env);
  const events = new TypedEmitter<FireEvents>();
  if (humanOutput) events.on('request', (request) => context.stdout.write(`${formatFireRequest(request, out)}\n`));

  const options = {
    url,
    dialect: parseDialect(flags.dialect),
    order: orderFrom(flags),
    secret: resolveSecretFlags(flags, context.env),
    headers: parseHeaders(flags.header ?? []),
    body: flags.data,
    timeoutMs,
    signal: context.signal,
    events,
  };
  if (flags.gateway === undefined) {
    for (const [given, flag] of [[flags.webhookUrl, '--webhook-url'], [flags.decline, '--decline'], [flags.settle, '--settle']] as const) {
      if (given !== undefined) throw new UsageError(`${flag} needs --gateway <url>: only a gateway charges, declines and sends webhooks`);
    }
  }
  const result: FireResult | GatewayFireResult | undefined = await unlessInterrupted<FireResult | GatewayFireResult>(
    flags.gateway === undefined
      ? fireConfirm(options)
      : fireThroughGateway({
          ...options,
          gateway: flags.gateway,
          webhookUrl: flags.webhookUrl,
          outcome: flags.decline ? 'decline' : 'approve',
          settleMs: flags.settle === undefined ? undefined : parseDuration(flags.settle, '--settle'),
        }),
    context,
  );
  if (result === undefined) return;

  await reportResult(result, flags, context, err);
  if (humanOutput) {
    context.stdout.write(formatFireOutcome(result, out));
    if ('lifecycle' in result) context.stdout.write(formatFireLifecycle((result as GatewayFireResult).lifecycle, out));
  }

  const verdict: Expectation = result.decision.proceed ? 'proceed' : 'fail';
  if (expectation !== undefined && expectation !== verdict) {
    context.stderr.write(`confirm-sim: expected the gateway to ${expectation}, but it would ${verdict}: ${result.decision.explanation}\n`);
    context.setExitCode(ExitCode.failed);
    return;
  }
  context.setExitCode(ExitCode.ok);
}

export const registerFire: RegisterCommand = (program, context) => {
  const command = program
    .command('fire')
    .description("send one confirm request exactly as the gateway does and show the gateway's decision")
    .argument('<url>', "the merchant's confirm URL, e.g. http://127.0.0.1:3000/confirm")
    .option('--dialect <dialect>', `body shape and signing: ${DIALECTS.join(', ')}`, 'v1')
    .option('--merchant-uid <id>', "the merchant's order id (default: a fresh order-...)")
    .option('--imp-uid <id>', "the gateway's payment id, V1 (default: a fresh imp_ + 12 digits)")
    .option('--amount <krw>', 'the amount to be charged (default: 1000)')
    .option('--status <status>', 'V1 payment status (default: ready)')
    .option('--secret <whsec>', 'V2 webhook secret to sign with (prefer --secret-env: arguments show up in ps)')
    .option('--secret-env <name>', 'read the V2 webhook secret from this environment variable')
    .option('-t, --timeout <duration>', `deadline for the whole answer (default: ${DEFAULT_TIMEOUT_MS / 1000}s, the gateway FAQ's; the developer docs say 10s)`)
    .option('-H, --header <name: value>', 'extra request header, repeatable; overrides the defaults', collect)
    .option('--data <body>', "send exactly this body instead of the dialect's")
    .option('--expect <verdict>', 'proceed or fail; exit 1 when the gateway decides otherwise')
    .option('--gateway <url>', "register the payment at this simulated gateway first (so the merchant's lookup finds it) and show what followed the answer")
    .option('--webhook-url <url>', "with --gateway: where the gateway sends the payment's webhooks, the merchant's notice_url (alias: --notice-url)")
    .option('--decline', 'with --gateway: the PG declines the charge after a 200')
    .option('--settle <duration>', 'with --gateway: wait up to this long for the charge and webhooks (default: 2s)')
    .option('--flow <flow>', `${FLOWS.join(' or ')}: manual-confirm posts a minted paymentToken to the URL (the merchant's completion endpoint) and needs --gateway (default: confirm-process)`)
    .option('--body <template>', 'manual-confirm: the JSON the buyer posts, with {paymentId} {paymentToken} {txId} {amount} {n} (default: {"paymentId","paymentToken","txId"})')
    .option('--success-status <statuses>', 'manual-confirm: the merchant answers that tell a buyer "paid", e.g. 200 or 200,201 (default: 2xx)')
    .addOption(jsonOption('the result'))
    .addHelpText(
      'after',
      helpFooter([
        [0, 'the merchant was asked and answered (or, with --expect, the gateway decided as expected)'],
        [1, 'with --expect: the gateway would decide otherwise; with --flow manual-confirm: the answer contradicts what the gateway holds'],
        USAGE_EXIT,
        INTERRUPTED_EXIT,
      ]),
    )
    .action((url: string, flags: FireFlags) => runFire(url, flags, context));
  addAlias(command, '--notice-url <url>', '--webhook-url');
};
