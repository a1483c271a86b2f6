import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { runCli } from '../harness/cli/main.js';
import type { CliIO } from '../harness/cli/io.js';
import { renderHtml, resultRows } from '../reports/html.js';
import { parseRunRecord } from '../reports/run-record.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');

// Debian's chromium package; .ci/run installs it. Without it the browser check cannot run here.
describe.skipIf(!existsSync(CHROMIUM))('the HTML report in a real browser (headless Chromium)', () => {
  it('shows the verdict, one row per gate and hypothesis, fault shading on every chart, and fetches nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-report-'));
    const quiet: CliIO = { stdout: () => undefined, stderr: () => undefined, env: {}, isTTY: false, cwd: dir };
    expect(await runCli(['gameday', 'run', join(ROOT, 'examples', 'shop', 'gameday.yaml'), '--out', 'run'], quiet)).toBe(0);
    const record = parseRunRecord(JSON.parse(await readFile(join(dir, 'run', 'run.json'), 'utf8')));
    const page = join(dir, 'report.html');
    await writeFile(page, renderHtml(record));

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const tab = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      tab.on('request', (r) => requests.push(r.url()));
      await tab.goto(pathToFileURL(page).href);

      const verdict = await tab.locator('header.banner h1').textContent();
      const rows = await tab.locator('tr.result-row').count();
      const charts = await tab.locator('figure.chart').count();
      const shaded = await tab.locator('figure.chart').evaluateAll((figures) => figures.map((f) => f.querySelectorAll('rect.fault-window').length));
      const lines = await tab.locator('figure.chart polyline.series').count();
      await mkdir(ARTIFACTS, { recursive: true });
      await tab.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });

      expect(verdict).toBe('PASS');
      expect(rows).toBe(resultRows(record).length);
      expect(charts).toBe(record.series!.length);
      expect(charts).toBeGreaterThan(0);
      expect(shaded.every((n) => n === record.faults!.length)).toBe(true);
      expect(lines).toBeGreaterThanOrEqual(charts);
      expect(requests).toEqual([pathToFileURL(page).href]);
    } finally {
      await browser.close();
    }
  });

  it('renders names with <script>, | and backticks as text, and runs no script', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-report-'));
    const record = parseRunRecord({
      schemaVersion: '1.1',
      runId: 'evil',
      kind: 'rollout-gate',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:10:00.000Z',
      inputs: { repo: '.', files: [] },
      cluster: { provider: 'embedded', mesh: { name: 'istio', mode: 'sidecar' } },
      timeline: [{ at: '2026-01-01T00:00:00.000Z', type: 'decision', message: '<img src=x onerror="document.title=1">' }],
      gates: [{ name: '<script>document.title="pwned"</script>|`x`', key: true, sli: 'success-rate', scope: {}, objective: '>= 99%', source: 'mesh', state: 'failed', reason: 'r', measurements: [] }],
      requirements: [],
      decision: { verdict: 'revert', reasons: ['<b>bold</b>'], fromStage: 1, toStage: 0 },
    });
    const page = join(dir, 'evil.html');
    await writeFile(page, renderHtml(record));

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const tab = await browser.newPage();
      await tab.goto(pathToFileURL(page).href);

      expect(await tab.title()).toBe('meshdrill rollout-gate evil: REVERT');
      expect(await tab.locator('tr.result-row td').nth(1).textContent()).toBe('<script>document.title="pwned"</script>|`x`');
      expect(await tab.locator('script, img').count()).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
