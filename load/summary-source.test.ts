import { describe, expect, it } from 'vitest';
import { evaluate, PrometheusSource, PrometheusClient } from '../slo/index.js';
import { LoadSummarySource } from './summary-source.js';

const result = {
  runner: 'k6',
  requests: 12_000,
  failed: 127,
  connectionErrors: 0,
  successRate: 98.94,
  latency: { p50: 14.1, p95: 53.8, p99: 138.2 },
  thresholds: [],
  thresholdsFailed: false,
  window: { from: 0, to: 60_000 },
};

describe('slo/sources', () => {
  it('measures mesh-wide SLIs from a load summary', async () => {
    const source = new LoadSummarySource(result);

    const success = await source.measure('success-rate', {}, result.window);
    const p99 = await source.measure('latency-p99', {}, result.window);

    expect(evaluate('success-rate', {}, '>= 99%', success, { minSamples: 100 })).toMatchObject({ verdict: 'Failed', samples: 12_000, reason: '98.94% misses >= 99%' });
    expect(evaluate('latency-p99', {}, '<= 250ms', p99, { minSamples: 100 }).verdict).toBe('Successful');
  });

  it('refuses scopes and SLIs a load summary cannot see, as Error verdicts', async () => {
    const source = new LoadSummarySource(result);

    const scoped = await source.measure('success-rate', { namespace: 'payments' }, result.window);
    const cert = await source.measure('cert-min-remaining', {}, result.window);

    expect(evaluate('success-rate', { namespace: 'payments' }, '>= 99%', scoped, { minSamples: 1 }).verdict).toBe('Error');
    expect(cert.error).toBe('a load summary has no cert-min-remaining');
  });

  it('turns an unreachable Prometheus into an Error verdict, never a pass', async () => {
    const source = new PrometheusSource(new PrometheusClient({ url: 'http://127.0.0.1:1', retries: 0, sleep: async () => undefined }), 'istio');

    const measured = await source.measure('success-rate', { namespace: 'payments' }, { from: 0, to: 300_000 });

    expect(evaluate('success-rate', { namespace: 'payments' }, '>= 99.9%', measured, { minSamples: 1 })).toMatchObject({ verdict: 'Error' });
    expect(measured.query).toContain('istio_requests_total');
  });
});
