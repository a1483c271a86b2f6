import type { LoadResult, LoadThreshold } from './types.js';

/** Evaluates a k6 threshold expression ("rate<=0.001", "p(99)<250", "med<=20") against measured values. */
export function thresholdHolds(threshold: LoadThreshold, values: { failedRate: number; latency: LoadResult['latency'] }): boolean {
  const match = /^(rate|med|avg|p\((\d+(?:\.\d+)?)\))\s*(<=|<|>=|>|==)\s*(-?\d+(?:\.\d+)?)$/.exec(threshold.expression.replace(/\s+/g, ''));
  if (!match) return false;
  const [, aggregate, percentile, op, limitText] = match;
  const limit = Number(limitText);
  let value: number;
  if (aggregate === 'rate') value = values.failedRate;
  else if (aggregate === 'med') value = values.latency.p50;
  else if (percentile === '95') value = values.latency.p95;
  else if (percentile === '99') value = values.latency.p99;
  else if (percentile === '50') value = values.latency.p50;
  else return false;
  if (!Number.isFinite(value)) return false;
  switch (op) {
    case '<=':
      return value <= limit;
    case '<':
      return value < limit;
    case '>=':
      return value >= limit;
    case '>':
      return value > limit;
    default:
      return value === limit;
  }
}
