import { setMaxListeners } from 'node:events';
import { DEFAULT_TIMEOUT_MS, newRunId } from '../protocol/index.js';
import { TypedEmitter } from '../util/events.js';
import { UsageError } from '../util/errors.js';
import { parseHttpUrl } from '../util/url.js';
import { parseHeader } from '../load/options.js';
import { SecretMask } from '../util/secrets.js';
import { maskUrl } from '../util/url.js';
import { CONTRACT_CASES } from './cases/index.js';
import { MANUAL_CONFIRM_CASES } from './cases/manual-confirm.js';
import { resolveCompletion } from '../protocol/completion-options.js';
import type { Flow } from '../protocol/flows.js';
import { CaseContext, CaseSkip, type CheckSetup, type ContractCase } from './context.js';
import { HookError, MerchantHooks } from './hooks.js';
import { OrderIds } from './orders.js';
import { CheckGateway, type CheckGatewayPlan } from './gateway.js';
import { gatewayUrlOf } from '../load/options.js';
import { isV2 } from '../protocol/index.js';
import type { CaseOutcome, CaseResult, CheckEvents, CheckOptions, CheckResult, CheckSummary, MerchantHookUrls } from './types.js';

/** What a check uses for every option left out; `confirm-sim init` writes these into its starter. */
export const CHECK_DEFAULTS = {
  p99BudgetMs: 1_000,
  releaseBudgetMs: 2_000,
  /** With a gateway: what follows a confirm (decline, webhooks, the merchant's release) gets this long. */
  settleMs: 2_000,
  price: 1_000,
  /** Enough for case 6, whose inputs an open-orders merchant may accept take a unit each. */
  productStock: 20,
  load: { connections: 10, durationMs: 3_000 },
  burst: { buyers: 30, stock: 10 },
} as const;

/** "3 refuses-unknown-order": what --grep and --skip match, so either the id or the name selects a case. */
export function caseLabel(contractCase: Pick<ContractCase, 'id' | 'name'>): string {
  return `${contractCase.id} ${contractCase.name}`;
}

/**
 * The cases --grep and --skip leave. A pattern that matches no case at all, or a pair that leaves none, is a
 * usage error: a typo in a CI file must not turn into a run that silently checks less, or nothing.
 * `names` are what the error calls the two patterns (the CLI's flags; the library's option names by default).
 */
export function selectCases(
  grep: RegExp | undefined,
  skip: RegExp | undefined,
  names: { grep: string; skip: string } = { grep: 'grep', skip: 'skip' },
  flow: Flow = 'confirm-process',
): ContractCase[] {
  const cases = casesOf(flow);
  const labels = cases.map(caseLabel).join(', ');
  for (const [name, pattern] of [[names.grep, grep], [names.skip, skip]] as const) {
    if (pattern !== undefined && !cases.some((contractCase) => pattern.test(caseLabel(contractCase)))) {
      throw new UsageError(`${name} ${pattern.source}: matches no case; the cases are ${labels}`);
    }
  }
  const selected = cases.filter(
    (contractCase) => (grep === undefined || grep.test(caseLabel(contractCase))) && !(skip?.test(caseLabel(contractCase)) ?? false),
  );
  if (selected.length === 0) {
    const given = [grep && `${names.grep} ${grep.source}`, skip && `${names.skip} ${skip.source}`].filter(Boolean).join(' with ');
    throw new UsageError(`${given} leaves no case to run; the cases are ${labels}`);
  }
  return selected;
}

/** The cases of a flow's contract: the Confirm Process's 1-14, or manual confirm's 15-20. */
export function casesOf(flow: Flow): readonly ContractCase[] {
  return flow === 'manual-confirm' ? MANUAL_CONFIRM_CASES : CONTRACT_CASES;
}


function checkHookUrls(options: CheckOptions): MerchantHookUrls {
  const checked: MerchantHookUrls = {};
  for (const [kind, option] of [['order', 'orderUrl'], ['reset', 'resetUrl'], ['stock', 'stockUrl'], ['webhook', 'webhookUrl']] as const) {
    const url = options[option];
    if (url !== undefined) checked[kind] = parseHttpUrl(url, `\`${option}\``).href;
  }
  return checked;
}

/** `what` is the option as the caller wrote it, timeoutMs or load.connections; a refusal quotes it so the CLI can say its flag instead. */
function positive(value: number, what: string): number {
  if (Number.isFinite(value) && value > 0) return value;
  throw new UsageError(`\`${what}\`: ${value} must be more than 0`);
}

