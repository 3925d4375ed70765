import { mergeBurstReports, readBurstReport } from '../load/index.js';
import { deliverBurstReport } from './burst.js';
import type { RegisterCommand } from '../cli-context.js';

interface MergeFlags {
  json?: string;
  quiet?: boolean;
}

export const registerMerge: RegisterCommand = (program, context) => {
  program
    .command('merge')
    .description('turn the --json reports of a sharded burst (--shard i/n) into one report and one stock verdict')
    .argument('<reports...>', 'shard report files, one per shard')
    .option('--json <file>', 'write the merged report as JSON to a file, or - for stdout')
    .option('-q, --quiet', 'only the verdict line')
    .action(async (paths: string[], flags: MergeFlags) => {
      const reports = [];
      for (const path of paths) reports.push(await readBurstReport(path));
      await deliverBurstReport(mergeBurstReports(reports), flags, context);
    });
};
