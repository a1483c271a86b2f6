import { escapeHtml as h } from './escape.js';
import type { RunRecord, SeriesRecord } from './run-record.js';

/** Events shown in full; a longer timeline shows its start and end and says how many were left out. */
export const MAX_EVENTS = 2_000;

export const VERDICT_TEXT: Record<string, string> = { pass: 'PASS', flaky: 'FLAKY', fail: 'FAIL', aborted: 'ABORTED', error: 'ERROR', inconclusive: 'INCONCLUSIVE', 'steady-state-not-met': 'STEADY STATE NOT MET', 'dry-run': 'DRY RUN', advance: 'ADVANCE', hold: 'HOLD', revert: 'REVERT' };

/** The banner of a dry run, in every format: nothing was injected, so nothing was proven. */
export const DRY_RUN_BANNER = 'DRY RUN: every fault was planned and none injected; this run proves nothing and counts in no trend';

/**
 * The run's verdict and whether it is good news. A dry run is neither: `good` is false and
 * `neutral` true, so trends leave it out and banners say what it was.
 */
export function verdictOf(record: RunRecord): { verdict: string; good: boolean; neutral?: boolean; reasons: string[] } {
  if (record.outcome) {
    const verdict = record.outcome.verdict;
    return { verdict, good: verdict === 'pass', ...(verdict === 'dry-run' ? { neutral: true } : {}), reasons: [...(verdict === 'dry-run' ? [DRY_RUN_BANNER] : []), ...record.outcome.reasons, ...(record.outcome.warnings ?? []).map((w) => `warning: ${w}`)] };
  }
  if (record.decision) return { verdict: record.decision.verdict, good: record.decision.verdict !== 'revert', reasons: record.decision.reasons };
  return { verdict: 'error', good: false, reasons: ['the record has no verdict'] };
}

/** Rows of the gate / hypothesis / assertion table, whatever the kind of run. */
export function resultRows(record: RunRecord): Array<{ kind: string; name: string; objective: string; measured: string; verdict: string; ok: boolean }> {
  const rows: Array<{ kind: string; name: string; objective: string; measured: string; verdict: string; ok: boolean }> = [];
  for (const g of record.gates) {
    const last = g.measurements.at(-1);
    rows.push({ kind: g.key ? 'key gate' : 'gate', name: g.name, objective: g.objective, measured: last ? `${last.reason} (${last.samples} samples)` : 'not measured', verdict: g.state, ok: g.state === 'passed' });
  }
  for (const hyp of record.hypotheses ?? []) {
    const failed = hyp.evaluations.filter((e) => e.verdict === 'Failed');
    const shown = failed[0] ?? hyp.evaluations.at(-1);
    const outcome = hyp.outcome ?? (hyp.holds ? 'held' : 'failed');
    const measured = hyp.reason ?? (shown ? `${shown.reason}${failed.length ? ` (${failed.length} of ${hyp.evaluations.length} failed, first ${shown.phase} the faults)` : ` (${hyp.evaluations.length} evaluations)`}` : 'not evaluated');
    rows.push({ kind: 'hypothesis', name: hyp.name, objective: [...new Set(hyp.evaluations.map((e) => e.gate))].join(', '), measured, verdict: outcome, ok: outcome === 'held' });
  }
  for (const a of record.assertions ?? []) rows.push({ kind: 'assertion', name: a.evaluation.gate, objective: '', measured: a.evaluation.reason, verdict: a.evaluation.verdict, ok: a.evaluation.verdict === 'Successful' });
  for (const r of record.requirements) rows.push({ kind: 'requirement', name: r.requirement, objective: '', measured: r.reason, verdict: r.holds ? 'holds' : 'does not hold', ok: r.holds });
  return rows;
}

/**
 * The run as one self-contained HTML page: no scripts, no network fetches, readable from
 * file://, light and dark, printable. Charts are inline SVG with fault windows shaded, stage
 * changes marked and the objective drawn.
 */
