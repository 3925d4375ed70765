import { mergeBurstReports, readBurstReport } from '../load/index.js';
import { requireDistinctOutputs } from '../util/files.js';
import { htmlPath } from '../reporters/html/index.js';
import { deliverBurstReport } from './burst.js';
import { helpFooter, jsonOption, prepareJsonFile, type RegisterCommand } from '../cli-context.js';

interface MergeFlags {
  json?: string;
  html?: string;
  quiet?: boolean;
}

export const registerMerge: RegisterCommand = (program, context) => {
  program
    .command('merge')
    .description('turn the --json reports of a sharded burst (--shard i/n) into one report and one stock verdict')
    .argument('<reports...>', 'shard report files, one per shard')
    .addOption(jsonOption('the merged report'))
    .option('--html <file>', 'write the merged report as one self-contained HTML page, with a line per shard')
    .option('-q, --quiet', 'only the verdict line')
    .addHelpText(
      'after',
      helpFooter([[0, 'PASS over all shards'], [1, 'FAIL: the merged verdict found a problem'], [2, 'usage error: a report missing, unreadable or from another run']], {
        durations: false,
      }),
    )
    .action(async (paths: string[], flags: MergeFlags) => {
      requireDistinctOutputs([['--json', flags.json], ['--html', flags.html === undefined ? undefined : htmlPath(flags.html, '--html')]]);
      await prepareJsonFile(flags.json);
      const reports = [];
      for (const path of paths) reports.push(await readBurstReport(path));
      await deliverBurstReport(mergeBurstReports(reports), flags, context);
    });
};
