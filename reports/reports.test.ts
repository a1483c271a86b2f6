import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli, captureIO } from '../test/helpers/cli.js';
import { MAX_EVENTS, renderHtml, resultRows } from './html.js';
import { renderJunit } from './junit.js';
import { GITHUB_BODY_LIMIT, renderMarkdown } from './markdown.js';
import { parseRunRecord } from './run-record.js';
import { sampleRecord } from './sample-record.js';
import { renderTrend, sparkline } from './trend.js';

const run = promisify(execFile);
const XSD = join(import.meta.dirname, '..', 'test', 'fixtures', 'junit', 'junit.xsd');
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
const EVIL = (i: number) => (i === 0 ? '<script>alert(1)</script> | `rm -rf` [x](http://evil)' : `success-rate ns-${i}`);

describe('reading run records', () => {
  it('refuses truncated, hand-broken and unknown-version records with errors that say which and why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-records-'));
    const good = JSON.stringify(sampleRecord({ series: 1, hours: 0.1 }));
    await writeFile(join(dir, 'truncated.json'), good.slice(0, 200));
    await writeFile(join(dir, 'future.json'), JSON.stringify({ ...JSON.parse(good), schemaVersion: '2.0' }));
    await writeFile(join(dir, 'edited.json'), JSON.stringify({ ...JSON.parse(good), outcome: { verdict: 'maybe', reasons: [] } }));
    const results: Array<[number, string]> = [];

    for (const file of ['truncated.json', 'future.json', 'edited.json']) {
      const io = captureIO(dir);
      results.push([await runCli(['report', file], io), io.err.join('')]);
    }

    expect(results[0]![0]).toBe(2);
    expect(results[0]![1]).toMatch(/^meshdrill: truncated\.json: not JSON \(.*\); a truncated record\?\n$/);
    expect(results[1]).toEqual([2, 'meshdrill: future.json: RunRecord schemaVersion 2.0 is not supported; this meshdrill reads 1.x\n']);
    expect(results[2]![0]).toBe(2);
    expect(results[2]![1]).toContain('edited.json: invalid RunRecord: outcome.verdict:');
  });

  it('reads a 1.0 record written before series and stages existed', () => {
    const { series: _s, stages: _st, ...old } = sampleRecord({ series: 1, hours: 0.1 });
    expect(parseRunRecord({ ...old, schemaVersion: '1.0' }).runId).toBe('gameday-sample');
  });
});

describe('Markdown for pull requests and job summaries', () => {
  it('puts the verdict first, escapes names from config, and folds the timeline', () => {
    const text = renderMarkdown(sampleRecord({ series: 3, hours: 0.5, name: EVIL }), { htmlUrl: 'https://ci.example/artifacts/report.html' });

    expect(text.split('\n')[0]).toBe('## ❌ meshdrill gameday: **FAIL**');
    expect(text).toContain('\\<script\\>alert\\(1\\)\\</script\\> \\| \\`rm -rf\\` \\[x\\]\\(http://evil\\)');
    expect(text).not.toContain('<script>');
    expect(text).toContain('[full report](https://ci.example/artifacts/report.html)');
    expect(text).toContain('<details><summary>Timeline (20 events)</summary>');
    // Every table row has the header's cell count: no escaped pipe broke a row.
    for (const table of text.split('\n\n').filter((b) => b.startsWith('|'))) {
      const cells = table.split('\n').map((row) => row.replace(/\\\|/g, '').split('|').length);
      expect(new Set(cells).size).toBe(1);
    }
  });

  it('stays under GitHub\'s body limit with a 100,000-event timeline, by summarising whole sections', () => {
    const record = sampleRecord({ series: 5, hours: 2, events: 100_000 });

    const text = renderMarkdown(record);

    expect(text.length).toBeLessThanOrEqual(GITHUB_BODY_LIMIT);
    expect(text).toContain('events left out');
    const rows = text.split('\n').filter((l) => l.startsWith('| ✅') || l.startsWith('| ❌'));
    expect(rows).toHaveLength(resultRows(record).length);
  });

  it('replaces a table that does not fit by a count rather than cutting it', () => {
    const text = renderMarkdown(sampleRecord({ series: 5, hours: 0.5 }), { limit: 900 });

    expect(text.length).toBeLessThanOrEqual(900);
    expect(text).toMatch(/_5 results, 1 not met: success-rate ns-0\._/);
    expect(text).not.toContain('| | kind |');
  });
});