export function renderHtml(record: RunRecord): string {
  const { verdict, good, reasons } = verdictOf(record);
  const rows = resultRows(record);
  const windows = (record.faults ?? []).map((f) => ({ name: f.name, from: Date.parse(f.injectedAt), to: Date.parse(f.revertedAt ?? record.finishedAt) }));
  const boundaries = (record.stages ?? []).map((s) => ({ at: Date.parse(s.at), label: `stage ${s.stage}${s.name ? ` ${s.name}` : ''}` }));
  const events = record.timeline.length > MAX_EVENTS ? [...record.timeline.slice(0, MAX_EVENTS / 2), undefined, ...record.timeline.slice(-MAX_EVENTS / 2)] : record.timeline;
  const parts = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing may load from elsewhere: the page must work offline and from file://.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>meshdrill ${h(record.kind)} ${h(record.runId)}: ${VERDICT_TEXT[verdict] ?? verdict}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<header class="banner ${good ? 'good' : verdictOf(record).neutral ? 'neutral' : 'bad'}" data-verdict="${h(verdict)}"><h1>${VERDICT_TEXT[verdict] ?? h(verdict)}</h1><p>${h(record.kind)} <code>${h(record.runId)}</code> on the ${h(record.cluster.provider)} cluster, ${h(record.cluster.mesh.name)} ${h(record.cluster.mesh.mode)}; ${h(record.startedAt)} → ${h(record.finishedAt)}</p>`,
    `<ul class="reasons">${reasons.map((r) => `<li>${h(r)}</li>`).join('')}</ul></header>`,
    verdict === 'dry-run' ? `<p class="dry-run-banner"><strong>${h(DRY_RUN_BANNER)}</strong></p>` : '',
    '<main>',
    `<section><h2>Gates and hypotheses</h2>${rows.length ? `<table class="results"><thead><tr><th>kind</th><th>name</th><th>objective</th><th>measured</th><th>verdict</th></tr></thead><tbody>${rows.map((r) => `<tr class="result-row ${r.ok ? 'ok' : 'not-ok'}"><td>${h(r.kind)}</td><td>${h(r.name)}</td><td>${h(r.objective)}</td><td>${h(r.measured)}</td><td class="verdict">${h(r.verdict)}</td></tr>`).join('')}</tbody></table>` : '<p>No gates or hypotheses in this run.</p>'}</section>`,
    (record.faults ?? []).length ? `<section><h2>Faults</h2><table><thead><tr><th>fault</th><th>in</th><th>out</th><th>impact</th><th>changes</th></tr></thead><tbody>${record.faults!.map((f) => `<tr><td>${h(f.name)}<br><small>${h(f.summary)}</small></td><td>${h(f.injectedAt)}</td><td>${h(f.revertedAt ?? 'not reverted')}</td><td>${h(f.impact ?? '')}${f.leftovers.length ? `<br><strong>leftovers: ${h(f.leftovers.join(', '))}</strong>` : ''}</td><td><ul>${f.changes.map((c) => `<li>${h(c)}</li>`).join('')}</ul></td></tr>`).join('')}</tbody></table></section>` : '',
    (record.series ?? []).length ? `<section><h2>SLIs over time</h2><p class="legend"><span class="swatch fault"></span> fault in <span class="swatch stage"></span> stage change <span class="swatch objective"></span> objective</p>${record.series!.map((s) => chart(s, windows, boundaries)).join('')}</section>` : '',
    (record.stages ?? []).length ? meshStateTable(record) : '',
    (record.notModelled ?? []).length ? `<section><h2>Not modelled</h2><p>What the embedded cluster read but does not model; the verdict does not account for it.</p><ul class="not-modelled">${record.notModelled!.map((n) => `<li>${h(n)}</li>`).join('')}</ul></section>` : '',
    record.pullRequest ? `<section><h2>Pull request</h2><p>${h(record.pullRequest.forge)}: ${h(record.pullRequest.action)} <code>${h(record.pullRequest.branch)}</code>${record.pullRequest.url ? ` — ${h(record.pullRequest.url)}` : ''}${record.pullRequest.note ? ` (${h(record.pullRequest.note)})` : ''}</p></section>` : '',
    `<section><h2>Event log</h2><table class="events"><tbody>${events.map((e) => (e ? `<tr><td><time>${h(e.at)}</time></td><td>${h(e.type)}</td><td>${h(e.message)}</td></tr>` : `<tr class="omitted"><td colspan="3">… ${record.timeline.length - MAX_EVENTS} events left out …</td></tr>`)).join('')}</tbody></table></section>`,
    `<footer>Inputs: ${h(record.inputs.repo || '(none)')}${record.inputs.commit ? ` @ <code>${h(record.inputs.commit.slice(0, 12))}</code>` : ''}; ${record.inputs.files.length} files; RunRecord ${h(record.schemaVersion)}.</footer>`,
    '</main></body></html>',
  ];
  return parts.join('\n');
}

