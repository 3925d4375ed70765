import { createRequire } from 'node:module';
import type { Builder } from 'junit-report-builder';
import type { CheckResult } from '../contract/index.js';
import { caseLabel } from '../contract/index.js';

/**
 * The package's types declare an ES default export, but under Node's ESM its CommonJS entry hands over
 * module.exports, which is the builder itself; requiring it gives the value the types describe. Required on
 * first use, not at import: it weighs ~24 MB (lodash, xmlbuilder) that every other command would carry.
 */
function junitBuilder(): Builder {
  return createRequire(import.meta.url)('junit-report-builder') as Builder;
}

const CLASS_NAME = 'confirm-sim.check';

/**
 * The check as JUnit XML, the format GitHub Actions, GitLab and Jenkins all read: one testsuite, one
 * testcase per case named "<id> <name>" (stable across versions, so CI keeps each case's history), a
 * <failure> with the message for failed cases and <skipped/> with the reason in system-out for skipped ones.
 */
export function renderJunit(result: CheckResult): string {
  const builder = junitBuilder().newBuilder();
  const suite = builder
    .testSuite()
    .name(`confirm-sim check ${result.target.url}`)
    .timestamp(new Date(result.startedAt))
    .time(result.durationMs / 1000)
    .property('url', result.target.url)
    .property('dialect', result.target.dialect)
    .property('strict', String(result.strict));
  for (const caseResult of result.cases) {
    const testCase = suite
      .testCase()
      .className(CLASS_NAME)
      .name(caseLabel(caseResult))
      .time(caseResult.durationMs / 1000);
    switch (caseResult.status) {
      case 'failed':
        testCase.failure(caseResult.message, 'contract').standardOutput(`${caseResult.title}\n${JSON.stringify(caseResult.details, null, 2)}`);
        break;
      case 'skipped':
        testCase.skipped().standardOutput(`skipped: ${caseResult.message}`);
        break;
      case 'warning':
        testCase.standardOutput(`warning: ${caseResult.message}\n${JSON.stringify(caseResult.details, null, 2)}`);
        break;
      case 'passed':
        testCase.standardOutput(caseResult.message);
        break;
    }
  }
  return `${builder.build()}\n`;
}
