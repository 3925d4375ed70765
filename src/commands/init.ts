import { writeFile } from 'node:fs/promises';
import { requireParentDirectory } from '../util/files.js';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { renderStarter, SCENARIO_EXTENSIONS, STARTER_FORMATS, type StarterFormat } from '../scenario/index.js';
import { ExitCode, UsageError } from '../util/errors.js';
import { helpFooter, type CliContext, type RegisterCommand } from '../cli-context.js';

interface InitFlags {
  format?: string;
  out?: string;
  force?: boolean;
}

/** Where the schema is once the user has installed confirm-sim in the project the file is written for. */
const INSTALLED_SCHEMA = join('node_modules', 'confirm-sim', 'schema', 'scenario.schema.json');

function parseFormat(text: string): StarterFormat {
  if ((STARTER_FORMATS as readonly string[]).includes(text)) return text as StarterFormat;
  throw new UsageError(`--format: "${text}" is not a format; use yaml (commented, the default) or json`);
}

/**
 * --format wins; otherwise the --out extension decides, and YAML, which can carry comments, is the default.
 * check reads a scenario by its extension, so a name it would refuse, or YAML in a .json file, is refused here.
 */
function chooseFormat(flags: InitFlags): StarterFormat {
  const format = flags.format === undefined ? undefined : parseFormat(flags.format);
  if (flags.out === undefined) return format ?? 'yaml';
  const extension = extname(flags.out).toLowerCase();
  if (!(SCENARIO_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new UsageError(`--out ${flags.out}: check reads only ${SCENARIO_EXTENSIONS.join(', ')} files; name it e.g. confirm-sim.yaml`);
  }
  const byExtension: StarterFormat = extension === '.json' ? 'json' : 'yaml';
  if (format !== undefined && format !== byExtension) {
    throw new UsageError(`--format ${format} with --out ${flags.out}: check would read it as ${byExtension}; end the file in ${format === 'json' ? '.json' : '.yaml'}`);
  }
  return byExtension;
}

async function runInit(flags: InitFlags, context: CliContext): Promise<void> {
  const format = chooseFormat(flags);
  const out = flags.out ?? `confirm-sim.${format}`;
  // Relative to the file, so the editor finds the schema wherever in the project the file lives.
  const schemaPath = relative(dirname(resolve(out)), resolve(INSTALLED_SCHEMA)).split(sep).join('/');
  const text = renderStarter(format, schemaPath.startsWith('.') ? schemaPath : `./${schemaPath}`);
  await requireParentDirectory(out, '--out');
  try {
    // 'wx' fails when the file exists, so a second init never clobbers a scenario someone has edited.
    await writeFile(out, text, { encoding: 'utf8', flag: flags.force ? 'w' : 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`${out} already exists; pass --force to overwrite it, or --out another path`);
    throw new UsageError(`--out ${out}: cannot write it (${code ?? (error as Error).message}); choose a writable path`);
  }
  context.stdout.write(
    `wrote ${out}: point target.url and the hooks at your merchant, then run\n  npx confirm-sim check --scenario ${out}\n`,
  );
  context.setExitCode(ExitCode.ok);
}

export const registerInit: RegisterCommand = (program, context) => {
  program
    .command('init')
    .description('write a starter scenario file for confirm-sim check, every field explained')
    .option('--format <format>', 'yaml (with comments) or json (with $schema); default: from --out, else yaml')
    .option('--out <path>', 'where to write it (default: confirm-sim.yaml, or confirm-sim.json)')
    .option('--force', 'overwrite an existing file')
    .addHelpText(
      'after',
      helpFooter([[0, 'the file was written'], [2, 'usage error: the file exists (use --force), or the path or format is wrong']], { durations: false }),
    )
    .action((flags: InitFlags) => runInit(flags, context));
};
