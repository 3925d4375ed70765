import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UsageError } from '../../util/errors.js';
import type { BurstReport } from '../../load/report.js';
import type { LedgerSummary } from '../../load/ledger-read.js';
import { maskUrl } from '../../util/url.js';
import { writeReport } from '../json.js';
import { ledgerPageModel, reportPageModel } from './model.js';
import type { PageModel } from './page-model.js';

export type { PageModel, PageTruth, TruthRow } from './page-model.js';

const require = createRequire(import.meta.url);
const { version: VERSION } = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** What the page inlines, read once: uPlot from node_modules (never a CDN) and our own drawing script. */
let assets: { uplotJs: string; uplotCss: string; pageJs: string } | null = null;

function loadAssets(): NonNullable<typeof assets> {
  assets ??= {
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    pageJs: readFileSync(new URL('./client/page.js', import.meta.url), 'utf8'),
  };
  return assets;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Inline script text must not close its own element: `</script` and `<!--` are broken up. */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON inside a script block: every `<` escaped, so merchant-written text cannot end the block. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
:root { color-scheme: light; --green: #1f9d3a; --red: #d0342c; --yellow: #b07800; --dim: #6b7280; --ink: #1f2328; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 18px; margin: 0 0 12px; }
h2 { font-size: 15px; margin: 0 0 2px; }
.verdict { background: #16181d; color: #e6e6e6; border-radius: 8px; padding: 14px 18px; font: 13px/1.6 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-x: auto; }
.verdict .pass { color: #3fcf5e; font-weight: 700; } .verdict .fail { color: #ff5a52; font-weight: 700; } .verdict .none { color: #9aa3ad; font-weight: 700; }
.verdict .mark { color: #ff5a52; } .verdict .kind { font-weight: 700; display: inline-block; min-width: 15ch; }
.verdict .dim { color: #8b949e; } .verdict .warn { color: #e3b341; }
.verdict div { white-space: pre-wrap; }
section.chart-box { background: #fff; border: 1px solid #e3e6ea; border-radius: 8px; padding: 14px 16px; margin-top: 16px; }
.caption { color: var(--dim); margin: 0 0 8px; font-size: 13px; }
.chart { width: 100%; min-height: 320px; }
table.facts { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #e3e6ea; border-radius: 8px; margin-top: 16px; }
table.facts th { text-align: left; vertical-align: top; white-space: nowrap; color: var(--dim); font-weight: 500; padding: 6px 14px; width: 1%; }
table.facts td { padding: 6px 14px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-word; }
table.facts tr + tr th, table.facts tr + tr td { border-top: 1px solid #f0f1f3; }
section.truth { margin-top: 16px; }
section.truth table.facts { margin-top: 6px; }
section.truth tr.bad td .value { color: var(--red); font-weight: 700; }
section.truth tr.good td .value { color: var(--green); }
section.truth .examples { color: var(--dim); }
footer { color: var(--dim); font-size: 12px; margin-top: 20px; }
.uplot .u-legend { font-size: 12px; }
`;

function verdictBlock(model: PageModel): string {
  const head = model.pass === null ? '<span class="none">NO VERDICT</span>' : model.pass ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>';
  const lines = [`<div>${head} ${escapeHtml(model.summary)}</div>`];
  for (const problem of model.problems) {
    const examples = problem.examples.length > 0 ? ` <span class="dim">e.g. ${escapeHtml(problem.examples.join(', '))}</span>` : '';
    lines.push(
      `<div class="problem">  <span class="mark">✗</span> <span class="kind">${escapeHtml(problem.kind)}</span> ` +
        `<span class="count">${problem.count.toLocaleString('en-US')}</span> · ${escapeHtml(problem.message)}${examples}</div>`,
    );
  }
  for (const note of model.notes) lines.push(`<div class="dim">  - ${escapeHtml(note)}</div>`);
  for (const warning of model.warnings) lines.push(`<div>  <span class="warn">warning ${escapeHtml(warning.code)}:</span> ${escapeHtml(warning.message)}</div>`);
  return `<div class="verdict" id="verdict">${lines.join('\n')}</div>`;
}

function truthBlock(model: PageModel): string {
  const truth = model.truth;
  if (truth === null) return '';
  const rows = truth.rows.map((row) => {
    const mark = row.bad === null ? '' : row.bad ? ' class="bad"' : ' class="good"';
    const examples = row.examples.length > 0 ? ` <span class="examples">e.g. ${escapeHtml(row.examples.join(', '))}</span>` : '';
    return `<tr${mark}><th>${escapeHtml(row.label)}</th><td><span class="value">${escapeHtml(row.value)}</span>${examples}</td></tr>`;
  });
  return (
    `<section class="truth" id="truth"><h2>${escapeHtml(truth.title)}</h2><p class="caption">${escapeHtml(truth.caption)}</p>` +
    `<table class="facts">${rows.join('')}</table></section>`
  );
}

function chartBlocks(model: PageModel): string {
  return model.charts
    .map(
      (chart) =>
        `<section class="chart-box"><h2>${escapeHtml(chart.title)}</h2><p class="caption">${escapeHtml(chart.caption)}</p>` +
        `<div class="chart" id="chart-${escapeHtml(chart.id)}"></div></section>`,
    )
    .join('\n');
}

function factsTable(model: PageModel): string {
  const rows = model.facts.map((fact) => `<tr><th>${escapeHtml(fact.label)}</th><td>${escapeHtml(fact.value)}</td></tr>`);
  return `<table class="facts" id="facts">${rows.join('')}</table>`;
}

/** The page around a model: one file, everything inlined, a policy that forbids any request. */
export function renderPage(model: PageModel): string {
  const { uplotJs, uplotCss, pageJs } = loadAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${escapeHtml(model.title)}</title>
<style>${uplotCss}${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(model.title)}</h1>
${verdictBlock(model)}
${truthBlock(model)}
${chartBlocks(model)}
${factsTable(model)}
<footer>${escapeHtml(model.footer)} · charts by uPlot (MIT)</footer>
</main>
<script type="application/json" id="report-data">${inlineJson(model)}</script>
<script>${inlineScript(uplotJs)}</script>
<script type="module">${inlineScript(pageJs)}</script>
</body>
</html>
`;
}

/**
 * A burst report (`burst --json`, `merge --json`) or a ledger's summary as one self-contained HTML page:
 * verdict and problems first, then the sale, latency and answers over time, then every fact the report
 * holds. Opens offline; sends no request.
 */
export function renderHtmlReport(source: BurstReport | LedgerSummary): string {
  const options = { maskUrl, version: VERSION };
  return renderPage(source.kind === 'confirm-sim.ledger' ? ledgerPageModel(source, options) : reportPageModel(source, options));
}

/**
 * The page is a file to open and share, never mixed into stdout with a summary or JSON. `what` names the
 * path in a refusal: the CLI's --html, or the library's argument.
 */
export function htmlPath(path: string, what = 'path'): string {
  if (path === '-' || path.trim() === '') throw new UsageError(`${what}: give a file to write the page to, e.g. sale.html`);
  return path;
}

export async function writeHtmlReport(source: BurstReport | LedgerSummary, path: string, what = 'path'): Promise<number> {
  const page = renderHtmlReport(source);
  await writeReport(page, { path: htmlPath(path, what), stream: process.stdout }, what);
  return Buffer.byteLength(page);
}
