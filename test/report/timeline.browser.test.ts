/**
 * timeline.html in a real browser (Debian chromium, headless, driven by playwright-core):
 * lanes, fault shading and violation markers are there, markers jump to their events, zoom
 * works, the DOM stays bounded at 5,000+ events, and the page fetches nothing but itself.
 * A screenshot of the failing run goes to test-output/timeline.png for people to look at.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRunReport } from '../../src/report/index.ts';
import { type SyntheticOptions, syntheticRun } from './helpers/synthetic.ts';
import { useTmpDir } from './helpers/tmp.ts';

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium phones home, which the closed network refuses.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = resolve('test-output/timeline.png');
// Browser-side code is passed as strings: the project's tsconfig has no DOM lib, on purpose.
const DOM_SIZE = "document.getElementsByTagName('*').length";
const tmp = useTmpDir('report-browser');

let browser: Browser | null = null;
const MISSING = `${CHROMIUM} not found: run scripts/setup.sh (installs the chromium Debian package)`;

beforeAll(async () => {
  if (existsSync(CHROMIUM))
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
});

/** Every test fails (never skips) with the setup hint when the browser is missing. */
function requireBrowser(): Browser {
  if (!browser) throw new Error(MISSING);
  return browser;
}

interface Opened {
  page: Page;
  context: BrowserContext;
  url: string;
  requests: string[];
  errors: string[];
  cspViolations: () => Promise<string[]>;
  run: ReturnType<typeof syntheticRun>;
}

async function openReport(scenario: string, opts: SyntheticOptions): Promise<Opened> {
  const run = syntheticRun(opts);
  const { dir } = await writeRunReport(
    {
      scenario,
      executor: 'sim',
      history: run.history,
      verdict: run.verdict,
      startedAt: new Date('2026-11-24T06:30:00.123Z'),
      wallSeconds: 1.4,
    },
    { reportsRoot: join(tmp(), 'reports') },
  );
  const context = await requireBrowser().newContext({ viewport: { width: 1500, height: 1080 } });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  // Every request of the context (page, frames, workers), including ones that would fail.
  context.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(String(e)));
  // The page's CSP blocks external fetches before they become requests; record any attempt.
  await page.addInitScript(
    "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
  );
  const url = pathToFileURL(join(dir, 'timeline.html')).href;
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
  return {
    page,
    context,
    url,
    requests,
    errors,
    run,
    cspViolations: () => page.evaluate<string[]>('window.__csp'),
  };
}

const LANES = [
  'lane-role-a',
  'lane-role-b',
  'lane-epoch-a',
  'lane-epoch-b',
  'lane-authority-a',
  'lane-authority-b',
  'lane-writes-a',
  'lane-writes-b',
  'lane-lease',
  'lane-witness-w1',
  'lane-witness-w2',
  'lane-witness-w3',
  'lane-dns-w1',
  'lane-dns-w2',
  'lane-dns-w3',
];

