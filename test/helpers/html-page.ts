import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import type { PageModel } from '../../src/reporters/html/index.js';

const CHROMIUM = '/usr/bin/chromium';
/** The flags this machine's notes give for headless Chromium on a closed network (no background requests). */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** A fresh browser with an empty profile; fails, not skips, when Chromium is missing. */
export async function browser(t: TestContext): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    assert.fail(`${CHROMIUM} is missing: install Debian's chromium (apt-get update && apt-get install -y chromium); .ci/run does this in CI`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'confirm-sim-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1200, height: 900 } });
  t.after(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  return context;
}

export interface Opened {
  model: PageModel;
  /** Per chart id: pixels of the chart's canvas in the colours of its data series (limits left out). */
  inked: Record<string, number>;
  text: string;
}

/**
 * Opens a page file the way a person would (file://), records every console error, page error and request
 * other than the file itself, and counts, per chart, the pixels its data series drew on its canvas.
 */
export async function openPage(context: BrowserContext, file: string, screenshot?: string): Promise<Opened> {
  const page = await context.newPage();
  const problems: string[] = [];
  const fileUrl = pathToFileURL(file).href;
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    if (request.url() !== fileUrl) problems.push(`request: ${request.url()}`);
  });
  await page.goto(fileUrl, { waitUntil: 'load' });
  const model = JSON.parse((await page.textContent('#report-data')) ?? 'null') as PageModel;
  await page.waitForFunction(`document.body.dataset.charts === '${model.charts.length}'`, undefined, { timeout: 10_000 });
  const inked: Record<string, number> = {};
  for (const chart of model.charts) {
    const colors = chart.series.filter((series) => series.style !== 'dash').map((series) => series.color);
    // Runs in the page: the test's own compiler knows no DOM, so the function is given as text.
    inked[chart.id] = (await page.evaluate(`(() => {
      const canvas = document.querySelector('#chart-${chart.id} canvas');
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      const wanted = ${JSON.stringify(colors)}.map((hex) => [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16)));
      let inked = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] > 200 && wanted.some(([r, g, b]) => Math.abs(pixels[i] - r) < 24 && Math.abs(pixels[i + 1] - g) < 24 && Math.abs(pixels[i + 2] - b) < 24)) inked++;
      }
      return inked;
    })()`)) as number;
  }
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  const text = (await page.textContent('body')) ?? '';
  await page.close();
  assert.deepEqual(problems, [], `${file}: the page must load with no console error and no request`);
  return { model, inked, text };
}

export function assertChartsDrew(opened: Opened, expected: string[]): void {
  assert.deepEqual(opened.model.charts.map((chart) => chart.id), expected);
  for (const id of expected) assert.ok((opened.inked[id] ?? 0) > 30, `chart ${id} drew its series (${opened.inked[id]} pixels in their colours)`);
}
