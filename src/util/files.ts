import { randomBytes } from 'node:crypto';
import { constants, rmSync } from 'node:fs';
import { access, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError, UsageError } from './errors.js';

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

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/**
 * Checks before a run that an output file can be written, without touching it: the previous report stays
 * until the new one is complete, and a run that fails in set-up leaves no empty file behind.
 */
export async function ensureWritable(path: string, what: string): Promise<void> {
  await requireParentDirectory(path, what);
  const existing = await stat(path).catch(() => null);
  if (existing?.isDirectory()) throw new UsageError(`${what} ${path}: is a folder; give the path of a file in it`);
  try {
    // A device or pipe (/dev/stdout, a FIFO) is written in place; a file is replaced through its folder.
    if (existing !== null && !existing.isFile()) await access(path, constants.W_OK);
    else await access(dirname(resolve(path)), constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new UsageError(`${what} ${path}: cannot write it (${codeOf(error)}); choose a writable path`);
  }
}

/**
 * Refuses two outputs on one file (--json and --ledger both report.json): one would overwrite the other
 * after the run. `outputs` pairs each option with its path; absent ones and "-" (stdout) are skipped.
 */
export function requireDistinctOutputs(outputs: ReadonlyArray<readonly [string, string | undefined | null]>): void {
  const seen = new Map<string, string>();
  for (const [what, path] of outputs) {
    if (path === undefined || path === null || path === '-') continue;
    const key = resolve(path);
    const other = seen.get(key);
    if (other !== undefined) throw new UsageError(`${other} and ${what} both write ${path}; give each its own file`);
    seen.set(key, what);
  }
}

/**
 * Writes a file so that readers only ever see the old one or the complete new one: `fill` writes a temporary
 * file in the same folder (same file system, so the rename is atomic), which is flushed to disk and renamed
 * over `path`. A failure, a second Ctrl-C or kill -9 leaves the previous file as it was (and at worst a
 * hidden .tmp beside it). A device or pipe has nothing to replace and is written in place. Any failure is
 * one OutputError naming `what` (exit 2), never a stack trace.
 *
 * Node has no atomic-replace call and write-file-atomic offers no streaming form, which the ledger needs.
 */
export async function writeAtomically(path: string, what: string, fill: (file: FileHandle) => Promise<void>): Promise<void> {
  const existing = await stat(path).catch(() => null);
  if (existing !== null && !existing.isFile() && !existing.isDirectory()) {
    let file: FileHandle | undefined;
    try {
      file = await open(path, 'w');
      await fill(file);
    } catch (error) {
      throw new OutputError(`${what} ${path}: could not be written (${codeOf(error)})`);
    } finally {
      await file?.close().catch(() => {});
    }
    return;
  }
  const temporary = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let file: FileHandle | undefined;
  try {
    track(temporary);
    file = await open(temporary, 'wx', existing === null ? 0o666 : existing.mode & 0o777);
    await fill(file);
    await file.sync();
    await file.close();
    file = undefined;
    await rename(temporary, path);
    unfinished.delete(temporary);
  } catch (error) {
    await file?.close().catch(() => {});
    await rm(temporary, { force: true });
    unfinished.delete(temporary);
    throw new OutputError(`${what} ${path}: could not be written (${codeOf(error)}); any previous file there is unchanged`);
  }
}

// Temporary files being written; a second Ctrl-C ends the process with process.exit, and this removes them.
const unfinished = new Set<string>();
let cleanupInstalled = false;

function track(temporary: string): void {
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    process.once('exit', () => {
      for (const path of unfinished) rmSync(path, { force: true });
    });
  }
  unfinished.add(temporary);
}

/** writeAtomically for text known in full. */
export function writeFileAtomically(path: string, text: string, what: string): Promise<void> {
  return writeAtomically(path, what, (file) => file.writeFile(text, 'utf8'));
}
