import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { UsageError } from '../util/errors.js';
import { BURST_REPORT_KIND, BURST_REPORT_SCHEMA_VERSION } from './report.js';
import type { BurstReport } from './report.js';

/** The published schema (schema/ at the package root), the same file users validate reports with. */
const SCHEMA_URL = new URL('../../../schema/burst-report.schema.json', import.meta.url);

let validator: ValidateFunction<BurstReport> | null = null;

function validate(): ValidateFunction<BurstReport> {
  validator ??= new Ajv({ allErrors: false }).compile<BurstReport>(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object);
  return validator;
}

/** Checks a parsed report against the schema; returns the first problem as text, or null when it conforms. */
export function burstReportProblem(value: unknown): string | null {
  const check = validate();
  if (check(value)) return null;
  const error = check.errors?.[0];
  return error ? `${error.instancePath || '/'} ${error.message ?? 'is invalid'}` : 'does not match the schema';
}

/** Reads a burst report written by --json, e.g. a shard's, and refuses anything else in one line. */
export async function readBurstReport(path: string): Promise<BurstReport> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); give the path of a burst --json report`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${path}: is not JSON; give a report written by burst --json FILE`);
  }
  const claimed = value as { kind?: unknown; schemaVersion?: unknown } | null;
  if (claimed !== null && typeof claimed === 'object' && claimed.kind === BURST_REPORT_KIND && claimed.schemaVersion !== BURST_REPORT_SCHEMA_VERSION) {
    throw new UsageError(
      `${path}: is a burst report of schemaVersion ${String(claimed.schemaVersion)}; this confirm-sim reads ${BURST_REPORT_SCHEMA_VERSION} (run the burst again with this version)`,
    );
  }
  const problem = burstReportProblem(value);
  if (problem !== null) throw new UsageError(`${path}: is not a burst report (${problem}); give a report written by burst --json FILE`);
  return value as BurstReport;
}