const W = 720;
const H = 180;
const PAD = { left: 56, right: 12, top: 12, bottom: 24 };

/**
 * One SLI as an inline SVG. Never throws, whatever the series holds: no points, NaN, infinities
 * or unparsable times render as "no data". Stretches without data are shaded and labelled, and
 * every point says the window it was measured over.
 */
export function chart(series: SeriesRecord, windows: Array<{ name: string; from: number; to: number }>, boundaries: Array<{ at: number; label: string }>): string {
  const points = series.points.map(([at, v]) => [Date.parse(at), v !== null && Number.isFinite(v) ? v : null] as const).filter(([t]) => Number.isFinite(t));
  const spans = windows.filter((w) => Number.isFinite(w.from) && Number.isFinite(w.to));
  const caption = `<figcaption>${h(series.name)} <small>${h(series.sli)}${series.objective ? `, objective ${h(series.objective)}` : ''}</small></figcaption>`;
  const values = points.map(([, v]) => v).filter((v): v is number => v !== null);
  if (points.length === 0 || values.length === 0) {
    return `<figure class="chart no-data" data-series="${h(series.name)}">${caption}<p class="no-data">no data: ${points.length ? `${points.length} evaluations, none with a value` : 'never measured'}</p></figure>`;
  }
  const times = points.map(([t]) => t);
  const t0 = Math.min(...times, ...spans.map((w) => w.from));
  const t1 = Math.max(...times, ...spans.map((w) => w.to), t0 + 1);
  const threshold = typeof series.threshold === 'number' && Number.isFinite(series.threshold) ? series.threshold : undefined;
  let lo = Math.min(...values, ...(threshold !== undefined ? [threshold] : []));
  let hi = Math.max(...values, ...(threshold !== undefined ? [threshold] : []));
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - (v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  // Gaps (no data) break the line instead of drawing through them, and are marked as such.
  const segments: string[] = [];
  const gaps: Array<{ from: number; to: number }> = [];
  let current: string[] = [];
  for (const [i, [t, v]] of points.entries()) {
    if (v === null) {
      if (current.length) segments.push(current.join(' '));
      current = [];
      const previous = points[i - 1]?.[0] ?? t;
      const open = gaps.at(-1);
      if (open && open.to === previous) open.to = t;
      else gaps.push({ from: previous, to: t });
    } else current.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
  }
  if (current.length) segments.push(current.join(' '));
  const label = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2));
  const clock = (t: number) => new Date(t).toISOString().slice(11, 19);
  const over = (t: number) => (series.windowMs ? ` over ${clock(t - series.windowMs)}–${clock(t)}` : '');
  return [
    `<figure class="chart" data-series="${h(series.name)}">${caption}`,
    `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${h(series.name)}">`,
    ...spans.map((w) => `<rect class="fault-window" x="${x(w.from).toFixed(1)}" y="${PAD.top}" width="${Math.max(1, x(w.to) - x(w.from)).toFixed(1)}" height="${H - PAD.top - PAD.bottom}"><title>${h(w.name)}</title></rect>`),
    ...gaps.map((g) => `<rect class="no-data" x="${x(g.from).toFixed(1)}" y="${PAD.top}" width="${Math.max(2, x(g.to) - x(g.from)).toFixed(1)}" height="${H - PAD.top - PAD.bottom}"><title>no data ${clock(g.from)}–${clock(g.to)}</title></rect>`),
    ...boundaries.filter((b) => Number.isFinite(b.at) && b.at >= t0 && b.at <= t1).map((b) => `<line class="stage-boundary" x1="${x(b.at).toFixed(1)}" x2="${x(b.at).toFixed(1)}" y1="${PAD.top}" y2="${H - PAD.bottom}"><title>${h(b.label)}</title></line>`),
    `<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}"/>`,
    `<text class="tick" x="${PAD.left - 4}" y="${y(hi) + 4}" text-anchor="end">${label(hi)}</text><text class="tick" x="${PAD.left - 4}" y="${y(lo) + 4}" text-anchor="end">${label(lo)}</text>`,
    `<text class="tick" x="${PAD.left}" y="${H - 6}">${h(clock(t0))}</text><text class="tick" x="${W - PAD.right}" y="${H - 6}" text-anchor="end">${h(clock(t1))}</text>`,
    threshold !== undefined ? `<line class="objective" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(threshold).toFixed(1)}" y2="${y(threshold).toFixed(1)}"><title>objective ${h(series.objective ?? String(threshold))}</title></line>` : '',
    ...segments.map((s) => `<polyline class="series" points="${s}"/>`),
    ...points.filter(([, v]) => v !== null).map(([t, v]) => `<circle class="point" cx="${x(t).toFixed(1)}" cy="${y(v!).toFixed(1)}" r="1.5"><title>${h(clock(t))}: ${label(v!)}${h(over(t))}</title></circle>`),
    '</svg></figure>',
  ].join('');
}

