import { writeFileSync } from 'node:fs';

/**
 * Preloaded with `node --import` into a process the bench measures: on exit it writes the process's peak
 * resident set size, in bytes, to the file named by the environment variable, which the bench reads back.
 * getrusage's figure is the kernel's high-water mark, so no sampling can miss a short peak.
 */
export const PEAK_RSS_FILE_ENV = 'CONFIRM_SIM_BENCH_PEAK_RSS_FILE';

const target = process.env[PEAK_RSS_FILE_ENV];
if (target !== undefined && target !== '') {
  process.once('exit', () => writeFileSync(target, String(process.resourceUsage().maxRSS * 1024)));
}
