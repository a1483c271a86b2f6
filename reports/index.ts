export { escapeMarkdown, escapeXml } from './escape.js';
export { recurringRunIssue, type IssueRequest } from './github-issue.js';
export { DRY_RUN_BANNER, renderHtml, VERDICT_TEXT } from './html.js';
export { renderJunit } from './junit.js';
export { renderMarkdown } from './markdown.js';
export { writeRunOutputs } from './outputs.js';
export { RUN_RECORD_VERSION, RunVerdict, parseRunRecord, stageRecord, type PullRequestRecord, type RunRecord, type StageRecord, type StepRecord, type EvaluationRecord, type HypothesisRecord, type AssertionRecord, type FaultRecord, type SeriesRecord } from './run-record.js';
export { renderTrend } from './trend.js';
