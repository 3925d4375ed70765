/**
 * confirm-sim as a library: everything the CLI does is callable from a merchant's own test suite.
 */
export * from './protocol/index.js';
export { UsageError, ExitCode } from './util/errors.js';
export { parseDuration } from './util/duration.js';
export { main } from './cli.js';
// library:exports
export * from './gateway/index.js';
export * from './merchants/index.js';
export * from './fire/index.js';
