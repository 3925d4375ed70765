import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { startMerchant } from '../src/merchants/index.js';
import { README_PATH } from './helpers/readme.js';

const ROOT = dirname(README_PATH);
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; files: string[] };
const TARBALL = `${PACKAGE.name}-${PACKAGE.version}.tgz`;
/** npm's own flags for these installs: the cache is warm, and audits and funding notes only cost time here. */
const QUIET_NPM = ['--prefer-offline', '--no-audit', '--no-fund'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  // A nested npm must not take this test run's npm_config_* (npm test's own) for the user's settings.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'NODE_TEST_CONTEXT'));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(command: string, args: string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd);
  assert.equal(result.code, 0, `${command} ${args.join(' ')}\n${result.stdout}${result.stderr}`);
  return result;
}

test("the README's install recipe works today: npm pack, a vendored tarball, npm install, npx --no-install", async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'confirm-sim-tarball-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const merchant = await startMerchant({ port: 0, stock: 5, openOrders: true });
  t.after(() => merchant.close());

  // npm test has just built dist/; packing again would only run the same build (prepare) once more.
  const vendor = join(work, 'project', 'vendor');
  mkdirSync(vendor, { recursive: true });
  await ok('npm', ['pack', '--ignore-scripts', '--pack-destination', vendor], ROOT);
  assert.deepEqual(readdirSync(vendor), [TARBALL]);

  const listing = (await ok('tar', ['-tzf', join(vendor, TARBALL)], work)).stdout.split('\n').filter(Boolean);
  for (const shipped of ['package/LICENSE', 'package/README.md', 'package/docs/protocol.md', 'package/bin/confirm-sim.js', 'package/dist/src/index.js']) {
    assert.ok(listing.includes(shipped), `${shipped} is in the package`);
  }
  assert.deepEqual(
    listing.filter((path) => /^package\/(dist\/)?(test|bench)\//.test(path) || /\.test\.[jt]s$/.test(path)),
    [],
    'no tests or benchmarks in the package',
  );
  assert.ok(PACKAGE.files.includes('docs') && PACKAGE.files.includes('LICENSE'));

  const project = dirname(vendor);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'merchant', version: '1.0.0', private: true }, null, 2)}\n`);
  await ok('npm', ['install', '--save-dev', ...QUIET_NPM, `./vendor/${TARBALL}`], project);
  const saved = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  assert.equal(saved.devDependencies?.['confirm-sim'], `file:vendor/${TARBALL}`, 'pinned to the vendored tarball');
  assert.ok(existsSync(join(project, 'package-lock.json')));

  const version = await ok('npx', ['--no-install', 'confirm-sim', '--version'], project);
  assert.equal(version.stdout.trim(), PACKAGE.version);
  const fired = await ok('npx', ['--no-install', 'confirm-sim', 'fire', merchant.confirmUrl, '--merchant-uid', 'tarball-1', '--json', '-'], project);
  assert.equal((JSON.parse(fired.stdout) as { decision: { proceed: boolean } }).decision.proceed, true, 'the installed CLI confirms against a real merchant');
  const list = await ok('npx', ['--no-install', 'confirm-sim', 'check', '--list'], project);
  assert.match(list.stdout, /^1 confirms-known-order /m, 'its contract cases');

  // The Kubernetes image's recipe: the same tarball, --no-save, in a folder that has no package.json.
  const image = join(work, 'image');
  mkdirSync(image);
  await ok('npm', ['install', '--no-save', ...QUIET_NPM, join(vendor, TARBALL)], image);
  assert.ok(!existsSync(join(image, 'package.json')), '--no-save writes no package.json');
  assert.equal((await ok(join(image, 'node_modules', '.bin', 'confirm-sim'), ['--version'], image)).stdout.trim(), PACKAGE.version);
});
