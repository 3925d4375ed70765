import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { Command, Option } from 'commander';
import { createProgram } from '../src/cli.js';
import { OPTION_FLAGS, usageMessageForCli } from '../src/cli-context.js';
import { runCli } from './helpers/cli.js';

/** Every command under the program, subcommands included, by its full name ("confirm-sim gateway ..."). */
function allCommands(): Array<{ path: string[]; command: Command }> {
  const program = createProgram({
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    env: {},
    setExitCode: () => {},
    signal: new AbortController().signal,
  });
  const found: Array<{ path: string[]; command: Command }> = [];
  const walk = (command: Command, path: string[]): void => {
    for (const sub of command.commands) {
      found.push({ path: [...path, sub.name()], command: sub });
      walk(sub, [...path, sub.name()]);
    }
  };
  walk(program, []);
  return found;
}

/** What an option's value is written as: its placeholder, or "switch" for an option without a value. */
function valueOf(option: Option): string {
  return /[<[][^>\]]*[>\]]/.exec(option.flags)?.[0] ?? 'switch';
}

/**
 * The kind of value, which must agree across commands (a duration is a duration everywhere); placeholders
 * may still say more where one command means more (fire's --merchant-uid <id>, burst's <template>).
 */
function kindOf(option: Option): string {
  const value = valueOf(option);
  return ['switch', '<duration>', '<url>', '<file|->', '<fraction>'].includes(value) ? value : 'a value';
}

test('a flag means the same on every command: one short letter, one kind of value, each short letter one flag', () => {
  const byLong = new Map<string, Array<{ command: string; short: string | undefined; value: string; hidden: boolean }>>();
  const byShort = new Map<string, Set<string>>();
  for (const { path, command } of allCommands()) {
    for (const option of command.options) {
      const long = option.long!;
      const entries = byLong.get(long) ?? [];
      entries.push({ command: path.join(' '), short: option.short, value: kindOf(option), hidden: option.hidden });
      byLong.set(long, entries);
      if (option.short !== undefined) byShort.set(option.short, (byShort.get(option.short) ?? new Set()).add(long));
    }
  }
  for (const [short, longs] of byShort) assert.equal(longs.size, 1, `${short} stands for ${[...longs].join(' and ')}`);
  for (const [long, entries] of byLong) {
    const shorts = new Set(entries.map((entry) => entry.short));
    assert.equal(shorts.size, 1, `${long}: short flag differs: ${entries.map((entry) => `${entry.command} ${entry.short ?? '(none)'}`).join(', ')}`);
    const values = new Set(entries.map((entry) => entry.value));
    assert.equal(values.size, 1, `${long}: kind of value differs: ${entries.map((entry) => `${entry.command} ${entry.value}`).join(', ')}`);
  }
  // The table issue 10 asked for, spelled out, so a command that drops one fails here by name.
  const expected: Record<string, string> = { '--timeout': '-t', '--header': '-H', '--quiet': '-q', '--buyers': '-n', '--stock': '-s' };
  for (const [long, short] of Object.entries(expected)) {
    for (const entry of byLong.get(long) ?? []) assert.equal(entry.short, short, `${entry.command} ${long}`);
  }
  for (const entry of byLong.get('--json') ?? []) assert.equal(entry.value, '<file|->', `${entry.command} --json`);
  // Old names live on only as hidden aliases.
  for (const old of ['--confirm-timeout', '--price', '--notice-url']) {
    for (const entry of byLong.get(old) ?? []) assert.ok(entry.hidden, `${entry.command} ${old} is an alias, not a second option`);
  }
});

test('every command with a result takes --json <file|->; every command that waits for a confirm answer takes -t, --timeout', () => {
  const commands = new Map(allCommands().map(({ path, command }) => [path.join(' '), command]));
  const longs = (name: string): string[] => commands.get(name)!.options.filter((option) => !option.hidden).map((option) => option.long!);
  for (const name of ['fire', 'burst', 'check', 'merge', 'merchant', 'demo']) assert.ok(longs(name).includes('--json'), `${name} --json`);
  for (const name of ['fire', 'burst', 'check', 'gateway']) assert.ok(longs(name).includes('--timeout'), `${name} --timeout`);
  for (const name of ['check', 'merchant']) assert.ok(longs(name).includes('--amount') && !longs(name).includes('--price'), `${name} --amount`);
});

test('--help of every command, subcommands included, states its exit codes, and that durations need units where it takes one', async () => {
  const commands = allCommands();
  assert.ok(commands.length >= 9, 'every command is walked');
  for (const { path, command } of commands) {
    const run = await runCli([...path, '--help']);
    const name = path.join(' ');
    assert.equal(run.code, 0, name);
    assert.match(run.stdout, /\nExit codes:\n {2}0 {3}\S.*\n/, name);
    assert.match(run.stdout, /\n {2}2 {3}usage error/, name);
    const takesDurations = command.options.some((option) => valueOf(option) === '<duration>');
    assert.equal(/Durations need a unit: 500ms, 5s/.test(run.stdout), takesDurations, `${name}: durations line`);
  }
});

test('the library names its options and the CLI says its flags: one table, every flag a command has', async () => {
  const flags = new Set(allCommands().flatMap(({ command }) => command.options.map((option) => option.long!)));
  for (const [option, flag] of Object.entries(OPTION_FLAGS)) assert.ok(flags.has(flag), `${option} → ${flag}, which no command has`);

  assert.equal(
    usageMessageForCli('`stock`: say how many items are on sale, or give `stockUrl` to read it from http://127.0.0.1:3000/stock'),
    '--stock: say how many items are on sale, or give --stock-url to read it from http://127.0.0.1:3000/stock',
  );
  assert.equal(usageMessageForCli('`load.connections`: 0 must be more than 0'), '`load.connections`: 0 must be more than 0', 'a name no flag has stays as written');

  const library = await runCli(['burst', 'http://127.0.0.1:9/confirm', '--buyers', '10', '--stock', '1', '--ramp', '1s', '--rate', '5']);
  assert.equal(library.code, 2);
  assert.equal(library.stderr, 'confirm-sim: --ramp and --rate both set an arrival pattern; pick one\n');
  const check = await runCli(['check', 'http://127.0.0.1:9/confirm', '--order-url', 'ftp://127.0.0.1/orders']);
  assert.equal(check.code, 2);
  assert.match(check.stderr, /^confirm-sim: --order-url: "ftp:\/\/127\.0\.0\.1\/orders" must start with http:\/\/ or https:\/\//);
});
