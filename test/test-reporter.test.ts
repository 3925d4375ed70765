import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// npm test's terminal reporter, run as npm test runs it (two files at a time): every file's line carries its
// own counts, though its tests' results are replayed after files that finished later.

const REPORTER = fileURLToPath(new URL('../../scripts/test-reporter.mjs', import.meta.url));

const FILES: Record<string, string> = {
  // Slow, so the next file ends first and its results wait in line behind this one's.
  'a-slow.test.mjs': "import { test } from 'node:test';\ntest('a waits', async () => { await new Promise((r) => setTimeout(r, 400)); });\ntest('a too', () => {});\n",
  'b-fails.test.mjs': "import { test } from 'node:test';\ntest('b passes', () => {});\ntest('b fails', () => { console.log('printed by b'); throw new Error('boom in b'); });\n",
  'c-broken.test.mjs': "throw new Error('c cannot load');\n",
  'd-quick.test.mjs': "import { test } from 'node:test';\ntest('d one', () => {});\ntest('d two', () => {});\ntest('d skipped', { skip: 'not here' }, () => {});\n",
};

test('the terminal reporter gives each file its own counts and failures when two files run at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'confirm-sim-reporter-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(FILES)) await writeFile(join(dir, name), text);
  // Without the runner's own marker, the inner run reports to its terminal instead of to this test's runner.
  const { NODE_TEST_CONTEXT: _runnerMarker, ...env } = process.env;
  const output = await new Promise<string>((resolve) => {
    execFile(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter', REPORTER, ...Object.keys(FILES)], { cwd: dir, env }, (_error, stdout) => resolve(stdout));
  });
  const lines = output.split('\n');
  const fileLine = (name: string): string => lines.find((line) => line.includes(` ${name} `)) ?? `(no line for ${name})`;
  assert.match(fileLine('a-slow.test.mjs'), /^✔ a-slow\.test\.mjs {2}2 passed {2}/);
  assert.match(fileLine('b-fails.test.mjs'), /^✖ b-fails\.test\.mjs {2}1 passed, 1 failed {2}/);
  assert.match(fileLine('c-broken.test.mjs'), /^✖ c-broken\.test\.mjs {2}0 passed, 1 failed {2}/);
  assert.match(fileLine('d-quick.test.mjs'), /^✔ d-quick\.test\.mjs {2}2 passed, 1 skipped {2}/);
  assert.match(output, /✖ b fails \(b-fails\.test\.mjs:3\)\n {4}Error: boom in b/);
  assert.match(output, /printed by b/);
  assert.match(output, /c cannot load/);
  assert.match(output, /\n5 passed, 2 failed, 1 skipped in /);
  assert.match(output, /failed:\n {2}b fails \(b-fails\.test\.mjs:3\)\n {2}.*c-broken\.test\.mjs/);
});
