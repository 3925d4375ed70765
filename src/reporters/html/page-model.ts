/**
 * What the HTML page's script receives: chart data already aggregated in Node, so the page does no
 * statistics and stays small. Shared by the renderer and the browser script (src/reporters/html/client),
 * which is why this file imports nothing.
 */

/** A uPlot series: its label, unit and how to draw it. */
export interface ChartSeries {
  label: string;
  /** A CSS colour. */
  color: string;
  values: Array<number | null>;
  /** 'step' for per-bucket counts, 'line' for cumulative counts and levels, 'dash' for limits, 'points' for readings taken now and then. */
  style: 'step' | 'line' | 'dash' | 'points';
  /** Join the line across empty buckets (latency: a bucket without answers has no percentile). */
  spanGaps?: boolean;
  /** Which y axis: 0 left, 1 right. */
  axis?: 0 | 1;
}

/** A vertical marker across a chart, e.g. the moment the stock ran out. */
export interface ChartMarker {
  x: number;
  label: string;
  color: string;
}

export interface ChartModel {
  id: string;
  title: string;
  /** One line under the title: what the chart shows and how to read it. */
  caption: string;
  /** 'time' (x in ms since start), or 'percentile' (x = log10(1 / (1 - p)), labelled as percentiles). */
  xKind: 'time' | 'percentile';
  xLabel: string;
  yLabels: [string] | [string, string];
  /** Latency spans decades: a log y axis keeps p50 visible under a timeout line. */
  yLog: boolean;
  x: number[];
  series: ChartSeries[];
  markers: ChartMarker[];
}

export interface PageProblem {
  kind: string;
  count: number;
  message: string;
  examples: string[];
}

/** One figure of a run's truth: what the gateway holds, or a finding counted against it. */
export interface TruthRow {
  label: string;
  value: string;
  /** true: a finding the merchant must fix; false: a finding it kept clear of; null: a plain figure. */
  bad: boolean | null;
  /** A few merchant_uids to look up (the gateway's payment view, the ledger). */
  examples: string[];
}

/** Manual confirm's truth, beside the charts: payments confirmed against the stock and what buyers were told. */
export interface PageTruth {
  title: string;
  caption: string;
  rows: TruthRow[];
}

export interface PageModel {
  title: string;
  /** null when the source holds no verdict (a ledger). */
  pass: boolean | null;
  summary: string;
  problems: PageProblem[];
  notes: string[];
  warnings: Array<{ code: string; message: string }>;
  /** Manual-confirm runs and ledgers; null otherwise. */
  truth: PageTruth | null;
  facts: Array<{ label: string; value: string }>;
  charts: ChartModel[];
  footer: string;
}
