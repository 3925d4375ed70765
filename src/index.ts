/**
 * confirm-sim as a library: everything the CLI does is callable from a merchant's own test suite.
 */
export * from './protocol/index.js';
export { UsageError, ExitCode } from './util/errors.js';
export { TypedEmitter } from './util/events.js';
export { parseDuration } from './util/duration.js';
export * from './demo/index.js';
export * from './load/index.js';
export * from './oracle/index.js';
export * from './contract/index.js';
export * from './scenario/index.js';
export { renderJunit } from './reporters/junit.js';
export { renderHtmlReport, writeHtmlReport } from './reporters/html/index.js';
export { writeJson, writeReport, type ReportDestination } from './reporters/json.js';
export * from './gateway/index.js';
export * from './merchants/index.js';
export * from './fire/index.js';
