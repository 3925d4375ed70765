/**
 * A mistake in what the user asked for (flag, URL, scenario file, secret). The CLI prints the message as
 * one line and exits 2; library callers can catch it by class. The message says what is wrong and how to
 * fix it, so it must stand on its own without a stack trace.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An output file (report, ledger) that could not be written: a usage error too (exit 2), named for what failed. */
export class OutputError extends UsageError {
  override name = 'OutputError';
}

/** Exit codes shared by every command, the way newman and k6 keep them stable for CI. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** Stopped by Ctrl-C or SIGTERM, as shells report a SIGINT death; partial reports are still written. */
  interrupted: 130,
  /** Stopped by SIGTERM (128 + 15), as a shell reports a process TERM killed; partial reports are still written. */
  terminated: 143,
} as const;
