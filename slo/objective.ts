import { parseDuration, type ObjectiveUnit } from '../model/index.js';

export type { ObjectiveUnit };
export type Comparator = '>=' | '<=' | '>' | '<';

/**
 * A parsed objective. Absolute: `<= 250ms`. Relative to the baseline:
 * `<= baseline + 5ms` (delta in the SLI's own unit) or `<= baseline + 10%`
 * (for non-percent SLIs a relative change, Keptn-style; for percent SLIs, percentage points).
 */
export interface Objective {
  text: string;
  comparator: Comparator;
  baseline: boolean;
  /** Signed delta for relative objectives, the threshold for absolute ones; ms for durations, bytes for sizes. */
  value: number;
  unit: ObjectiveUnit;
}

const OBJECTIVE = /^(>=|<=|>|<)\s*(?:(baseline)\s*(?:([+-])\s*(.+))?|(.+))$/;
const NUMBER_UNIT = /^(-?\d+(?:\.\d+)?)\s*(%|ms|s|m|h|d|KiB|MiB|GiB|KB|MB|GB|x)?$/;
const BYTES: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1e3, MB: 1e6, GB: 1e9 };

export const OBJECTIVE_HINT = 'an objective like ">= 99.9%", "<= 250ms" or "<= baseline + 5ms"';

export type ObjectiveResult = { ok: true; objective: Objective } | { ok: false; message: string };

/** Whether an objective compares with a baseline ("<= baseline + 5ms"). */
export function isRelative(text: string): boolean {
  const parsed = parseObjective(text);
  return parsed.ok && parsed.objective.baseline;
}

export function parseObjective(text: string): ObjectiveResult {
  const match = OBJECTIVE.exec(text.trim());
  if (!match) return { ok: false, message: `expected ${OBJECTIVE_HINT}` };
  const comparator = match[1] as Comparator;
  const isBaseline = match[2] === 'baseline';
  if (isBaseline && match[4] === undefined) {
    return { ok: true, objective: { text, comparator, baseline: true, value: 0, unit: 'number' } };
  }
  const quantity = parseQuantity((isBaseline ? match[4] : match[5]) ?? '');
  if (!quantity) return { ok: false, message: `expected ${OBJECTIVE_HINT}` };
  if (quantity.value < 0) {
    return { ok: false, message: isBaseline ? 'write the sign before the delta, e.g. "baseline - 5ms"' : 'expected a threshold of zero or more' };
  }
  if (!isBaseline && quantity.unit === 'percent' && quantity.value > 100) {
    return { ok: false, message: 'expected a percentage from 0% to 100%' };
  }
  const sign = match[3] === '-' ? -1 : 1;
  return {
    ok: true,
    objective: { text, comparator, baseline: isBaseline, value: isBaseline ? sign * quantity.value : quantity.value, unit: quantity.unit },
  };
}

function parseQuantity(text: string): { value: number; unit: ObjectiveUnit } | undefined {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== undefined) return { value: duration, unit: 'duration' };
  const match = NUMBER_UNIT.exec(trimmed);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = match[2];
  if (unit === undefined || unit === 'x') return { value, unit: 'number' };
  if (unit === '%') return { value, unit: 'percent' };
  const bytes = BYTES[unit];
  if (bytes !== undefined) return { value: value * bytes, unit: 'bytes' };
  // A negative duration ("-5ms") fails parseDuration; read its number here.
  return { value: Math.sign(value) * (parseDuration(`${Math.abs(value)}${unit}`) ?? Number.NaN), unit: 'duration' };
}