describe('JUnit XML', () => {
  it('has a testsuite per stage, fault and the hypotheses, with measured-vs-objective failures', () => {
    const xml = renderJunit(sampleRecord({ series: 5, hours: 0.5, name: EVIL }));

    expect(xml).toContain('<testsuites name="meshdrill gameday gameday-sample" tests="7" failures="1" errors="0"');
    expect(xml).toContain('<testsuite name="hypotheses"');
    expect(xml).toContain('<testsuite name="fault ca-loss"');
    expect(xml).toContain('<failure message="&lt;script&gt;alert(1)&lt;/script&gt; | `rm -rf` [x](http://evil): 97.5% misses &gt;= 99.9% (during the faults)" type="objective">');
  });

  it.skipIf(!hasXmllint)('validates against the JUnit schema CI systems read (xmllint)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-junit-'));
    const files = [join(dir, 'gameday.xml'), join(dir, 'gate.xml')];
    await writeFile(files[0]!, renderJunit(sampleRecord({ series: 5, hours: 0.5, name: EVIL })));
    const gate = parseRunRecord({
      ...sampleRecord({ series: 0, hours: 0.1 }),
      kind: 'rollout-gate',
      outcome: undefined,
      hypotheses: undefined,
      faults: undefined,
      gates: [{ name: 'batch-to-payments', key: true, sli: 'success-rate', scope: {}, objective: '>= 99%', source: 'client', state: 'failed', reason: '5 failed', measurements: [{ at: '2026-01-01T00:10:00.000Z', verdict: 'Failed', value: 0, threshold: 99, samples: 600, window: { from: '2026-01-01T00:04:00.000Z', to: '2026-01-01T00:10:00.000Z' }, source: 'client-view', reason: '0% misses >= 99%' }] }],
      requirements: [{ requirement: 'all-callers-meshed', holds: false, reason: 'payments: 17% plaintext' }],
      decision: { verdict: 'revert', reasons: ['key gate failed'], fromStage: 5, toStage: 4 },
    });
    await writeFile(files[1]!, renderJunit(gate));

    const result = await run('xmllint', ['--noout', '--schema', XSD, ...files]).then((r) => r.stderr, (e: { stderr: string }) => e.stderr);

    expect(result.trim().split('\n').sort()).toEqual(files.map((f) => `${f} validates`).sort());
  });
});

describe('HTML, bounded', () => {
  it('keeps a 100,000-event timeline to its start and end, and says how much it left out', () => {
    const html = renderHtml(sampleRecord({ series: 2, hours: 0.5, events: 100_000 }));

    expect(html).toContain(`… ${100_000 - MAX_EVENTS} events left out …`);
    expect(html.length).toBeLessThan(2_000_000);
    expect(html).not.toMatch(/<script|https?:\/\//);
  });
});

describe('trends across runs', () => {
  it('shows each run\'s verdict and each series as a sparkline, oldest first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-trend-'));
    const files: string[] = [];
    for (const [i, shift] of [0, 1, 2].entries()) {
      const r = sampleRecord({ series: 2, hours: 0.5 });
      const record = { ...r, runId: `run-${i}`, startedAt: `2026-0${3 - i}-01T00:00:00.000Z`, outcome: { verdict: i === 1 ? ('pass' as const) : ('fail' as const), reasons: [] }, series: r.series!.map((s) => ({ ...s, points: s.points.map(([t, v]): [string, number | null] => [t, v === null ? null : v - shift]) })) };
      files.push(join(dir, `run-${i}.json`));
      await writeFile(files.at(-1)!, JSON.stringify(record));
    }
    const io = captureIO(dir);

    expect(await runCli(['report', 'trend', ...files], io)).toBe(0);

    const text = io.out.join('');
    expect(text.split('\n').slice(3, 6).map((l) => l.split(/\s+/)[0])).toEqual(['run-2', 'run-1', 'run-0']);
    expect(text).toContain('verdicts: ✗✓✗  (1 of 3 good)');
    expect(text).toMatch(/success-rate ns-0\s+▁▅█\s+97.945 → 99.945/);
    expect(renderTrend([])).toContain('0 runs');
    expect(sparkline([1, null, 3])).toBe('▁ █');
  });
});
