export * from './types.js';
export { CheckRunner, runCheck, selectCases, resolveCheckSetup, caseLabel, CHECK_DEFAULTS } from './runner.js';
export { CONTRACT_CASES } from './cases/index.js';
export { HookError } from './hooks.js';
export { parseStockAnswer } from '../util/stock-answer.js';
export type { ContractCase, CheckSetup } from './context.js';
