import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import type { RunRecord } from './run-record.js';
import { sampleRecord } from './sample-record.js';
import { renderTrend } from './trend.js';

// Whatever a run managed to measure before it failed, its report renders: empty series, no
// points, NaN, infinities and times nobody can parse never make a renderer throw.
const value = fc.oneof(fc.constant(null), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY), fc.constant(Number.NEGATIVE_INFINITY), fc.double(), fc.integer());
const time = fc.oneof(fc.constant(''), fc.constant('not a time'), fc.date({ min: new Date(0), max: new Date(4_102_444_800_000), noInvalidDate: true }).map((d) => d.toISOString()));
const series = fc.record({
  name: fc.string(),
  sli: fc.constantFrom('success-rate', 'latency-p99', 'proxy-memory'),
  scope: fc.constant({}),
  unit: fc.constantFrom('percent', 'duration', 'bytes'),
  objective: fc.option(fc.string(), { nil: undefined }),
  threshold: fc.option(value, { nil: undefined }),
  points: fc.array(fc.tuple(time, value), { maxLength: 40 }),
  windowMs: fc.option(fc.oneof(fc.integer({ min: 0, max: 3_600_000 }), fc.constant(Number.NaN)), { nil: undefined }),
});
const verdict = fc.constantFrom('pass', 'flaky', 'fail', 'aborted', 'error', 'inconclusive', 'steady-state-not-met', 'dry-run');

const record = fc.record({ series: fc.array(series, { maxLength: 4 }), verdict, faultTimes: fc.array(fc.tuple(time, fc.option(time, { nil: undefined })), { maxLength: 3 }), empty: fc.boolean() }).map(({ series, verdict, faultTimes, empty }): RunRecord => {
  const base = sampleRecord({ series: 1, hours: 0.1, events: empty ? 0 : 3 });
  return {
    ...base,
    outcome: { verdict: verdict as NonNullable<RunRecord['outcome']>['verdict'], reasons: empty ? [] : ['why'] },
    series: series as RunRecord['series'],
    hypotheses: empty ? [] : base.hypotheses,
    faults: faultTimes.map(([injectedAt, revertedAt], i) => ({ name: `f${i}`, type: 'ca-loss', summary: '', notes: [], changes: [], injectedAt, ...(revertedAt !== undefined ? { revertedAt } : {}), leftovers: [] })),
    stages: empty ? [] : base.stages,
  };
});

describe('reports never throw', () => {
  it('HTML, Markdown, JUnit and trends render any record a run can leave', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(renderHtml(r)).toContain('</html>');
        expect(renderMarkdown(r)).toContain('meshdrill');
        expect(renderJunit(r)).toContain('<testsuites');
        expect(renderTrend([r, { ...r, runId: 'other' }])).toContain('runs');
      }),
      { numRuns: 300 },
    );
  });

  it('an empty series says "no data" instead of drawing nothing (or failing)', () => {
    const r = { ...sampleRecord({ series: 1, hours: 0.1 }), series: [{ name: 'frontend availability', sli: 'success-rate', scope: {}, unit: 'percent', points: [] }] };

    expect(renderHtml(r)).toContain('<p class="no-data">no data: never measured</p>');
  });

  it('marks stretches without data as gaps, and says each point\'s window', () => {
    const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();
    const r = { ...sampleRecord({ series: 1, hours: 0.1 }), series: [{ name: 's', sli: 'success-rate', scope: {}, unit: 'percent', windowMs: 300_000, points: [[at(0), 100], [at(1), null], [at(2), null], [at(3), 99]] as Array<[string, number | null]> }] };

    const html = renderHtml(r);

    expect(html).toContain('<title>no data 00:00:00–00:02:00</title>');
    expect(html).toContain('<title>00:03:00: 99.0 over 23:58:00–00:03:00</title>');
  });
});