describe('timeline.html in headless Chromium', () => {
  it('has Chromium to test with', () => {
    expect(existsSync(CHROMIUM), MISSING).toBe(true);
  });

  it('a failing run: lanes, fault shading, violation markers linked to their events, no network', async () => {
    const o = await openReport('isolate-primary', { violation: true });
    const { page } = o;
    try {
      expect(await page.getByTestId('status').textContent()).toBe('FAILED');
      for (const lane of LANES) {
        const box = await page.getByTestId(lane).boundingBox();
        expect(box, lane).not.toBeNull();
        expect(box!.width, `${lane} has visible content`).toBeGreaterThan(1);
      }
      // Role lane of a: primary, then fenced, then standby, as drawn bars.
      const roles = await page
        .getByTestId('lane-role-a')
        .locator('rect')
        .evaluateAll((els) => els.map((e) => e.getAttribute('class')));
      expect(roles).toEqual(
        expect.arrayContaining(['role role-primary', 'role role-fenced', 'role role-standby']),
      );

      // The fault window covers 10 s – 30 s of the time axis and every lane vertically.
      const faults = page.getByTestId('fault-window');
      expect(await faults.count()).toBe(1);
      const shade = await faults.locator('rect.fault-shade').boundingBox();
      const chart = await page.locator('#chart').boundingBox();
      const data = await page.evaluate<{ t0: number; t1: number }>(
        "JSON.parse(document.getElementById('timeline-data').textContent)",
      );
      const pxPerMs = chart!.width / (data.t1 - data.t0);
      expect(shade!.x - chart!.x).toBeCloseTo(10_000 * pxPerMs, -1);
      expect(shade!.width).toBeCloseTo(20_000 * pxPerMs, -1);
      for (const lane of ['lane-role-a', 'lane-dns-w3']) {
        const box = (await page.getByTestId(lane).boundingBox())!;
        expect(shade!.y).toBeLessThanOrEqual(box.y);
        expect(shade!.y + shade!.height).toBeGreaterThanOrEqual(box.y + box.height - 12);
      }

      const markers = page.getByTestId('violation-marker');
      expect(await markers.count()).toBe(o.run.verdict.violations.length);
      await mkdir(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
      const png = await readFile(SCREENSHOT);
      expect(png.subarray(1, 4).toString()).toBe('PNG');

      // Clicking a marker shows its first event's row, with the event JSON, in the table.
      const first = [...o.run.verdict.violations].sort((a, b) => a.at - b.at)[0]!;
      const seq = first.events[0]!;
      await markers.first().click();
      const row = page.locator(`#ev-${seq}`);
      await expect.poll(() => row.isVisible()).toBe(true);
      expect(await row.getAttribute('class')).toContain('target');
      const event = o.run.history.find((e) => e.seq === seq)!;
      expect(await row.locator('td.json').textContent()).toBe(JSON.stringify(event));
      expect(await page.evaluate<string>('location.hash')).toBe(`#ev-${seq}`);

      // Zoom in twice: the chart is 4x wider, the shading scales with it, the labels stay.
      const fitWidth = chart!.width;
      await page.getByTestId('zoom-in').click();
      await page.getByTestId('zoom-in').click();
      const zoomed = (await page.locator('#chart').boundingBox())!;
      expect(zoomed.width).toBeCloseTo(fitWidth * 4, -1);
      const zoomedShade = (await faults.locator('rect.fault-shade').boundingBox())!;
      expect(zoomedShade.width).toBeCloseTo(shade!.width * 4, -1);
      expect(await page.locator('#zoom-level').textContent()).toBe('4.0x');
      await page.getByTestId('zoom-fit').click();
      expect((await page.locator('#chart').boundingBox())!.width).toBeCloseTo(fitWidth, -1);

      expect(o.errors).toEqual([]);
      expect(await o.cspViolations()).toEqual([]);
      expect(o.requests).toEqual([o.url]);
    } finally {
      await o.context.close();
    }
  });

  it('a passing run has the lanes and the fault shading but no violation marker', async () => {
    const o = await openReport('isolate-primary-ok', {});
    try {
      expect(await o.page.getByTestId('status').textContent()).toBe('PASSED');
      for (const lane of LANES) expect(await o.page.getByTestId(lane).count(), lane).toBe(1);
      expect(await o.page.getByTestId('fault-window').count()).toBe(1);
      expect(await o.page.getByTestId('violation-marker').count()).toBe(0);
      expect(await o.page.locator('tr.violating').count()).toBe(0);
      expect(o.errors).toEqual([]);
      expect(o.requests).toEqual([o.url]);
    } finally {
      await o.context.close();
    }
  });

  it('stays bounded and navigable with a 5,000+ event history', async () => {
    const o = await openReport('dense-writes', { violation: true, writeIntervalMs: 15 });
    const { page } = o;
    try {
      const total = o.run.history.length;
      expect(total).toBeGreaterThan(5000);
      const domElements = await page.evaluate<number>(DOM_SIZE);
      expect(domElements).toBeLessThan(4000);
      expect(await page.getByTestId('event-row').count()).toBe(100);
      expect(await page.locator('#page-info').textContent()).toContain(`of ${total} events`);

      // Write bins: bounded by the visible width, and they account for writes in view.
      const bins = await page.locator('#writes-a rect').count();
      const width = (await page.locator('#chart').boundingBox())!.width;
      expect(bins).toBeLessThanOrEqual(2 * Math.ceil(width / 4) + 2);
      expect(bins).toBeGreaterThan(50);
      await page.getByTestId('zoom-in').click();
      for (let i = 0; i < 5; i++) await page.getByTestId('zoom-in').click();
      expect(await page.locator('#writes-a rect').count()).toBeLessThanOrEqual(
        2 * Math.ceil((3 * 1500) / 4) + 2,
      );
      expect(await page.evaluate<number>(DOM_SIZE)).toBeLessThan(6000);

      // Deep links reach any page of the table; filters narrow it.
      const lastSeq = o.run.history[total - 1]!.seq;
      await page.evaluate(`location.hash = '#ev-${lastSeq}'`);
      await expect.poll(() => page.locator(`#ev-${lastSeq}`).isVisible()).toBe(true);
      await page.selectOption('#filter-kind', 'fault');
      expect(await page.getByTestId('event-row').count()).toBe(2);
      await page.selectOption('#filter-kind', '');
      await page.check('#filter-flagged');
      const flagged = new Set(o.run.verdict.violations.flatMap((v) => v.events));
      expect(await page.getByTestId('event-row').count()).toBe(Math.min(100, flagged.size));

      expect(o.errors).toEqual([]);
      expect(o.requests).toEqual([o.url]);
    } finally {
      await o.context.close();
    }
  });
});
