import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { terminalChalk } from '../src/reporters/style.js';
import { GATEWAY_TARGET, benchGateway } from './gateway.js';
import type { GatewaySizes } from './gateway.js';
import { MEMORY_TARGET, benchMemory } from './memory.js';
import type { MemorySizes } from './memory.js';
import { SPREAD_TARGET, benchSpread } from './spread.js';
import type { SpreadSizes } from './spread.js';
import { THROUGHPUT_TARGET, benchThroughput } from './throughput.js';
import type { ThroughputSizes } from './throughput.js';
import { formatTable, verdictOf } from './table.js';
import type { BenchRow, Target } from './table.js';
import type { BenchContext } from './context.js';
import { pinThisProcess, planCpus } from './pinning.js';

/**
 * `npm run bench`: confirm-sim's load engine against references measured in the same run, as ratios
 * (never absolute times, which say more about the machine than about the code). A report, not a test:
 * it exits 0 on a MISS and 1 only when a figure could not be measured at all.
 */

const SECTIONS = ['throughput', 'gateway', 'spread', 'memory'] as const;
type Section = (typeof SECTIONS)[number];

interface Sizes {
  throughput: ThroughputSizes;
  gateway: GatewaySizes;
  spread: SpreadSizes;
  memory: MemorySizes;
}

const FULL: Sizes = {
  throughput: { requests: 20_000, connections: [50, 200], rounds: 7, warmupRequests: 5_000 },
  gateway: { buyers: 20_000, batchPayments: 100_000, connections: 50, rounds: 5, warmupBuyers: 5_000 },
  spread: { buyers: 5_000, rounds: 7 },
  memory: { buyers: 1_000_000, calibrationRequests: 30_000 },
};

const QUICK: Sizes = {
  throughput: { requests: 10_000, connections: [50, 200], rounds: 1, warmupRequests: 2_000 },
  gateway: { buyers: 10_000, batchPayments: 100_000, connections: 50, rounds: 1, warmupBuyers: 2_000 },
  spread: { buyers: 1_000, rounds: 3 },
  memory: { buyers: 100_000, calibrationRequests: 10_000 },
};

/** What each section measures, for the row it gets when it fails before producing one. */
const SECTION_TARGETS: Record<Section, { figure: string; target: Target }> = {
  throughput: { figure: 'throughput', target: THROUGHPUT_TARGET },
  gateway: { figure: 'burst --gateway throughput', target: GATEWAY_TARGET },
  spread: { figure: 'dispatch spread', target: SPREAD_TARGET },
  memory: { figure: 'peak RSS', target: MEMORY_TARGET },
};

const USAGE = `usage: npm run bench -- [--quick] [--no-pin] [--only ${SECTIONS.join('|')}[,...]]`;

function parseSections(text: string | undefined): Section[] {
  if (text === undefined) return [...SECTIONS];
  const wanted = text.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new Error(`--only: "${text}" is not one of ${SECTIONS.join(', ')} (comma-separate several)`);
  }
  return SECTIONS.filter((section) => wanted.includes(section));
}

interface Flags {
  sections: Section[];
  quick: boolean;
  /** Let the scheduler place generator and server, e.g. to see how much pinning changes. */
  noPin: boolean;
}

function parseFlags(argv: string[]): Flags | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean' },
      'no-pin': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  return { sections: parseSections(values.only), quick: values.quick === true, noPin: values['no-pin'] === true };
}

async function runSection(section: Section, sizes: Sizes, context: BenchContext): Promise<BenchRow[]> {
  try {
    switch (section) {
      case 'throughput':
        return await benchThroughput(sizes.throughput, context);
      case 'gateway':
        return await benchGateway(sizes.gateway, context);
      case 'spread':
        return await benchSpread(sizes.spread, context);
      case 'memory':
        return await benchMemory(sizes.memory, context);
    }
  } catch (error) {
    const { figure, target } = SECTION_TARGETS[section];
    return [{ figure, ours: '-', reference: '-', ratio: null, target, notes: [`could not be measured: ${(error as Error).message}`] }];
  }
}

async function main(): Promise<number> {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (flags === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const sizes = flags.quick ? QUICK : FULL;
  const style = terminalChalk(process.stdout, process.env);
  const progress = terminalChalk(process.stderr, process.env);
  const startedAt = performance.now();
  const log = (line: string): void => {
    process.stderr.write(progress.dim(`[${((performance.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${line}\n`));
  };
  const planned = flags.noPin ? null : planCpus();
  const pinFailure = planned === null ? null : pinThisProcess(planned);
  const cpus = pinFailure === null ? planned : null;
  const unpinnedBecause = flags.noPin ? '--no-pin' : (pinFailure ?? 'needs taskset and 2 CPUs');
  const processors = os.cpus();
  const [load] = os.loadavg();
  process.stdout.write(
    `${style.bold('confirm-sim bench')} (${flags.quick ? 'quick' : 'full'}): node ${process.version}, ` +
      `${processors.length} × ${processors[0]?.model.trim() ?? 'unknown CPU'}, ${os.platform()} ${os.arch()}, ` +
      `load average ${load?.toFixed(2) ?? '?'} before the start\n` +
      (cpus === null
        ? `not pinned (${unpinnedBecause}): the scheduler may put generator and server on one core\n`
        : `load generator pinned to CPU ${cpus.generator}, fixed-answer server to CPU ${cpus.server}\n`),
  );
  const rows: BenchRow[] = [];
  for (const section of flags.sections) rows.push(...(await runSection(section, sizes, { log, cpus })));
  process.stdout.write(`\n${formatTable(rows, style)}`);
  const verdicts = rows.map(verdictOf);
  const misses = verdicts.filter((verdict) => verdict === 'MISS').length;
  const errors = verdicts.filter((verdict) => verdict === 'ERROR').length;
  const took = `${((performance.now() - startedAt) / 1000).toFixed(0)} s`;
  const summary =
    errors > 0
      ? style.yellow(`${errors} figure(s) could not be measured`)
      : misses > 0
        ? style.red.bold(`MISS: ${misses} of ${rows.length} target(s) missed`)
        : style.green(`${rows.length} of ${rows.length} targets met`);
  process.stdout.write(`\n${summary} (${took})\n`);
  return errors > 0 ? 1 : 0;
}

process.exitCode = await main();
