import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Creates the folder a report, ledger or scenario file goes into. Not `mkdir(..., {recursive: true})`:
 * under procfs (e.g. --json /proc/x/report.json) Node's recursive mkdir reads the ENOENT that procfs answers
 * as "parent missing" and loops forever at 100% CPU (nodejs/node, still in Node 20 and 22). Creating each
 * missing level with a plain mkdir fails at once with that ENOENT instead.
 */
export async function makeParentDirectory(filePath: string): Promise<void> {
  const missing: string[] = [];
  let folder = dirname(filePath);
  while (!(await exists(folder))) {
    missing.push(folder);
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  for (const level of missing.reverse()) {
    try {
      await mkdir(level);
    } catch (error) {
      // Another writer (a second shard, a parallel test) may have made it in the meantime.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
