import type { Verdict } from './types.js';

/**
 * What no data means for a hypothesis, an assertion or an abort condition: `fail` (the default:
 * silence is never success), `inconclusive` (the run ends Inconclusive, neither pass nor fail) or
 * `ignore` (the evaluation does not count; the run says so in a warning). Gates in rollout plans
 * count it with their `inconclusiveLimit`, as Argo Rollouts does.
 */
export type OnNoData = 'fail' | 'inconclusive' | 'ignore';
export const ON_NO_DATA = ['fail', 'inconclusive', 'ignore'] as const;

export interface JudgedEvaluation {
  at: string;
  gate: string;
  verdict: Verdict;
  reason: string;
}

export interface Judgement {
  outcome: 'held' | 'failed' | 'inconclusive';
  /** One line: why, naming the gate, the time and what was measured. */
  reason: string;
  /** Evidence that was missing and ignored (onNoData: ignore): said, not counted. */
  warnings: string[];
}

/**
 * The evidence rules, in one place, for a series of evaluations of one or more gates (a
 * hypothesis over a run, an assertion once):
 * - a Failed evaluation fails it; an Error (the source failed) fails it as "could not be measured";
 * - evaluations before a gate's first Successful one are its warm-up (windows still filling, no
 *   traffic yet): Inconclusive there is expected;
 * - once a gate has held, an Inconclusive evaluation is missing evidence (telemetry gone in an
 *   outage looks exactly like this) and counts as `onNoData` says;
 * - a gate that never held has no evidence at all, which counts as `onNoData` says.
 */
export function judgeEvidence(evaluations: readonly JudgedEvaluation[], onNoData: OnNoData): Judgement {
  const gates = [...new Set(evaluations.map((e) => e.gate))];
  const judged = gates.map((gate) => judgeGate(gate, evaluations.filter((e) => e.gate === gate), onNoData));
  const warnings = judged.flatMap((j) => j.warnings);
  const failed = judged.find((j) => j.outcome === 'failed');
  if (failed) return { ...failed, warnings };
  const inconclusive = judged.find((j) => j.outcome === 'inconclusive');
  if (inconclusive) return { ...inconclusive, warnings };
  if (evaluations.length === 0) return countMissing(onNoData, 'never evaluated: no evidence it holds');
  return { outcome: 'held', reason: judged.map((j) => j.reason).join('; '), warnings };
}

function judgeGate(gate: string, series: readonly JudgedEvaluation[], onNoData: OnNoData): Judgement {
  const failed = series.find((e) => e.verdict === 'Failed');
  if (failed) return { outcome: 'failed', reason: `${gate} failed at ${failed.at}: ${failed.reason}`, warnings: [] };
  const error = series.find((e) => e.verdict === 'Error');
  if (error) return { outcome: 'failed', reason: `${gate} could not be measured at ${error.at}: ${error.reason}`, warnings: [] };
  const first = series.findIndex((e) => e.verdict === 'Successful');
  if (first === -1) {
    const last = series.at(-1);
    return countMissing(onNoData, `${gate} has no evidence it holds: ${series.length} evaluation${series.length === 1 ? '' : 's'}, none conclusive${last ? ` (last at ${last.at}: ${last.reason})` : ''}`);
  }
  const gaps = series.slice(first).filter((e) => e.verdict === 'Inconclusive');
  if (gaps.length > 0) {
    const gap = gaps[0]!;
    const missing = `${gate} lost its evidence after it held: ${gaps.length} evaluation${gaps.length === 1 ? '' : 's'} without a verdict, the first at ${gap.at} (${gap.reason})`;
    const counted = countMissing(onNoData, missing);
    if (counted.outcome !== 'held') return counted;
    return { outcome: 'held', reason: `${gate} held (${series.length - gaps.length} conclusive evaluations)`, warnings: counted.warnings };
  }
  const last = series.at(-1)!;
  return { outcome: 'held', reason: `${gate} held over ${series.length - first} evaluation${series.length - first === 1 ? '' : 's'}; last: ${last.reason}`, warnings: [] };
}

function countMissing(onNoData: OnNoData, why: string): Judgement {
  if (onNoData === 'fail') return { outcome: 'failed', reason: why, warnings: [] };
  if (onNoData === 'inconclusive') return { outcome: 'inconclusive', reason: why, warnings: [] };
  return { outcome: 'held', reason: `${why}; ignored (onNoData: ignore)`, warnings: [`${why}; ignored (onNoData: ignore)`] };
}
