import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The path of an executable on PATH, or null, as `which` would answer. */
export function which(command: string): string | null {
  for (const directory of (process.env.PATH ?? '').split(path.delimiter)) {
    if (directory === '') continue;
    const candidate = path.join(directory, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory; keep looking.
    }
  }
  return null;
}
