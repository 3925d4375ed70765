import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWritable, requireParentDirectory } from '../src/util/files.js';
import { runCli } from './helpers/cli.js';

test('an output path in a missing folder is refused, and no folder is made', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'confirm-sim-files-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const file = join(root, 'a', 'b', 'report.json');
  await assert.rejects(requireParentDirectory(file, '--json'), {
    name: 'UsageError',
    message: `--json ${file}: the folder ${join(root, 'a', 'b')} does not exist; create it first (mkdir -p ${join(root, 'a', 'b')}) or choose another path`,
  });
  assert.equal(existsSync(join(root, 'a')), false);
  // The check touches nothing: a run that then fails in set-up leaves no empty report behind.
  await ensureWritable(join(root, 'report.json'), '--json');
  assert.equal(existsSync(join(root, 'report.json')), false);
  await assert.rejects(ensureWritable(root, '--json'), { name: 'UsageError', message: `--json ${root}: is a folder; give the path of a file in it` });
});

test('a path under procfs fails at once instead of spinning forever', { skip: !existsSync('/proc/self') && 'no procfs here' }, async () => {
  await assert.rejects(requireParentDirectory('/proc/confirm-sim-test/deeper/report.json', '--json'), { name: 'UsageError' });
  const run = await runCli(['init', '--out', '/proc/confirm-sim-test/confirm-sim.yaml']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^confirm-sim: --out \/proc\/confirm-sim-test\/confirm-sim.yaml: the folder \/proc\/confirm-sim-test does not exist/);
});
