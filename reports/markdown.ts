import { escapeMarkdown as md } from './escape.js';
import { resultRows, VERDICT_TEXT, verdictOf } from './html.js';
import type { RunRecord } from './run-record.js';

/** GitHub refuses PR bodies and comments longer than this. */
export const GITHUB_BODY_LIMIT = 65_536;

const ICON: Record<string, string> = { pass: '✅', advance: '✅', flaky: '⚠️', hold: '⏸️', fail: '❌', revert: '↩️', aborted: '🛑', error: '💥', inconclusive: '❔', 'steady-state-not-met': '🚫', 'dry-run': '📝' };

/**
 * The run for a pull request or $GITHUB_STEP_SUMMARY: verdict first, a compact result table,
 * faults, and the timeline folded away. Over GitHub's body limit it summarises — whole tables are
 * replaced by a count, never cut half-way — and everything from the cluster or config is escaped.
 */
export function renderMarkdown(record: RunRecord, options: { htmlUrl?: string; limit?: number } = {}): string {
  const limit = options.limit ?? GITHUB_BODY_LIMIT;
  const { verdict, reasons } = verdictOf(record);
  const head = [
    `## ${ICON[verdict] ?? ''} meshdrill ${md(record.kind)}: **${VERDICT_TEXT[verdict] ?? verdict.toUpperCase()}**`,
    '',
    ...reasons.map((r) => `- ${md(r)}`),
    '',
    `Run \`${record.runId.replace(/`/g, '')}\` on the ${md(record.cluster.provider)} cluster (${md(record.cluster.mesh.name)} ${md(record.cluster.mesh.mode)})${options.htmlUrl ? ` · [full report](${encodeURI(options.htmlUrl)})` : ''}.`,
    '',
  ].join('\n');
  const rows = resultRows(record);
  const results = rows.length ? ['| | kind | name | objective | measured |', '|---|---|---|---|---|', ...rows.map((r) => `| ${r.ok ? '✅' : '❌'} | ${md(r.kind)} | ${md(r.name)} | ${md(r.objective)} | ${md(r.measured)} |`), ''].join('\n') : '';
  const faults = (record.faults ?? []).length ? ['| fault | what | impact |', '|---|---|---|', ...record.faults!.map((f) => `| ${md(f.name)} | ${md(f.summary)} | ${md(f.impact ?? '')}${f.leftovers.length ? ` **leftovers: ${md(f.leftovers.join(', '))}**` : ''} |`), ''].join('\n') : '';
  const notModelled = (record.notModelled ?? []).length ? [`<details><summary>${record.notModelled!.length} thing${record.notModelled!.length === 1 ? '' : 's'} the embedded cluster read but does not model</summary>`, '', ...record.notModelled!.map((n) => `- ${md(n)}`), '', '</details>', ''].join('\n') : '';
  const timeline = (events: RunRecord['timeline']) => ['<details><summary>Timeline (' + record.timeline.length + ' events)</summary>', '', ...events.map((e) => `- \`${e.at.replace(/`/g, '')}\` ${md(e.type)}: ${md(e.message)}`), '', '</details>', ''].join('\n');

  // Try the whole report, then ever shorter forms: fewer timeline events, then tables as counts.
  const attempts = [
    () => [head, results, faults, notModelled, timeline(record.timeline)],
    () => [head, results, faults, notModelled, timeline([...record.timeline.slice(0, 100), { at: '…', type: 'omitted', message: `${Math.max(0, record.timeline.length - 200)} events left out` }, ...record.timeline.slice(-100)])],
    () => [head, results, faults, notModelled, `_${record.timeline.length} timeline events left out; see the full report._\n`],
    () => [head, summaryOfRows(rows), faults, `_${record.timeline.length} timeline events left out; see the full report._\n`],
    () => [head, summaryOfRows(rows), `_${(record.faults ?? []).length} faults; see the full report._\n`],
  ];
  for (const attempt of attempts) {
    const text = attempt().filter(Boolean).join('\n');
    if (text.length <= limit) return text;
  }
  return `${head.slice(0, Math.max(0, limit - 100))}\n\n_Report too long for this place; see the full report._\n`;
}

function summaryOfRows(rows: ReturnType<typeof resultRows>): string {
  const failed = rows.filter((r) => !r.ok);
  return `_${rows.length} results, ${failed.length} not met${failed.length ? `: ${failed.slice(0, 10).map((r) => md(r.name)).join(', ')}${failed.length > 10 ? ', …' : ''}` : ''}._\n`;
}
