import { verdictOf } from './html.js';
import type { RunRecord } from './run-record.js';

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of values (nulls as gaps), scaled to their own range. */
export function sparkline(values: Array<number | null>): string {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return values.map(() => ' ').join('');
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return values.map((v) => (v === null || !Number.isFinite(v) ? ' ' : BARS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))])).join('');
}

/**
 * How verdicts and SLIs moved across runs, oldest first: one line per run, then one line per
 * series with its mean per run as a sparkline and the first and last values.
 */
export function renderTrend(records: RunRecord[]): string {
  // A dry run injected nothing: it is no evidence either way, and counts in no trend.
  const dry = records.filter((r) => r.outcome?.verdict === 'dry-run');
  const runs = records.filter((r) => r.outcome?.verdict !== 'dry-run').sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const lines = [`${runs.length} runs, ${runs[0]?.startedAt ?? '-'} → ${runs.at(-1)?.startedAt ?? '-'}`, '', 'RUN'.padEnd(36) + 'STARTED'.padEnd(26) + 'VERDICT'];
  for (const r of runs) lines.push(`${r.runId.padEnd(36)}${r.startedAt.padEnd(26)}${verdictOf(r).verdict}`);
  const names = [...new Set(runs.flatMap((r) => (r.series ?? []).map((s) => s.name)))].sort();
  if (names.length) {
    lines.push('', 'SERIES (mean per run)'.padEnd(48) + 'TREND'.padEnd(Math.max(7, runs.length + 2)) + 'FIRST → LAST');
    for (const name of names) {
      const means = runs.map((r) => {
        const values = (r.series ?? []).find((s) => s.name === name)?.points.map(([, v]) => v).filter((v): v is number => v !== null && Number.isFinite(v)) ?? [];
        return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
      });
      const known = means.filter((m): m is number => m !== null);
      lines.push(`${name.slice(0, 46).padEnd(48)}${sparkline(means).padEnd(Math.max(7, runs.length + 2))}${known.length ? `${round(known[0]!)} → ${round(known.at(-1)!)}` : 'no data'}`);
    }
  }
  const verdicts = runs.map((r) => verdictOf(r));
  lines.push('', `verdicts: ${verdicts.map((v) => (v.good ? '✓' : '✗')).join('')}  (${verdicts.filter((v) => v.good).length} of ${runs.length} good)`);
  if (dry.length) lines.push(`left out: ${dry.length} dry run${dry.length === 1 ? '' : 's'} (${dry.map((r) => r.runId).join(', ')}): nothing was injected`);
  return `${lines.join('\n')}\n`;
}

function round(n: number): string {
  return String(Number(n.toFixed(3)));
}
