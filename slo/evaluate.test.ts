import { describe, expect, it } from 'vitest';
import { burnRateAlert, evaluate } from './evaluate.js';
import type { Measurement } from './types.js';

const window = { from: 0, to: 600_000 };
const measured = (value: number, samples = 1000, error?: string): Measurement => ({ value, samples, window, source: 'test', ...(error ? { error } : {}) });

describe('slo/evaluate', () => {
  it.each([
    ['success-rate', '>= 99.9%', measured(99.95), undefined, 'Successful', '99.95% meets >= 99.9%'],
    ['success-rate', '>= 99.9%', measured(99.5), undefined, 'Failed', '99.5% misses >= 99.9%'],
    ['success-rate', '>= 99.9%', measured(100, 12), undefined, 'Inconclusive', '12 samples; at least 100 needed'],
    ['success-rate', '>= 99.9%', measured(Number.NaN, 0), undefined, 'Inconclusive', 'no data in the window'],
    ['success-rate', '>= 99.9%', measured(Number.NaN, 0, 'Prometheus at http://x: timed out after 10000 ms'), undefined, 'Error', 'Prometheus at http://x: timed out after 10000 ms'],
    ['latency-p99', '<= 250ms', measured(180), undefined, 'Successful', '180ms meets <= 250ms'],
    ['latency-p99', '<= baseline + 5ms', measured(44), measured(40), 'Successful', '44ms meets <= 45ms'],
    ['latency-p99', '<= baseline + 5ms', measured(46), measured(40), 'Failed', '46ms misses <= 45ms'],
    ['latency-p99', '<= baseline + 10%', measured(45), measured(40), 'Failed', '45ms misses <= 44ms'],
    ['success-rate', '>= baseline - 0.1%', measured(99.85), measured(99.9), 'Successful', '99.85% meets >= 99.8%'],
    ['latency-p99', '<= baseline + 5ms', measured(44), undefined, 'Error', 'no baseline measurement for a relative objective; measure a baseline window first'],
    ['latency-p99', '<= baseline + 5ms', measured(44), measured(Number.NaN, 0), 'Inconclusive', 'the baseline window has no data'],
    ['plaintext-share', '<= 0%', measured(16.7), undefined, 'Failed', '16.7% misses <= 0%'],
  ] as const)('%s %s → %s', (sli, objective, measurement, baseline, verdict, reason) => {
    const result = evaluate(sli, {}, objective, measurement, { minSamples: 100, ...(baseline ? { baseline } : {}) });

    expect(result.verdict).toBe(verdict);
    expect(result.reason).toBe(reason);
    expect(result.samples).toBe(measurement.samples);
  });

  it('fires a multi-window burn-rate alert only when both windows burn fast', () => {
    expect(burnRateAlert(99.9, 0.02, 0.03).firing).toBe(true);
    expect(burnRateAlert(99.9, 0.02, 0.001).firing).toBe(false);
    expect(burnRateAlert(99.9, 0.0005, 0.03).firing).toBe(false);
    expect(burnRateAlert(99.9, 0.0144, 0.0144)).toMatchObject({ firing: true });
  });
});
