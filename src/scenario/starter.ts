import YAML, { isMap, isPair, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { formatMs } from '../util/duration.js';
import { CASE_NAMES, MANUAL_CONFIRM_CASE_NAMES, type CaseName } from '../contract/types.js';
import { DEFAULT_COMPLETION_TEMPLATE } from '../protocol/completion.js';
import { DEFAULT_SUCCESS_STATUSES } from '../protocol/flows.js';
import { CHECK_DEFAULTS } from '../contract/runner.js';
import { DEFAULT_TIMEOUT_MS } from '../protocol/index.js';
import { scenarioSchema, type Scenario, type ScenarioCase } from './validate.js';

export const STARTER_FORMATS = ['yaml', 'json'] as const;
export type StarterFormat = (typeof STARTER_FORMATS)[number];

const MERCHANT = 'http://127.0.0.1:3000';
const SECRET_ENV_EXAMPLE = 'PORTONE_WEBHOOK_SECRET';
const GATEWAY_EXAMPLE = 'http://127.0.0.1:4000';
/** The gateway's own default token lifetime (confirm-sim gateway --token-lifetime), shown in the commented example. */
const TOKEN_LIFETIME_EXAMPLE = '10m';
/** Comment lines are wrapped to stay readable beside the values in an editor. */
const COMMENT_WIDTH = 96;

/** "5s" rather than 5000, so the starter shows the form people write. */
function durationText(ms: number): string {
  return formatMs(ms).replace(/\.00 s$/, 's').replace(' ', '');
}

function caseEntry(name: CaseName): ScenarioCase {
  switch (name) {
    case 'latency-under-load':
      return { name, connections: CHECK_DEFAULTS.load.connections, duration: durationText(CHECK_DEFAULTS.load.durationMs) };
    case 'first-come-burst':
    case 'burst-confirms-stock':
      return { name, buyers: CHECK_DEFAULTS.burst.buyers, stock: CHECK_DEFAULTS.burst.stock };
    default:
      return { name };
  }
}

/** The starter scenario: a merchant on port 3000 with every hook, every default spelled out, every case listed. */
export function starterScenario(): Scenario {
  return {
    flow: 'confirm-process',
    target: { url: `${MERCHANT}/confirm`, dialect: 'v1', timeout: durationText(DEFAULT_TIMEOUT_MS) },
    hooks: { order: `${MERCHANT}/orders`, reset: `${MERCHANT}/reset`, stock: `${MERCHANT}/stock`, webhook: `${MERCHANT}/webhook` },
    product: { price: CHECK_DEFAULTS.price, quantity: 1, stock: CHECK_DEFAULTS.productStock },
    budgets: { p99: durationText(CHECK_DEFAULTS.p99BudgetMs), release: durationText(CHECK_DEFAULTS.releaseBudgetMs) },
    strict: false,
    cases: [...CASE_NAMES, ...MANUAL_CONFIRM_CASE_NAMES].map(caseEntry),
  };
}

type SchemaNode = Record<string, unknown>;

function wrap(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line.length > 0 && line.length + word.length + 1 > COMMENT_WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) lines.push(line);
  // yaml writes each comment line after "#" as is; the leading space keeps "# text" readable.
  return lines.map((text) => ` ${text}`).join('\n');
}

function child(schema: SchemaNode | undefined, key: string): SchemaNode | undefined {
  const properties = schema?.properties as Record<string, SchemaNode> | undefined;
  return properties?.[key];
}

/** The oneOf branch of a case entry whose name matches, so its options get their own descriptions. */
function caseBranch(items: SchemaNode | undefined, name: unknown): SchemaNode | undefined {
  const branches = (items?.oneOf as SchemaNode[] | undefined) ?? [];
  return branches.find((branch) => (child(branch, 'name')?.const ?? null) === name);
}

function describe(node: SchemaNode | undefined): string | undefined {
  return typeof node?.description === 'string' ? node.description : undefined;
}

