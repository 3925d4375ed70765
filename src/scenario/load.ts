import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import { webhookSecretFromEnv } from '../protocol/index.js';
import { parseSuccessStatuses, type Flow } from '../protocol/flows.js';
import { CompletionTemplate } from '../protocol/completion.js';
import type { CaseName, CheckOptions } from '../contract/types.js';
import { parseDuration } from '../util/duration.js';
import { UsageError } from '../util/errors.js';
import { scenarioErrors, type Scenario } from './validate.js';

export const SCENARIO_EXTENSIONS = ['.json', '.yaml', '.yml'] as const;

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/** Parses a scenario's text by its file extension, or says in one line why it cannot. */
export function parseScenarioText(text: string, file: string): unknown {
  const extension = extname(file).toLowerCase();
  if (extension === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(`${file}: not valid JSON: ${(error as Error).message}`);
    }
  }
  if (extension === '.yaml' || extension === '.yml') {
    try {
      return YAML.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(`${file}: not valid YAML: ${firstLine((error as Error).message)}`);
    }
  }
  throw new UsageError(`${file}: a scenario file must end in ${SCENARIO_EXTENSIONS.join(', ')}; confirm-sim init writes one`);
}

/** Parses and validates scenario text; every schema error becomes one line "file: /pointer: problem". */
export function parseScenario(text: string, file: string): Scenario {
  const value = parseScenarioText(text, file);
  const errors = scenarioErrors(value);
  if (errors.length > 0) throw new UsageError(errors.map((error) => `${file}: ${error}`).join('\n'));
  return value as Scenario;
}

export async function readScenarioFile(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(`\`scenario\` ${file}: cannot read it (${code}); check the path, or create one with confirm-sim init`);
  }
  return parseScenario(text, file);
}

/** A token lifetime as the gateway takes it: a duration above 0. */
function lifetimeMs(text: string, where: string): number {
  const ms = parseDuration(text, where);
  if (!(ms >= 1)) throw new UsageError(`${where}: "${text}" is not a lifetime above 0; give e.g. 10m, 90s or 500ms`);
  return ms;
}

/**
 * The manual-confirm settings, checked as their flags are (a bad template or status list is one line naming its
 * place in the file). `flow` is the flow the run will use (a --flow flag may have replaced the file's).
 */
function manualConfirmOptions(scenario: Scenario, file: string, flow: Flow): Partial<CheckOptions> {
  const settings = scenario.manualConfirm;
  if (settings === undefined) return {};
  if (flow !== 'manual-confirm') {
    throw new UsageError(`${file}: /manualConfirm: is for flow manual-confirm; set /flow to manual-confirm (or pass --flow manual-confirm), or remove it`);
  }
  const options: Partial<CheckOptions> = {};
  if (settings.body !== undefined) options.body = new CompletionTemplate(settings.body, `${file}: /manualConfirm/body`).text;
  if (settings.successStatus !== undefined) options.successStatus = parseSuccessStatuses(settings.successStatus, `${file}: /manualConfirm/successStatus`);
  if (settings.tokenLifetime !== undefined) options.tokenLifetimeMs = lifetimeMs(settings.tokenLifetime, `${file}: /manualConfirm/tokenLifetime`);
  return options;
}

/**
 * The check options a scenario describes; the CLI lays its flags over them. `readSecret: false` leaves
 * target.secretEnv unread, for when a --secret flag replaces it and the variable need not be set. `flow` is a
 * --flow flag's, which wins over the file's.
 */
export function scenarioCheckOptions(
  scenario: Scenario,
  env: NodeJS.ProcessEnv,
  file: string,
  { readSecret = true, flow }: { readSecret?: boolean; flow?: Flow | undefined } = {},
): Partial<CheckOptions> {
  const runFlow = flow ?? scenario.flow ?? 'confirm-process';
  const options: Partial<CheckOptions> = { ...manualConfirmOptions(scenario, file, runFlow) };
  if (scenario.flow !== undefined) options.flow = scenario.flow;
  const { target = {}, product = {}, budgets = {}, gateway = {} } = scenario;
  if (gateway.url !== undefined) options.gateway = gateway.url;
  if (gateway.settle !== undefined) options.settleMs = parseDuration(gateway.settle, `${file}: /gateway/settle`);
  if (target.url !== undefined) options.url = target.url;
  if (target.dialect !== undefined) options.dialect = target.dialect;
  if (target.secretEnv !== undefined && readSecret) options.secret = webhookSecretFromEnv(env, target.secretEnv, `${file}: /target/secretEnv`);
  if (target.timeout !== undefined) options.timeoutMs = parseDuration(target.timeout, `${file}: /target/timeout`);
  // A scenario file keeps its short names under hooks: (order, reset, stock, webhook); the options spell them out.
  const { order, reset, stock, webhook } = scenario.hooks ?? {};
  if (order !== undefined) options.orderUrl = order;
  if (reset !== undefined) options.resetUrl = reset;
  if (stock !== undefined) options.stockUrl = stock;
  if (webhook !== undefined) options.webhookUrl = webhook;
  options.product = { ...product, priceKnown: product.price !== undefined };
  if (budgets.p99 !== undefined) options.p99BudgetMs = parseDuration(budgets.p99, `${file}: /budgets/p99`);
  if (budgets.release !== undefined) options.releaseBudgetMs = parseDuration(budgets.release, `${file}: /budgets/release`);
  if (scenario.strict !== undefined) options.strict = scenario.strict;
  const skipReasons: Partial<Record<CaseName, string>> = {};
  (scenario.cases ?? []).forEach((entry, index) => {
    if (entry.skip === true || typeof entry.skip === 'string') {
      skipReasons[entry.name] = typeof entry.skip === 'string' ? entry.skip : `skipped by ${file}`;
    }
    if (entry.connections !== undefined) options.load = { ...options.load, connections: entry.connections };
    if (entry.duration !== undefined) {
      options.load = { ...options.load, durationMs: parseDuration(entry.duration, `${file}: /cases/${index}/duration`) };
    }
    if (entry.buyers !== undefined) options.burst = { ...options.burst, buyers: entry.buyers };
    if (entry.stock !== undefined) options.burst = { ...options.burst, stock: entry.stock };
  });
  options.skipReasons = skipReasons;
  return options;
}
