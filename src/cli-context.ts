import { Option, type Command } from 'commander';
import { parseWebhookSecret, webhookSecretFromEnv, type WebhookSecret } from './protocol/signing.js';
import { UsageError } from './util/errors.js';
import { ensureWritable } from './util/files.js';
import type { CaseResult } from './contract/types.js';

/**
 * What a command needs from the outside world. Passing it in, instead of reaching for `process`, lets tests
 * run the CLI in-process with captured output and a chosen environment.
 */
export interface CliContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Records the command's exit code (0 pass, 1 failed verdict, 2 usage); `main` resolves to it. */
  setExitCode(code: number): void;
  /** Aborted on SIGINT/SIGTERM so long runs can stop cleanly and still write their partial report. */
  signal: AbortSignal;
}

export type RegisterCommand = (program: Command, context: CliContext) => void;

/** Commander collects repeatable options through a reducer like this one. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The `--secret` / `--secret-env` pair every signing command offers. */
export interface SecretFlags {
  secret?: string | undefined;
  secretEnv?: string | undefined;
}

export function resolveSecretFlags(flags: SecretFlags, env: NodeJS.ProcessEnv): WebhookSecret | undefined {
  if (flags.secret !== undefined && flags.secretEnv !== undefined) {
    throw new UsageError('--secret and --secret-env both given; keep one (--secret-env keeps the secret out of ps and shell history)');
  }
  if (flags.secret !== undefined) return parseWebhookSecret(flags.secret, '--secret');
  return flags.secretEnv === undefined ? undefined : webhookSecretFromEnv(env, flags.secretEnv, '--secret-env');
}

/** What `--help` says after the options: the command's exit codes and, where it takes any, how durations are written. */
export function helpFooter(exitCodes: ReadonlyArray<readonly [number, string]>, { durations = true }: { durations?: boolean } = {}): string {
  const lines = ['', 'Exit codes:', ...exitCodes.map(([code, meaning]) => `  ${String(code).padEnd(4)}${meaning}`)];
  if (durations) lines.push('', 'Durations need a unit: 500ms, 5s, 1.5s, 2m (a bare "5" is refused, not read as 5 ms).');
  return `${lines.join('\n')}\n`;
}

/** The exit codes every command shares, for helpFooter. */
export const USAGE_EXIT = [2, 'usage error: a bad flag, URL, scenario or secret (one line says what to fix)'] as const;
export const INTERRUPTED_EXIT = [130, 'stopped by Ctrl-C (143: by SIGTERM); any report covers what ran until then'] as const;

/**
 * `--json <file|->`, the same on every command with a result: a file, or - for stdout, which then carries
 * only JSON (human output moves to stderr or is left out), so `| jq` always works.
 */
export function jsonOption(what: string): Option {
  return new Option('--json <file|->', `write ${what} as JSON to a file, or - for stdout (stdout then carries only the JSON)`);
}

/** Whether --json sends the JSON to stdout, where nothing else may then be written. */
export function jsonToStdout(json: string | undefined): boolean {
  return json === '-';
}

/** Refuses a --json file that cannot be written before the command does any work, not after it. */
export async function prepareJsonFile(json: string | undefined): Promise<void> {
  if (json !== undefined && !jsonToStdout(json)) await ensureWritable(json, '--json');
}

/**
 * Another name for an option (an old one kept working, or a protocol's word for the same thing): hidden from
 * the option list, since the main option's help names it, and folded into the main option before the action
 * runs, so commands read one name only. Giving both names with different values is a usage error.
 */
export function addAlias(command: Command, aliasFlags: string, targetLong: string): Command {
  const target = command.options.find((option) => option.long === targetLong);
  if (target === undefined) throw new Error(`addAlias: ${command.name()} has no ${targetLong} to alias`);
  const alias = new Option(aliasFlags).hideHelp();
  if (target.required !== alias.required || target.optional !== alias.optional) {
    throw new Error(`addAlias: ${aliasFlags} must take a value the way ${target.flags} does`);
  }
  command.addOption(alias);
  const aliasKey = alias.attributeName();
  const targetKey = target.attributeName();
  command.hook('preAction', (thisCommand) => {
    const value: unknown = thisCommand.getOptionValue(aliasKey);
    if (value === undefined) return;
    if (thisCommand.getOptionValueSource(targetKey) === 'cli' && thisCommand.getOptionValue(targetKey) !== value) {
      throw new UsageError(`${alias.long} is another name for ${targetLong} and both are given; keep ${targetLong}`);
    }
    thisCommand.setOptionValueWithSource(targetKey, value, 'cli');
    thisCommand.setOptionValueWithSource(aliasKey, undefined, 'default');
  });
  return command;
}

/**
 * The flag for each library option a UsageError may name. One table for every command, since a flag means
 * the same on all of them; test/cli-flags.test.ts checks that each flag is a command's.
 */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  buyers: '--buyers',
  stock: '--stock',
  amount: '--amount',
  dialect: '--dialect',
  merchantUid: '--merchant-uid',
  runId: '--run-id',
  headers: '--header',
  timeoutMs: '--timeout',
  strandedWaitMs: '--stranded-wait',
  rampMs: '--ramp',
  ratePerSec: '--rate',
  connections: '--connections',
  duplicates: '--duplicates',
  orderUrl: '--order-url',
  resetUrl: '--reset-url',
  stockUrl: '--stock-url',
  webhookUrl: '--webhook-url',
  hookHeaders: '--hook-header',
  p99BudgetMs: '--p99-budget',
  maxErrorRate: '--max-error-rate',
  fairnessWindowMs: '--fairness-window',
  workers: '--workers',
  shard: '--shard',
  startAt: '--start-at',
  gateway: '--gateway',
  declineRate: '--decline-rate',
  settleMs: '--settle',
  holdMs: '--hold',
  maxOrders: '--max-orders',
  verify: '--verify',
  flaw: '--flaw',
  flow: '--flow',
  port: '--port',
  host: '--host',
  body: '--body',
  successStatus: '--success-status',
  tokenLifetimeMs: '--token-lifetime',
  secret: '--secret',
  ledgerPath: '--ledger',
  scenario: '--scenario',
  bail: '--bail',
  'product.price': '--amount',
  'product.stock': '--stock',
};

/**
 * A library UsageError or skip reason as the CLI says it. The library quotes the options it names in
 * backticks, the way its callers wrote them (`timeoutMs`); the CLI says each one's flag instead (--timeout).
 */
export function usageMessageForCli(message: string): string {
  return message.replace(/`([\w.]+)`/g, (quoted, name: string) => OPTION_FLAGS[name] ?? quoted);
}

/** A check case as the CLI reports it: a skip reason names what is missing by its flag. */
export function caseResultForCli(result: CaseResult): CaseResult {
  return result.status === 'skipped' ? { ...result, message: usageMessageForCli(result.message) } : result;
}
