import { runDemo, DEMO_DEFAULTS, MANUAL_CONFIRM_DEMO_FLAWS, type DemoEvents } from '../demo/index.js';
import { CONFIRM_PROCESS_FLAWS, parseFlaw } from '../merchants/index.js';
import { parseDialect } from '../protocol/index.js';
import { FLOWS, parseFlow } from '../protocol/flows.js';
import { terminalChalk } from '../reporters/style.js';
import { attachDemoProgress, formatDemo } from '../reporters/demo-terminal.js';
import { parseFraction, parseWholeNumber } from '../util/numbers.js';
import { TypedEmitter } from '../util/events.js';
import { ExitCode } from '../util/errors.js';
import { helpFooter, INTERRUPTED_EXIT, jsonOption, jsonToStdout, prepareJsonFile, USAGE_EXIT, type RegisterCommand } from '../cli-context.js';
import { writeJson } from '../reporters/json.js';

interface DemoFlags {
  flow: string;
  flaw?: string;
  dialect?: string;
  buyers: string;
  stock: string;
  declineRate: string;
  json?: string;
}

export const registerDemo: RegisterCommand = (program, context) => {
  program
    .command('demo')
    .description(
      'the whole journey with the gateway in the loop: fire, burst and check against a correct and a flawed REST-verifying sample merchant, side by side; ' +
        'with --flow manual-confirm, the same in manual confirm against a correct and a flawed completion endpoint',
    )
    .option('--flow <flow>', `which journey: ${FLOWS.join(', or ')} (PortOne V2's successor of the Confirm Process)`, DEMO_DEFAULTS.flow)
    .option(
      '--flaw <flaw>',
      `the bug the second merchant has: ${CONFIRM_PROCESS_FLAWS.join(', ')} (default ${DEMO_DEFAULTS.flaw}); ` +
        `with --flow manual-confirm ${MANUAL_CONFIRM_DEMO_FLAWS.join(', ')} (default ${DEMO_DEFAULTS.manualConfirmFlaw})`,
    )
    .option(
      '--dialect <dialect>',
      `confirm dialect for every request (V2 ones are signed with a throwaway secret; default ${DEMO_DEFAULTS.dialect}, ${DEMO_DEFAULTS.manualConfirmDialect} with --flow manual-confirm)`,
    )
    .option('-n, --buyers <n>', 'buyers in the burst', String(DEMO_DEFAULTS.buyers))
    .option('-s, --stock <n>', 'units on sale', String(DEMO_DEFAULTS.stock))
    .option('--decline-rate <fraction>', 'share of charges the PG declines after the merchant said 200 (manual confirm: of its confirm calls; e.g. 0.2 or 20%)', String(DEMO_DEFAULTS.declineRate))
    .addOption(jsonOption("the whole result (both merchants' fire, burst and check results)"))
    .addHelpText(
      'after',
      helpFooter([[0, 'the correct merchant passed and the flawed one was caught'], [1, 'the demo did not show that (a bug of ours, or a busy machine)'], USAGE_EXIT, INTERRUPTED_EXIT], { durations: false }),
    )
    .action(async (flags: DemoFlags) => {
      const options = {
        flow: parseFlow(flags.flow),
        ...(flags.flaw === undefined ? {} : { flaw: parseFlaw(flags.flaw) }),
        ...(flags.dialect === undefined ? {} : { dialect: parseDialect(flags.dialect) }),
        buyers: parseWholeNumber(flags.buyers, '--buyers', 1, 100_000),
        stock: parseWholeNumber(flags.stock, '--stock', 1, 100_000),
        declineRate: parseFraction(flags.declineRate, '--decline-rate'),
        signal: context.signal,
      };
      await prepareJsonFile(flags.json);
      const humanOutput = !jsonToStdout(flags.json);
      const style = terminalChalk(context.stdout, context.env);
      const events = new TypedEmitter<DemoEvents>();
      if (humanOutput && context.stdout.isTTY) attachDemoProgress(events, context.stdout, style);
      const result = await runDemo(options, events);
      if (flags.json !== undefined) await writeJson(result, { path: flags.json, stream: context.stdout }, '--json');
      if (humanOutput) context.stdout.write(formatDemo(result, style));
      context.setExitCode(result.interrupted ? ExitCode.interrupted : result.ok ? ExitCode.ok : ExitCode.failed);
    });
};
