import { open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.js';

/**
 * Refuses a path whose folder is missing, rather than creating it: a typo such as --json /tmp/reprots/x.json
 * must not leave folders behind wherever it points. (Creating them was also how procfs paths sent Node's
 * recursive mkdir into a loop.) `what` names the option or field, e.g. "--json".
 */
export async function requireParentDirectory(path: string, what: string): Promise<void> {
  const folder = dirname(resolve(path));
  let isFolder: boolean;
  try {
    isFolder = (await stat(folder)).isDirectory();
  } catch {
    throw new UsageError(`${what} ${path}: the folder ${folder} does not exist; create it first (mkdir -p ${folder}) or choose another path`);
  }
  if (!isFolder) throw new UsageError(`${what} ${path}: ${folder} is not a folder; choose another path`);
}

/** Checks an output file can be written (creating or truncating it) before a run, so a bad path fails at once, not after it. */
export async function ensureWritable(path: string, what: string): Promise<void> {
  await requireParentDirectory(path, what);
  try {
    await (await open(path, 'w')).close();
  } catch (error) {
    throw new UsageError(`${what} ${path}: cannot write it (${(error as NodeJS.ErrnoException).code ?? String(error)}); choose a writable path`);
  }
}
