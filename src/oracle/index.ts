export * from './stock-oracle.js';
export * from './fairness.js';
