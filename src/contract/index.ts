export * from './types.js';
export { CheckRunner, runCheck, selectCases, resolveCheckSetup, caseLabel, CHECK_DEFAULTS } from './runner.js';
export { CONTRACT_CASES } from './cases/index.js';
export { HookError, parseStockAnswer } from './hooks.js';
export type { ContractCase, CheckSetup } from './context.js';
