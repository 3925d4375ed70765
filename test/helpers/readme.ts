import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's README, which the walk-through and the library example test read as a user does. */
export const README_PATH = fileURLToPath(new URL('../../../README.md', import.meta.url));

export function readReadme(): string[] {
  return readFileSync(README_PATH, 'utf8').split('\n');
}

/** A fenced code block: its info string (`js`, `sh`, or empty) and its lines, with README line numbers (1-based). */
export interface CodeBlock {
  info: string;
  /** The \`## \` heading the block is under. */
  section: string;
  /** The README line of the block's first content line. */
  line: number;
  lines: string[];
}

export function codeBlocks(readme: string[]): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let open: CodeBlock | null = null;
  // A block inside a list item is indented with its fence: its lines are read without that indent.
  let indent = 0;
  let section = '';
  readme.forEach((text, index) => {
    const fence = /^(\s*)```(.*)$/.exec(text);
    if (open === null && text.startsWith('## ')) section = text.slice(3).trim();
    if (fence !== null) {
      if (open === null) {
        open = { info: fence[2]!.trim(), section, line: index + 2, lines: [] };
        indent = fence[1]!.length;
      } else {
        blocks.push(open);
        open = null;
      }
    } else if (open !== null) open.lines.push(text.slice(Math.min(indent, text.length - text.trimStart().length)));
  });
  // An unclosed fence turns the rest of the README inside out (prose read as code and code as prose).
  if (open !== null) throw new Error(`README.md:${(open as CodeBlock).line - 1}: this code block is never closed with \`\`\``);
  return blocks;
}

/**
 * One `$ command` of a README session, what the README shows it printing, and the exit code it shows
 * (`# exit N`; a command shown without one must succeed).
 */
export interface ShellExample {
  /** README line of the `$`. */
  line: number;
  section: string;
  command: string;
  expected: { line: number; text: string }[];
  /** Null for a backgrounded command (`&`), whose exit nobody waits for. */
  exit: number | null;
}

/**
 * Every `$ ` line in a fenced block, in README order. A command continues on the next line after a trailing
 * backslash; its output runs to the next `$ `, a `# exit N` line or the block's end.
 */
export function shellExamples(readme: string[]): ShellExample[] {
  const examples: ShellExample[] = [];
  for (const block of codeBlocks(readme)) {
    let current: ShellExample | null = null;
    let continues = false;
    block.lines.forEach((text, index) => {
      const line = block.line + index;
      if (continues && current !== null) {
        current.command += `\n${text}`;
        continues = text.endsWith('\\');
        return;
      }
      if (text.startsWith('$ ')) {
        const command = text.slice(2);
        current = { line, section: block.section, command, expected: [], exit: isBackgrounded(command) ? null : 0 };
        examples.push(current);
        continues = command.endsWith('\\');
        return;
      }
      if (current === null) return;
      const exit = /^# exit (\d+)\s*$/.exec(text);
      if (exit !== null) {
        current.exit = Number(exit[1]);
        current = null;
      } else current.expected.push({ line, text });
    });
  }
  return examples;
}

/** `cmd &`, but not `a && b`. */
export function isBackgrounded(command: string): boolean {
  return /(^|[^&])&\s*$/.test(command);
}
