import chalk, { Chalk, type ChalkInstance, type ColorSupportLevel } from 'chalk';

/** Colour only for a person at a terminal: never in pipes or CI logs, never when NO_COLOR is set. */
export function terminalChalk(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): ChalkInstance {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const wanted = !noColor && (forced || stream.isTTY === true);
  // chalk's own level reflects process.stdout, which is not the stream being written when run in-process.
  const level: ColorSupportLevel = wanted ? (chalk.level === 0 ? 1 : chalk.level) : 0;
  return new Chalk({ level });
}
