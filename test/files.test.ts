import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeParentDirectory } from '../src/util/files.js';
import { runCli } from './helpers/cli.js';

test('makeParentDirectory creates every missing level and accepts an existing one', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'confirm-sim-files-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const file = join(root, 'a', 'b', 'c', 'report.json');
  await makeParentDirectory(file);
  assert.ok((await stat(join(root, 'a', 'b', 'c'))).isDirectory());
  await makeParentDirectory(file);
});

test('a path under procfs fails at once instead of spinning forever', { skip: !existsSync('/proc/self') && 'no procfs here' }, async () => {
  await assert.rejects(makeParentDirectory('/proc/confirm-sim-test/deeper/report.json'), { code: 'ENOENT' });
  const run = await runCli(['init', '--out', '/proc/confirm-sim-test/confirm-sim.yaml']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /cannot write it \(ENOENT\)/);
});
