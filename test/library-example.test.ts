import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { codeBlocks, readReadme, README_PATH } from './helpers/readme.js';

const EXAMPLE_FIRST_LINE = '// test/confirm.test.js';

/** The README's merchant test suite, exactly as a reader would copy it. */
function readmeSuite(): string {
  const blocks = codeBlocks(readReadme()).filter((block) => block.info === 'js' && block.lines[0] === EXAMPLE_FIRST_LINE);
  assert.equal(blocks.length, 1, `README.md has one js block starting ${EXAMPLE_FIRST_LINE}`);
  return `${blocks[0]!.lines.join('\n')}\n`;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test("the README's merchant test suite passes as written, importing confirm-sim by its name", async (t) => {
  // A merchant's project of its own: confirm-sim in its node_modules (a link to this checkout, built), the
  // suite in test/. Node follows the link to this package's exports and resolves its dependencies from here.
  const project = mkdtempSync(join(tmpdir(), 'confirm-sim-library-example-'));
  t.after(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(dirname(README_PATH), join(project, 'node_modules', 'confirm-sim'), 'dir');
  mkdirSync(join(project, 'test'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'merchant', private: true, type: 'module' }));
  writeFileSync(join(project, 'test', 'confirm.test.js'), readmeSuite());

  // Not a child of this test run (NODE_TEST_CONTEXT would make it report to us), and its throwaway secret.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.PORTONE_WEBHOOK_SECRET;
  const suite = await run(process.execPath, ['--test', '--test-reporter', 'tap', 'test/confirm.test.js'], project, env);
  assert.equal(suite.code, 0, suite.output);
  assert.match(suite.output, /^# pass 2$/m, suite.output);
  assert.match(suite.output, /^# fail 0$/m, suite.output);
});
