export * from './stock-oracle.js';
export * from './fairness.js';
export * from './manual-confirm.js';
