import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UsageError, ExitCode } from './util/errors.js';
import { maskUrlsInText } from './util/url.js';
import { usageMessageForCli, type CliContext, type RegisterCommand } from './cli-context.js';
import { registerDemo } from './commands/demo.js';
import { registerFire } from './commands/fire.js';
import { registerBurst } from './commands/burst.js';
import { registerMerge } from './commands/merge.js';
import { registerReport } from './commands/report.js';
import { registerCheck } from './commands/check.js';
import { registerInit } from './commands/init.js';
import { registerMerchant } from './commands/merchant.js';
import { registerGateway } from './commands/gateway.js';

const { version: VERSION } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** In the order `--help` lists them: the demo first, then the gateway's calls, then the simulators. */
const COMMANDS: RegisterCommand[] = [
  registerDemo,
  registerFire,
  registerBurst,
  registerMerge,
  registerReport,
  registerCheck,
  registerInit,
  registerMerchant,
  registerGateway,
];

/** Every command with its options, ready to parse; exported so a test can walk all commands' flags and help. */
export function createProgram(context: CliContext): Command {
  const program = new Command();
  program
    .name('confirm-sim')
    .description('Test harness and simulator for the iamport / PortOne Confirm Process')
    .version(VERSION)
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program, context);
  return program;
}

export interface MainOptions {
  stdout?: CliContext['stdout'];
  stderr?: CliContext['stderr'];
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/**
 * Runs the CLI and resolves to its exit code instead of calling process.exit, so tests can drive it
 * in-process and a command's pending writes (reports, ledgers) always flush before the process ends.
 */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  let exitCode: number = ExitCode.ok;
  let signal = options.signal;
  let removeSignalHandlers = (): void => {};
  // Which signal stopped the run: an interrupted command exits 130 for SIGINT and 143 for SIGTERM, as a
  // shell reports a process either signal killed, so a CI runner can tell a cancelled job from Ctrl-C.
  let stoppedBy: NodeJS.Signals | null = null;
  const interruptedCode = (): number => (stoppedBy === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted);
  if (!signal) {
    // The first signal asks the running command to stop and report; a second one kills at once.
    const controller = new AbortController();
    const onSignal = (received: NodeJS.Signals): void => {
      if (controller.signal.aborted) process.exit(received === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted);
      stoppedBy = received;
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    removeSignalHandlers = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    signal = controller.signal;
  }
  const context: CliContext = {
    stdout,
    stderr,
    env: options.env ?? process.env,
    setExitCode: (code) => {
      exitCode = code;
    },
    signal,
  };

  const program = createProgram(context);

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof UsageError) {
      // Each refusal masks what it quotes already; this is the net under any URL one forgot to.
      stderr.write(`confirm-sim: ${maskUrlsInText(usageMessageForCli(error.message))}\n`);
      return ExitCode.usage;
    }
    throw error;
  } finally {
    removeSignalHandlers();
  }
  return exitCode === ExitCode.interrupted ? interruptedCode() : exitCode;
}
