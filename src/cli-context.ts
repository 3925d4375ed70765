import type { Command } from 'commander';
import { parseWebhookSecret, webhookSecretFromEnv, type WebhookSecret } from './protocol/signing.js';
import { UsageError } from './util/errors.js';

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
export const INTERRUPTED_EXIT = [130, 'stopped by Ctrl-C or SIGTERM; any report covers what ran until then'] as const;