/** Puts each field's schema description above it as a comment, so the file explains itself. */
function annotate(node: Node | null, schema: SchemaNode | undefined): void {
  if (isMap(node)) {
    for (const pair of node.items as Pair<Node, Node>[]) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const fieldSchema = child(schema, String(pair.key.value));
      const description = describe(fieldSchema);
      // A case's name is described on its list item, above the name.
      if (description !== undefined && pair.key.value !== 'name') pair.key.commentBefore = wrap(description);
      annotate(pair.value, fieldSchema);
    }
  } else if (isSeq(node)) {
    const items = schema?.items as SchemaNode | undefined;
    for (const item of node.items as Node[]) {
      const branch = isMap(item) ? caseBranch(items, item.get('name')) : undefined;
      const description = describe(child(branch, 'name'));
      if (description !== undefined) item.commentBefore = wrap(description);
      annotate(item, branch ?? items);
    }
  }
}

/** The gateway and manualConfirm sections as comments: how a manual-confirm scenario (cases 15-20) starts. */
function manualConfirmExample(schema: SchemaNode): string {
  const gateway = child(schema, 'gateway');
  const manual = child(schema, 'manualConfirm');
  return [
    wrap(describe(gateway) ?? ''),
    ' gateway:',
    `   url: ${GATEWAY_EXAMPLE}`,
    `   settle: 2s`,
    wrap(describe(manual) ?? ''),
    ' For a manual-confirm endpoint: flow: manual-confirm, target.url its completion URL, a V2 target.dialect.',
    ' manualConfirm:',
    `   body: '${DEFAULT_COMPLETION_TEMPLATE}'`,
    `   successStatus: ${DEFAULT_SUCCESS_STATUSES.text}`,
    `   tokenLifetime: ${TOKEN_LIFETIME_EXAMPLE}`,
  ].join('\n');
}

/** A commented YAML starter; `schemaPath` is where the user's editor finds the schema (yaml-language-server). */
export function renderStarterYaml(schemaPath: string): string {
  const schema = scenarioSchema();
  const document = new YAML.Document(starterScenario());
  annotate(document.contents, schema);
  const target = document.get('target') as YAML.YAMLMap;
  const timeout = target.items.find((pair) => isScalar(pair.key) && pair.key.value === 'timeout');
  if (timeout && isScalar(timeout.key)) {
    // Commented out: an unset variable would stop the check, and V1 merchants have no secret at all.
    const secretEnv = describe(child(child(schema, 'target'), 'secretEnv')) ?? '';
    timeout.key.commentBefore = `${wrap(secretEnv)}\n secretEnv: ${SECRET_ENV_EXAMPLE}\n${timeout.key.commentBefore ?? ''}`;
  }
  const product = (document.contents as YAML.YAMLMap).items.find((pair) => isScalar(pair.key) && pair.key.value === 'product');
  if (product && isScalar(product.key)) {
    // Commented out: a check with a gateway URL needs that gateway running, and manualConfirm needs flow manual-confirm.
    product.key.commentBefore = `${manualConfirmExample(schema)}\n${product.key.commentBefore ?? ''}`;
  }
  for (const pair of (document.contents as YAML.YAMLMap).items.slice(1)) {
    if (isScalar(pair.key)) pair.key.spaceBefore = true;
  }
  document.commentBefore = [
    ` yaml-language-server: $schema=${schemaPath}`,
    wrap(describe(schema) ?? ''),
    ' Run it with: npx confirm-sim check --scenario <this file>',
  ].join('\n');
  return document.toString({ lineWidth: 0 });
}

/** A JSON starter: no comments in JSON, so `$schema` points editors at the descriptions instead. */
export function renderStarterJson(schemaPath: string): string {
  const scenario: Scenario = {
    $schema: schemaPath,
    $comment: `Every field is described in the schema ($schema); set target.secretEnv to the name of the variable holding the V2 webhook secret, e.g. ${SECRET_ENV_EXAMPLE}. For a manual-confirm completion endpoint (cases 15-20) set flow to manual-confirm, gateway.url (e.g. ${GATEWAY_EXAMPLE}) and, if your front end posts another shape, manualConfirm.body. Run: npx confirm-sim check --scenario <this file>`,
    ...starterScenario(),
  };
  return `${JSON.stringify(scenario, null, 2)}\n`;
}

export function renderStarter(format: StarterFormat, schemaPath: string): string {
  return format === 'yaml' ? renderStarterYaml(schemaPath) : renderStarterJson(schemaPath);
}