function fraction(value: number, what: string): number {
  if (Number.isFinite(value) && value >= 0 && value <= 1) return value;
  throw new UsageError(`\`${what}\`: ${value} is not a fraction between 0 and 1 (e.g. 0.01 or 1%)`);
}

function wholeNumber(value: number, what: string, min: number): number {
  if (Number.isSafeInteger(value) && value >= min) return value;
  throw new UsageError(`\`${what}\`: ${value} is not a whole number of ${min} or more`);
}

/** Fills the defaults and checks the options once, so each case can trust what it reads. */
export function resolveCheckSetup(options: CheckOptions): CheckSetup {
  const url = parseHttpUrl(options.url, 'confirm URL').href;
  const product = options.product ?? {};
  const burst = {
    buyers: wholeNumber(options.burst?.buyers ?? CHECK_DEFAULTS.burst.buyers, 'burst.buyers', 2),
    stock: wholeNumber(options.burst?.stock ?? CHECK_DEFAULTS.burst.stock, 'burst.stock', 1),
  };
  const hooks = checkHookUrls(options);
  const flow = options.flow ?? 'confirm-process';
  const dialect = options.dialect ?? (flow === 'manual-confirm' ? 'v2-2024-04-25' : 'v1');
  let gateway: CheckGatewayPlan | null = null;
  if (options.gateway !== undefined) {
    gateway = {
      url: gatewayUrlOf(options.gateway),
      api: isV2(dialect) ? 'v2' : 'v1',
      noticeUrl: hooks.webhook ?? null,
      settleMs: positive(options.settleMs ?? CHECK_DEFAULTS.settleMs, 'settleMs'),
    };
  } else if (options.settleMs !== undefined) {
    throw new UsageError('`settleMs` needs `gateway` <url>: without a gateway nothing follows a confirm');
  }
  if (burst.buyers <= burst.stock) {
    throw new UsageError(`first-come-burst: ${burst.buyers} buyers for ${burst.stock} in stock cannot oversell; give more buyers than stock`);
  }
  return {
    url,
    dialect,
    secret: options.secret,
    timeoutMs: positive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs'),
    hooks,
    hookHeaders: Object.fromEntries(
      Object.entries(options.hookHeaders ?? {}).map(([name, value]) => parseHeader(`${name}: ${value}`, '`hookHeaders`')),
    ),
    product: {
      price: wholeNumber(product.price ?? CHECK_DEFAULTS.price, 'product.price', 1),
      priceKnown: product.priceKnown ?? false,
      quantity: wholeNumber(product.quantity ?? 1, 'product.quantity', 1),
      stock: wholeNumber(product.stock ?? CHECK_DEFAULTS.productStock, 'product.stock', 1),
    },
    strict: options.strict ?? false,
    p99BudgetMs: positive(options.p99BudgetMs ?? CHECK_DEFAULTS.p99BudgetMs, 'p99BudgetMs'),
    maxErrorRate: fraction(options.maxErrorRate ?? 0, 'maxErrorRate'),
    releaseBudgetMs: positive(options.releaseBudgetMs ?? CHECK_DEFAULTS.releaseBudgetMs, 'releaseBudgetMs'),
    load: {
      connections: wholeNumber(options.load?.connections ?? CHECK_DEFAULTS.load.connections, 'load.connections', 1),
      durationMs: positive(options.load?.durationMs ?? CHECK_DEFAULTS.load.durationMs, 'load.durationMs'),
    },
    burst,
    gateway,
    flow,
    completion: resolveCompletion(options, flow, dialect, gateway !== null),
  };
}

/**
 * The run's own signal, following the caller's. Cases fan it out to many requests at once (the burst creates
 * 64 orders in parallel, case 8 keeps its connections busy), each adding an abort listener, which is not the
 * leak Node's listener-count warning is there to catch.
 */
function runSignal(callerSignal: AbortSignal | undefined): AbortSignal {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  if (callerSignal?.aborted) controller.abort(callerSignal.reason);
  else callerSignal?.addEventListener('abort', () => controller.abort(callerSignal.reason), { once: true });
  return controller.signal;
}

function summarize(cases: CaseResult[]): CheckSummary {
  const summary: CheckSummary = { total: cases.length, passed: 0, failed: 0, warning: 0, skipped: 0 };
  for (const result of cases) summary[result.status]++;
  return summary;
}

