import { requireParentDirectory, writeFileAtomically } from '../util/files.js';

/** Where a report goes: a file, or the stream (stdout) when no path or "-" is given. */
export interface ReportDestination {
  path?: string | undefined;
  stream: NodeJS.WritableStream;
}

export function writesToStream(destination: ReportDestination): boolean {
  return destination.path === undefined || destination.path === '-';
}

/**
 * Writes a finished report to a file in an existing folder, atomically (never half a report, never the old
 * one lost first), or to the stream. `what` names the option in the one-line refusal when it cannot be written.
 */
export async function writeReport(text: string, destination: ReportDestination, what = 'report'): Promise<void> {
  const { path } = destination;
  if (path === undefined || path === '-') {
    destination.stream.write(text);
    return;
  }
  await requireParentDirectory(path, what);
  await writeFileAtomically(path, text, what);
}

/** Any JSON-able result, pretty-printed with a final newline: pure JSON, nothing else, as `--json` promises. */
export function writeJson(value: unknown, destination: ReportDestination, what = 'report'): Promise<void> {
  return writeReport(`${JSON.stringify(value, null, 2)}\n`, destination, what);
}