function meshStateTable(record: RunRecord): string {
  const stages = record.stages!;
  const namespaces = [...new Set(stages.flatMap((s) => s.namespaces.map((n) => n.namespace)))];
  const cell = (s: (typeof stages)[number], ns: string) => {
    const n = s.namespaces.find((x) => x.namespace === ns);
    return n?.meshed ? `<td class="meshed">meshed${n.mtls ? ` · ${h(n.mtls)}` : ''}</td>` : '<td class="unmeshed">—</td>';
  };
  return `<section><h2>Mesh state per stage</h2><table class="mesh-state"><thead><tr><th>namespace</th>${stages.map((s) => `<th>stage ${s.stage}${s.name ? `<br><small>${h(s.name)}</small>` : ''}</th>`).join('')}</tr></thead><tbody>${namespaces.map((ns) => `<tr><td>${h(ns)}</td>${stages.map((s) => cell(s, ns)).join('')}</tr>`).join('')}</tbody></table></section>`;
}

const CSS = `
:root { color-scheme: light dark; --fg: #1d232a; --bg: #fff; --muted: #5b6672; --line: #d5dae0; --good: #1a7f37; --bad: #cf222e; --series: #0969da; --fault: rgba(207, 34, 46, .13); --stage: #8250df; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --line: #30363d; --good: #3fb950; --bad: #f85149; --series: #58a6ff; --fault: rgba(248, 81, 73, .18); --stage: #bc8cff; } }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
main { padding: 0 24px 24px; max-width: 1100px; }
.banner { padding: 16px 24px; color: #fff; }
.banner.good { background: var(--good); } .banner.bad { background: var(--bad); } .banner.neutral { background: var(--muted); }
.banner h1 { margin: 0; font-size: 28px; letter-spacing: .04em; } .banner p, .banner ul { margin: 4px 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; } th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
tr.not-ok td.verdict { color: var(--bad); font-weight: 600; } tr.ok td.verdict { color: var(--good); }
td.meshed { color: var(--good); } td.unmeshed { color: var(--muted); }
figure.chart { margin: 8px 0 16px; } figure.chart svg { width: 100%; max-width: ${W}px; height: auto; }
figcaption small, footer, .legend { color: var(--muted); }
.fault-window { fill: var(--fault); } .stage-boundary { stroke: var(--stage); stroke-dasharray: 4 3; } .objective { stroke: var(--bad); stroke-dasharray: 6 4; }
.series { fill: none; stroke: var(--series); stroke-width: 1.6; } .point { fill: var(--series); } rect.no-data { fill: var(--line); opacity: .6; } p.no-data { color: var(--muted); font-style: italic; } .axis { stroke: var(--line); } .tick { fill: var(--muted); font-size: 11px; }
.swatch { display: inline-block; width: 14px; height: 10px; margin: 0 4px 0 12px; } .swatch.fault { background: var(--fault); } .swatch.stage { border-left: 2px dashed var(--stage); } .swatch.objective { border-top: 2px dashed var(--bad); }
table.events td:first-child { white-space: nowrap; color: var(--muted); } tr.omitted td { text-align: center; color: var(--muted); }
code { font-size: 12px; }
@media print { .banner { color: #000; border: 2px solid currentColor; background: none !important; } body { background: #fff; color: #000; } figure.chart { break-inside: avoid; } }
`;
