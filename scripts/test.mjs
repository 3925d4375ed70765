#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * `npm test`: every compiled test file, two at a time (each starts real servers on port 0; one file at a
 * time left a 2-core machine's second core mostly idle, and two fit the ~5 minute budget), the README
 * walk-through first: it is the longest by far, so the other files run beside it instead of after it. On a terminal a line per file and failures in full (scripts/test-reporter.mjs); elsewhere,
 * as in CI, TAP for the tools that read it. `npm test -- dist/test/burst.test.js` runs some files only;
 * `npm test -- --test-reporter=spec` picks another of node's reporters.
 */

const args = process.argv.slice(2);
const files = args.filter((arg) => !arg.startsWith('-'));
const flags = args.filter((arg) => arg.startsWith('-'));
const root = new URL('../', import.meta.url);
const testDir = fileURLToPath(new URL('dist/test/', root));
const LONGEST = 'readme-walkthrough.test.js';

const targets =
  files.length > 0
    ? files
    : readdirSync(testDir)
        .filter((name) => name.endsWith('.test.js'))
        .sort((a, b) => Number(b === LONGEST) - Number(a === LONGEST) || a.localeCompare(b))
        .map((name) => `${testDir}${name}`);
const chosen = flags.some((flag) => flag.startsWith('--test-reporter'));
const reporter = chosen
  ? []
  : ['--test-reporter', process.stdout.isTTY ? fileURLToPath(new URL('scripts/test-reporter.mjs', root)) : 'tap'];

const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...reporter, ...flags, ...targets], { stdio: 'inherit' });
// Ctrl-C reaches the terminal's whole process group, the runner too: wait for it to report and exit.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === null ? 1 : constants.signals[signal])));
