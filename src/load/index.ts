export { LedgerWriteError, runBurst } from './burst.js';
export type { BurstRunHooks } from './burst.js';
export {
  resolveBurstPlan,
  parseShard,
  parseStartAt,
  parseHeader,
  DEFAULT_AMOUNT,
  DEFAULT_P99_BUDGET_MS,
  DEFAULT_STRANDED_WAIT_MS,
  DEFAULT_FAIRNESS_WINDOW_MS,
  DEFAULT_MERCHANT_UID_TEMPLATE,
} from './options.js';
export type { BurstOptions, BurstPlan, ShardSpec } from './options.js';
export { SliceEngine, Counter, COUNTER_SLOTS } from './engine.js';
export type { SliceEngineOptions, SliceMeasurements } from './engine.js';
export { OutcomeStore, Outcome as RequestOutcome, OUTCOME_NAMES, Flag as RequestFlag } from './outcomes.js';
export { ARRIVAL_MODES, MerchantUidTemplate, sliceOf, wholeRun } from './schedule.js';
export type { ArrivalMode, SliceSpec } from './schedule.js';
export { ConfirmRequestBuilder } from './requests.js';
export { mergeBurstReports } from './merge.js';
export { readBurstReport, burstReportProblem } from './report-file.js';
export { writeLedger } from './ledger.js';
export { ensureWritable } from '../util/files.js';
export { readLedger, LEDGER_SUMMARY_KIND } from './ledger-read.js';
export type { LedgerSummary } from './ledger-read.js';
export { timelineBucketMs, MAX_TIMELINE_BUCKETS } from './timeline.js';
export type { LedgerEntry } from './ledger.js';
export { readDescriptorBudget } from './fd-limit.js';
export type { DescriptorBudget } from './fd-limit.js';
export { BURST_REPORT_SCHEMA_VERSION, BURST_REPORT_KIND, WARNING_CODES } from './report.js';
export type { BurstReport, BurstWarning, WarningCode, LatencySummary, RefusalReasonSummary } from './report.js';
export type { BurstTimeline, StockOutMarks, ShardTimeline, PaymentsTimeline } from './report.js';
export { BURST_PHASES } from './events.js';
export type { BurstEvents, BurstPhase, BurstProgress, BurstStart, SetupProgress } from './events.js';
