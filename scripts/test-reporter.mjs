import { relative } from 'node:path';
import { inspect } from 'node:util';

/**
 * `npm test` on a terminal: one line per test file as it finishes (how many passed, failed and were skipped,
 * and how long it took), every failure in full right under its file with whatever that file printed, and a
 * summary at the end. CI gets TAP instead (scripts/test.mjs picks), which its tools read.
 */

const tty = process.stdout.isTTY === true;
const color = tty && process.env.NO_COLOR === undefined;
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const green = (text) => paint(32, text);
const red = (text) => paint(31, text);
const yellow = (text) => paint(33, text);
const dim = (text) => paint(2, text);

function seconds(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

function shortPath(file) {
  return file === undefined ? '(no file)' : relative(process.cwd(), file);
}

function newFile() {
  return { passed: 0, failed: 0, skipped: 0, todo: 0, failures: [], output: [] };
}

function formatError(error) {
  // A failed test's error wraps what the test threw as its cause.
  const thrown = error?.code === 'ERR_TEST_FAILURE' && error.cause !== undefined ? error.cause : error;
  return inspect(thrown, { colors: color, depth: 6 })
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

export default async function* fileReporter(source) {
  const files = new Map();
  const failed = [];
  const totals = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  const started = Date.now();
  const fileOf = (name) => {
    if (!files.has(name)) files.set(name, newFile());
    return files.get(name);
  };

  // Two files run side by side: a file's own `test:complete` comes when it ends, but its tests' pass and fail
  // are replayed afterwards, file by file in launch order. So a file's line waits for both: its end, and a
  // test of a later file (or the end of the stream) saying all of its tests are in.
  const launched = [];
  const ended = new Map();
  const reported = new Set();
  function* finishFile(data) {
    const file = fileOf(data.file);
    const path = shortPath(data.file);
    const counts = [
      `${file.passed} passed`,
      file.failed > 0 ? red(`${file.failed} failed`) : null,
      file.skipped > 0 ? yellow(`${file.skipped} skipped`) : null,
      file.todo > 0 ? `${file.todo} todo` : null,
    ].filter((part) => part !== null);
    // A file can fail without a failed test: it did not load, or exited early.
    const fileFailed = file.failed > 0 || data.details?.error !== undefined;
    const mark = fileFailed ? red('✖') : green('✔');
    yield `${tty ? '\r\x1b[K' : ''}${mark} ${path}  ${counts.join(', ')}  ${dim(seconds(data.details?.duration_ms ?? 0))}\n`;
    if (fileFailed) {
      if (file.failures.length === 0) {
        file.failures.push({ name: '(the file itself)', line: undefined, error: data.details?.error });
      }
      for (const failure of file.failures) {
        const where = failure.line === undefined ? path : `${path}:${failure.line}`;
        yield `\n  ${red('✖')} ${failure.name} ${dim(`(${where})`)}\n${formatError(failure.error)}\n`;
        failed.push(`${failure.name} (${where})`);
      }
      const printed = file.output.join('').trimEnd();
      if (printed !== '') yield `\n  ${dim('what the file printed:')}\n${printed.replace(/^/gm, '    ')}\n`;
      yield '\n';
    }
    totals.passed += file.passed;
    totals.failed += file.failures.length;
    totals.skipped += file.skipped;
    totals.todo += file.todo;
    files.delete(data.file);
  }
  // The files still going, on the one line that each file's own line then overwrites.
  const running = () => `\r\x1b[K${dim(`  running ${launched.filter((name) => !ended.has(name)).map(shortPath).join(', ')}…`)}`;
  function* settle(upTo) {
    for (const name of launched.slice(0, upTo)) reported.add(name);
    for (const name of [...reported]) {
      if (!ended.has(name)) continue;
      yield* finishFile(ended.get(name));
      ended.delete(name);
      reported.delete(name);
      launched.splice(launched.indexOf(name), 1);
    }
  }

  for await (const { type, data } of source) {
    switch (type) {
      case 'test:dequeue':
        if (data.name !== data.file || data.file === undefined) break;
        launched.push(data.file);
        if (tty) yield running();
        break;
      case 'test:stdout':
      case 'test:stderr':
        fileOf(data.file).output.push(data.message);
        break;
      case 'test:pass':
      case 'test:fail': {
        yield* settle(Math.max(0, launched.indexOf(data.file)));
        const file = fileOf(data.file);
        // Only tests of their own: a test whose subtests failed fails too, but is not another failure.
        const hasSubtests = data.details?.type === 'suite' || data.details?.error?.failureType === 'subtestsFailed';
        if (data.skip !== undefined && data.skip !== false) file.skipped += 1;
        else if (data.todo !== undefined && data.todo !== false) file.todo += 1;
        else if (type === 'test:pass') file.passed += 1;
        else if (!hasSubtests) {
          file.failed += 1;
          file.failures.push({ name: data.name, line: data.line, error: data.details?.error });
        }
        break;
      }
      case 'test:complete': {
        if (data.name !== data.file || data.file === undefined) break;
        ended.set(data.file, data);
        yield* settle(0);
        break;
      }
      default:
        break;
    }
  }
  yield* settle(launched.length);

  const summary = [
    green(`${totals.passed} passed`),
    totals.failed > 0 ? red(`${totals.failed} failed`) : '0 failed',
    totals.skipped > 0 ? yellow(`${totals.skipped} skipped`) : null,
    totals.todo > 0 ? `${totals.todo} todo` : null,
  ].filter((part) => part !== null);
  yield `\n${summary.join(', ')} in ${seconds(Date.now() - started)}\n`;
  if (failed.length > 0) yield `${red('failed:')}\n${failed.map((name) => `  ${name}`).join('\n')}\n`;
}
