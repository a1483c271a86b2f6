import { escapeMarkdown as md } from './escape.js';
import { verdictOf } from './html.js';
import { GITHUB_BODY_LIMIT, renderMarkdown } from './markdown.js';
import type { RunRecord } from './run-record.js';

/** The issue a forge keeps for a recurring run: found again by its marker and first label. */
export interface IssueRequest {
  /** Hidden in the body: which issue is this one. */
  marker: string;
  /** The first label is how the issue is found again. */
  labels: [string, ...string[]];
  title: string;
  body: string;
  /** What this run says, as a comment on an issue already open. */
  comment: string;
  failing: boolean;
  /** Comments are tagged with it, so running the same record twice comments once. */
  runId: string;
}

/** Verdicts that keep a scheduled run's issue open. A flaky pass is a pass: the report says it was flaky. */
const FAILING = new Set(['fail', 'aborted', 'error', 'revert']);

/**
 * The one issue a recurring run (a scheduled game day, a suite) keeps while it fails: its body is
 * the latest failing report, each run adds a comment, and the first passing run closes it.
 */
export function recurringRunIssue(record: RunRecord, options: { runUrl?: string; htmlUrl?: string } = {}): IssueRequest {
  const { verdict, reasons } = verdictOf(record);
  const name = record.name ?? record.inputs.plan ?? record.kind;
  const what = record.kind === 'gameday' ? 'Game day' : record.kind === 'suite' ? 'Suite' : record.kind === 'rollout-gate' ? 'Rollout gate' : 'Check';
  const failing = FAILING.has(verdict);
  const link = options.runUrl ? ` ([run](${encodeURI(options.runUrl)}))` : '';
  const preface = `meshdrill keeps this issue while ${what.toLowerCase()} \`${name.replace(/`/g, '')}\` fails: each failing run updates this description and comments; the first passing run closes it.\n\n`;
  const report = renderMarkdown(record, { ...(options.htmlUrl ? { htmlUrl: options.htmlUrl } : {}), limit: GITHUB_BODY_LIMIT - preface.length - 200 });
  const shown = reasons.slice(0, 3).map((r) => `- ${md(r)}`).join('\n');
  return {
    marker: `meshdrill:recurring:${record.kind}:${name}`,
    labels: ['meshdrill', `meshdrill/${record.kind}`],
    title: `${what} ${name} is failing`,
    body: `${preface}${report}`,
    comment: failing
      ? `❌ Run \`${record.runId.replace(/`/g, '')}\` ${verdict === 'error' ? 'could not complete' : 'failed'} at ${record.finishedAt}${link}:\n${shown}`
      : `✅ Run \`${record.runId.replace(/`/g, '')}\` passed at ${record.finishedAt}${link}; closing.`,
    failing,
    runId: record.runId,
  };
}
