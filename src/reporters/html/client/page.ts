/// <reference types="uplot" />
/**
 * The report page's own script, inlined after uPlot: it reads the page model from the JSON block and draws
 * each chart. Everything was aggregated in Node; this only draws, so the page stays small and fast.
 */
import type { ChartModel, ChartSeries, PageModel } from '../page-model.js';

const CHART_HEIGHT = 320;
/** Tick labels for the percentile axis, at x = log10(1 / (1 - p)). */
const PERCENTILE_LABELS = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%', '99.9999%'];

function formatNumber(value: number): string {
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10 || Number.isInteger(value)) return String(Math.round(value * 10) / 10);
  return value.toPrecision(3);
}

function percentileOf(x: number): string {
  const p = 100 * (1 - 10 ** -x);
  return `${p >= 99.99 ? p.toFixed(4) : p >= 99 ? p.toFixed(2) : p.toFixed(1)}%`;
}

function seriesOptions(series: ChartSeries, unit: string): uPlot.Series {
  return {
    label: series.label,
    stroke: series.color,
    width: series.style === 'dash' ? 1.5 : 2,
    dash: series.style === 'dash' ? [6, 4] : [],
    scale: series.axis === 1 ? 'y2' : 'y',
    paths: series.style === 'step' ? uPlot.paths.stepped!({ align: 1 }) : series.style === 'points' ? () => null : uPlot.paths.linear!(),
    points: series.style === 'points' ? { show: true, size: 7, fill: series.color } : { show: false },
    spanGaps: series.spanGaps === true,
    value: (_u, value) => (value === null || value === undefined ? '-' : `${formatNumber(value)}${unit}`),
  };
}

/** Vertical lines with their labels, staggered so that close ones stay readable. */
function drawMarkers(u: uPlot, chart: ChartModel): void {
  const ctx = u.ctx;
  const ratio = window.devicePixelRatio || 1;
  chart.markers.forEach((marker, index) => {
    const x = Math.round(u.valToPos(marker.x, 'x', true));
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
    ctx.save();
    ctx.strokeStyle = marker.color;
    ctx.fillStyle = marker.color;
    ctx.lineWidth = 1.5 * ratio;
    ctx.setLineDash([3 * ratio, 3 * ratio]);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.font = `${11 * ratio}px system-ui, sans-serif`;
    const width = ctx.measureText(marker.label).width;
    const right = x + 4 * ratio + width > u.bbox.left + u.bbox.width;
    ctx.textAlign = right ? 'right' : 'left';
    ctx.fillText(marker.label, right ? x - 4 * ratio : x + 4 * ratio, u.bbox.top + (14 + 14 * index) * ratio);
    ctx.restore();
  });
}

function unitOf(label: string): string {
  return /\bms\b/.test(label) ? ' ms' : '';
}

function draw(chart: ChartModel, element: HTMLElement): uPlot {
  const percentile = chart.xKind === 'percentile';
  const leftUnit = unitOf(chart.yLabels[0]);
  const rightUnit = chart.yLabels[1] === undefined ? '' : unitOf(chart.yLabels[1]);
  const axes: uPlot.Axis[] = [
    {
      label: chart.xLabel,
      ...(percentile
        ? {
            splits: (u: uPlot) => {
              const max = u.scales.x!.max ?? 1;
              return Array.from({ length: Math.floor(max) + 1 }, (_, i) => i);
            },
            values: (_u: uPlot, splits: number[]) => splits.map((split) => PERCENTILE_LABELS[split] ?? percentileOf(split)),
          }
        : {}),
    },
    { label: chart.yLabels[0], scale: 'y', size: 64 },
  ];
  if (chart.yLabels[1] !== undefined) axes.push({ label: chart.yLabels[1], scale: 'y2', side: 1, grid: { show: false }, size: 64 });
  const options: uPlot.Options = {
    width: Math.max(320, element.clientWidth),
    height: CHART_HEIGHT,
    scales: {
      x: { time: false },
      y: chart.yLog ? { distr: 3, log: 10 } : { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.05 : 1] },
      y2: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.05 : 1] },
    },
    axes,
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    series: [
      { label: percentile ? 'percentile' : chart.xLabel, value: (_u, value) => (value === null || value === undefined ? '-' : percentile ? percentileOf(value) : formatNumber(value)) },
      ...chart.series.map((series) => seriesOptions(series, series.axis === 1 ? rightUnit : leftUnit)),
    ],
    hooks: { draw: [(u) => drawMarkers(u, chart)] },
  };
  const data = [chart.x, ...chart.series.map((series) => series.values)] as uPlot.AlignedData;
  return new uPlot(options, data, element);
}

function main(): void {
  const source = document.getElementById('report-data');
  if (!source?.textContent) return;
  const model = JSON.parse(source.textContent) as PageModel;
  const plots: uPlot[] = [];
  for (const chart of model.charts) {
    const element = document.getElementById(`chart-${chart.id}`);
    if (!element) continue;
    plots.push(draw(chart, element));
    element.dataset.drawn = 'true';
  }
  window.addEventListener('resize', () => {
    for (const plot of plots) plot.setSize({ width: Math.max(320, plot.root.parentElement?.clientWidth ?? 320), height: CHART_HEIGHT });
  });
  document.body.dataset.charts = String(plots.length);
}

main();
