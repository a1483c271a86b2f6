import { parseObjective, type Objective } from './objective.js';
import { SLI_UNITS, type SliKey } from '../model/index.js';
import type { Scope } from './schema.js';
import type { Evaluation, Measurement } from './types.js';

export interface EvaluateOptions {
  minSamples: number;
  /** The same SLI measured over the baseline window, for relative objectives. */
  baseline?: Measurement;
}

/**
 * Compares a measurement with an objective. Too few samples, NaN or an empty result is
 * Inconclusive (never zero); a source failure is Error; a relative objective needs a baseline.
 * Relative deltas: percentage points for percent SLIs; for others a "%" delta is a relative
 * change (Keptn-style "<= baseline + 10%"), any other unit an absolute difference.
 */
export function evaluate(sli: SliKey, scope: Scope, objectiveText: string, measurement: Measurement, options: EvaluateOptions): Evaluation {
  const base = { sli, scope, objective: objectiveText, value: measurement.value, samples: measurement.samples, window: measurement.window, source: measurement.source };
  const parsed = parseObjective(objectiveText);
  if (!parsed.ok) return { ...base, verdict: 'Error', threshold: Number.NaN, reason: `objective "${objectiveText}": ${parsed.message}` };
  if (measurement.error) return { ...base, verdict: 'Error', threshold: Number.NaN, reason: measurement.error };
  if (!Number.isFinite(measurement.value)) return { ...base, verdict: 'Inconclusive', threshold: Number.NaN, reason: measurement.whenEmpty ? `no data in the window (${measurement.whenEmpty})` : 'no data in the window' };
  if (measurement.samples < options.minSamples) {
    return { ...base, verdict: 'Inconclusive', threshold: Number.NaN, reason: `${formatCount(measurement.samples)} samples; at least ${options.minSamples} needed` };
  }
  const threshold = thresholdOf(sli, parsed.objective, options.baseline);
  if (typeof threshold === 'string') {
    return { ...base, verdict: threshold.startsWith('no baseline') ? 'Error' : 'Inconclusive', threshold: Number.NaN, reason: threshold, ...(options.baseline ? { baseline: options.baseline.value } : {}) };
  }
  const holds = compare(parsed.objective.comparator, measurement.value, threshold);
  return {
    ...base,
    verdict: holds ? 'Successful' : 'Failed',
    threshold,
    ...(options.baseline ? { baseline: options.baseline.value } : {}),
    reason: `${formatValue(sli, measurement.value)} ${holds ? 'meets' : 'misses'} ${parsed.objective.comparator} ${formatValue(sli, threshold)}`,
  };
}

function thresholdOf(sli: SliKey, objective: Objective, baseline: Measurement | undefined): number | string {
  if (!objective.baseline) return objective.value;
  if (!baseline) return 'no baseline measurement for a relative objective; measure a baseline window first';
  if (!Number.isFinite(baseline.value)) return 'the baseline window has no data';
  if (objective.unit === 'percent' && SLI_UNITS[sli] !== 'percent') return baseline.value * (1 + objective.value / 100);
  return baseline.value + objective.value;
}

function compare(comparator: Objective['comparator'], value: number, threshold: number): boolean {
  switch (comparator) {
    case '>=':
      return value >= threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '<':
      return value < threshold;
  }
}

export function formatValue(sli: SliKey, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  switch (SLI_UNITS[sli]) {
    case 'percent':
      return `${Number(value.toFixed(3))}%`;
    case 'duration':
      return value >= 10_000 ? `${Number((value / 1000).toFixed(1))}s` : `${Number(value.toFixed(1))}ms`;
    case 'bytes':
      return `${Number((value / 1_048_576).toFixed(1))}MiB`;
    default:
      return String(Number(value.toFixed(4)));
  }
}

function formatCount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/**
 * Multi-window burn-rate alert (Google SRE workbook): fires when the error budget burns faster
 * than `factor` over both the long and the short window (e.g. 14.4× over 1 h and 5 m).
 */
export function burnRateAlert(objectivePercent: number, longWindowErrorRate: number, shortWindowErrorRate: number, factor = 14.4): { firing: boolean; longBurn: number; shortBurn: number } {
  const budget = (100 - objectivePercent) / 100;
  const longBurn = budget > 0 ? longWindowErrorRate / budget : Number.POSITIVE_INFINITY;
  const shortBurn = budget > 0 ? shortWindowErrorRate / budget : Number.POSITIVE_INFINITY;
  return { firing: longBurn >= factor && shortBurn >= factor, longBurn, shortBurn };
}
