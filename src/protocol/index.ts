export * from './dialects.js';
export * from './ids.js';
export * from './signing.js';
export * from './decision.js';
export * from './refusals.js';
export * from './flows.js';
export * from './completion.js';
