import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Dialect } from '../protocol/index.js';
import type { Flow } from '../protocol/flows.js';
import { CASE_NAMES, type CaseName } from '../contract/types.js';
import { durationProblem } from '../util/duration.js';

/** The schema ships in the package beside dist/ ("files" includes "schema"); this module is dist/src/scenario/. */
export const SCENARIO_SCHEMA_PATH = fileURLToPath(new URL('../../../schema/scenario.schema.json', import.meta.url));

/** A duration as the schema allows it: "500ms", "5s", "2m"; always with its unit. */
export type DurationValue = string;

/** A scenario file after validation; mirrors schema/scenario.schema.json. */
export interface Scenario {
  $schema?: string;
  $comment?: string;
  flow?: Flow;
  target?: { url?: string; dialect?: Dialect; secretEnv?: string; timeout?: DurationValue };
  gateway?: { url?: string; settle?: DurationValue };
  manualConfirm?: { body?: string; successStatus?: string; tokenLifetime?: DurationValue };
  hooks?: { order?: string; reset?: string; stock?: string; webhook?: string };
  product?: { price?: number; quantity?: number; stock?: number };
  budgets?: { p99?: DurationValue; release?: DurationValue };
  strict?: boolean;
  cases?: ScenarioCase[];
}

export interface ScenarioCase {
  name: CaseName;
  skip?: boolean | string;
  connections?: number;
  duration?: DurationValue;
  buyers?: number;
  stock?: number;
}

/** ajv names a failed pattern by its regex; a person needs to hear what kind of value goes there. */
const PATTERN_HINTS: Record<string, string> = {
  '^https?://': 'must be an http:// or https:// URL',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'must be the NAME of an environment variable holding the secret (letters, digits, _), never the secret itself',
};

let compiled: ValidateFunction<Scenario> | undefined;

export function scenarioSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(SCENARIO_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
}

function validator(): ValidateFunction<Scenario> {
  // discriminator: errors then come from the one case entry the name selects, not from all ten oneOf branches.
  // verbose: a duration's error quotes the value, to say which unit it lacks.
  compiled ??= new Ajv({ allErrors: true, discriminator: true, allowUnionTypes: true, verbose: true }).compile<Scenario>(scenarioSchema());
  return compiled;
}

/** One error as "/cases/3/buyers: must be integer", with the allowed values or the stray key where ajv has them. */
function describeError(error: ErrorObject): string | null {
  const path = error.instancePath === '' ? '(top level)' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.schemaPath.startsWith('#/definitions/duration/')) return `${path}: ${durationProblem(error.data) ?? 'is not a duration'}`;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${path}: has no field "${String(params.additionalProperty)}"; check its spelling (see confirm-sim init for every field)`;
    case 'enum':
      return `${path}: ${error.message ?? 'is not allowed'}: ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'not':
      // The one `not` in the schema keeps a pasted whsec_... secret out of a file that gets committed.
      return `${path}: looks like the secret itself; put the secret in an environment variable and give the variable's NAME here`;
    case 'pattern':
      return `${path}: ${PATTERN_HINTS[String(params.pattern)] ?? error.message ?? 'does not match'}`;
    case 'discriminator':
      // A missing name is already reported by `required`; a wrong one gets the list of case names.
      if (params.error !== 'mapping') return null;
      return `${path}/name: "${String(params.tagValue)}" is not a case; use one of ${CASE_NAMES.join(', ')}`;
    default:
      return `${path}: ${error.message ?? 'is not valid'}`;
  }
}

/**
 * Checks a parsed scenario against the shipped schema. Returns one message per problem, each naming the JSON
 * pointer of the bad value; an empty list means the scenario is valid.
 */
export function scenarioErrors(value: unknown): string[] {
  const validate = validator();
  if (validate(value)) return duplicateCaseErrors(value);
  const lines = (validate.errors ?? []).map(describeError).filter((line): line is string => line !== null);
  return [...new Set(lines)];
}

function duplicateCaseErrors(scenario: Scenario): string[] {
  const first = new Map<string, number>();
  const errors: string[] = [];
  (scenario.cases ?? []).forEach((entry, index) => {
    const earlier = first.get(entry.name);
    if (earlier === undefined) first.set(entry.name, index);
    else errors.push(`/cases/${index}/name: ${entry.name} is already set at /cases/${earlier}; merge the two entries`);
  });
  return errors;
}

export function isValidScenario(value: unknown): value is Scenario {
  return scenarioErrors(value).length === 0;
}