/**
 * Runs the contract cases one after another against a merchant and reports each through events, the way
 * newman's run emitter feeds its reporters: subscribe with `on('case:end', ...)`, then `await run()`.
 */
export class CheckRunner extends TypedEmitter<CheckEvents> {
  readonly setup: CheckSetup;
  readonly cases: ContractCase[];
  readonly #options: CheckOptions;

  constructor(options: CheckOptions) {
    super();
    this.#options = options;
    this.setup = resolveCheckSetup(options);
    this.cases = selectCases(options.grep, options.skip, undefined, this.setup.flow);
  }

  async run(): Promise<CheckResult> {
    const { setup } = this;
    const signal = runSignal(this.#options.signal);
    const startedAt = new Date();
    const started = performance.now();
    const hooks = new MerchantHooks(setup.hooks, setup.hookHeaders, setup.timeoutMs, signal);
    const runId = newRunId();
    const ids = new OrderIds(runId);
    const gateway = setup.gateway ? new CheckGateway(setup.gateway, `check-${runId}`, setup.dialect, setup.completion?.tokenLifetimeMs ?? null) : null;
    const results: CaseResult[] = [];
    let stopReason: string | null = null;
    // Whatever a case saw of the merchant may echo a credential we sent; results are shown and kept masked.
    const secrets = new SecretMask().addUrl(setup.url).addUrl(setup.gateway?.url).addHeaders(setup.hookHeaders);
    for (const hook of Object.values(setup.hooks)) secrets.addUrl(hook);
    if (setup.secret !== undefined) secrets.add(setup.secret.key.toString('base64'));
    this.emit('start', { url: maskUrl(setup.url), cases: this.cases.map(({ id, name, title }) => ({ id, name, title })) });
    try {
      for (const contractCase of this.cases) {
        const { id, name, title } = contractCase;
        this.emit('case:start', { id, name, title });
        const caseStarted = performance.now();
        let outcome: CaseOutcome;
        if (stopReason !== null) {
          outcome = { status: 'skipped', message: stopReason, details: {} };
        } else {
          outcome = await this.#runOne(contractCase, new CaseContext(setup, hooks, ids, id, signal, gateway));
          if (signal.aborted) stopReason = 'not run: the check was interrupted';
        }
        const result: CaseResult = secrets.deep({ id, name, title, ...outcome, durationMs: performance.now() - caseStarted });
        results.push(result);
        this.emit('case:end', result);
        if (result.status === 'failed' && this.#options.bail && stopReason === null) {
          stopReason = `not run: \`bail\` stopped the check after case ${caseLabel(contractCase)} failed`;
        }
      }
    } finally {
      await gateway?.close();
    }
    const summary = summarize(results);
    const result: CheckResult = secrets.deep({
      schemaVersion: 2,
      ok: summary.failed === 0 && !signal.aborted,
      target: {
        url: setup.url,
        dialect: setup.dialect,
        secret: setup.secret === undefined ? null : setup.secret.masked,
        timeoutMs: setup.timeoutMs,
      },
      gateway: setup.gateway?.url ?? null,
      flow: setup.flow,
      hooks: setup.hooks,
      strict: setup.strict,
      interrupted: signal.aborted,
      startedAt: startedAt.toISOString(),
      durationMs: performance.now() - started,
      summary,
      cases: results,
    });
    this.emit('done', result);
    return result;
  }

  async #runOne(contractCase: ContractCase, context: CaseContext): Promise<CaseOutcome> {
    const reason = this.#options.skipReasons?.[contractCase.name] ?? contractCase.unmet(this.setup);
    if (reason !== null && reason !== undefined) return { status: 'skipped', message: reason, details: {} };
    try {
      const outcome = await contractCase.run(context);
      if (outcome.status === 'warning' && this.setup.strict) {
        return { ...outcome, status: 'failed', message: `${outcome.message} (a failure under --strict)` };
      }
      return outcome;
    } catch (error) {
      if (context.signal.aborted) return { status: 'skipped', message: 'interrupted before the case finished', details: {} };
      if (error instanceof CaseSkip) return { status: 'skipped', message: error.message, details: {} };
      if (error instanceof HookError) return { status: 'failed', message: `could not set the case up: ${error.message}`, details: {} };
      throw error;
    }
  }
}

/** Runs the contract once and resolves to the result; use CheckRunner directly to follow the cases as they run. */
export async function runCheck(options: CheckOptions): Promise<CheckResult> {
  // async, so bad options reject the promise the caller awaits rather than throwing before it has one.
  return new CheckRunner(options).run();
}
