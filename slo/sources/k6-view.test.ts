import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusBinary, startPrometheus, type RunningPrometheus } from '../../test/helpers/prometheus.js';
import { remoteWrite, type Series } from '../../test/helpers/remote-write.js';
import { PrometheusClient } from '../prometheus-client.js';
import { k6ViewOver } from './k6-view.js';

// k6's metrics as its remote-write output sends them (counters as k6_*_total, trends as native
// histograms in seconds, the script's tags as labels), written into the real Prometheus with its
// remote-write receiver and native histograms on, then read back as the callers' view.
const binary = prometheusBinary();
let prometheus: RunningPrometheus;
const now = Date.now();
const t0 = now - 60_000;
const t1 = now - 1_000;
const run = 'gameday-1';

function requests(service: string, status: string, expected: boolean, runner: string, counts: [number, number]): Series {
  return { labels: { __name__: 'k6_http_reqs_total', testid: run, phase: 'main', service, status, expected_response: String(expected), scenario: 'main_0', instance: runner }, samples: [{ timestamp: t0, value: counts[0] }, { timestamp: t1, value: counts[1] }] };
}

// Two runners, each with half the requests: 96 % 200s, 3 % 503s, 1 % reset (status 0).
const SERIES: Series[] = ['runner-0', 'runner-1'].flatMap((runner) => [
  requests('ingress/gateway', '200', true, runner, [0, 4_800]),
  requests('ingress/gateway', '503', false, runner, [0, 150]),
  requests('ingress/gateway', '0', false, runner, [0, 50]),
  requests('legacy/batch', '200', true, runner, [0, 1_000]),
  {
    // Durations: 90 % near 30 ms (bucket 2^-5 s), 10 % near 250 ms (bucket 2^-2 s), as one native histogram per runner.
    labels: { __name__: 'k6_http_req_duration_seconds', testid: run, phase: 'main', service: 'ingress/gateway', scenario: 'main_0', instance: runner },
    histograms: [
      { timestamp: t0, count: 0, sum: 0, schema: 0, buckets: {} },
      { timestamp: t1, count: 5_000, sum: 5_000 * 0.05, schema: 0, buckets: { [-5]: 4_500, [-2]: 500 } },
    ],
  },
]);

describe.skipIf(!binary)('the callers\' view from k6\'s remote-written metrics, in the real Prometheus', () => {
  beforeAll(async () => {
    prometheus = await startPrometheus(binary!, '127.0.0.1:9', { flags: ['--web.enable-remote-write-receiver', '--enable-feature=native-histograms'] });
    await remoteWrite(prometheus.url, SERIES);
  }, 30_000);
  afterAll(async () => prometheus?.stop());

  it('merges the runners: success rate, failures with resets, latency percentiles from the native histograms, samples', async () => {
    const view = k6ViewOver(new PrometheusClient({ url: prometheus.url }), run);
    const window = { from: t0, to: t1 };

    const success = await view.measure('success-rate', { service: 'ingress/gateway' }, window);
    const failed = await view.measure('error-rate-5xx', { service: 'ingress/gateway' }, window);
    const p99 = await view.measure('latency-p99', { service: 'ingress/gateway' }, window);
    const p50 = await view.measure('latency-p50', { service: 'ingress/gateway' }, window);
    const namespace = await view.measure('success-rate', { namespace: 'legacy' }, window);
    const edge = await view.measure('success-rate', { edge: { from: 'ingress/gateway', to: 'shop/web' } }, window);
    const otherRun = await k6ViewOver(new PrometheusClient({ url: prometheus.url }), 'another-run').measure('success-rate', {}, window);

    expect(success.error).toBeUndefined();
    expect(success.value).toBeCloseTo(96, 6);
    expect(failed.value).toBeCloseTo(4, 6);
    expect(success.samples).toBeGreaterThan(9_000);
    // p99 falls in (125 ms, 250 ms], p50 in (15.6 ms, 31.25 ms]: Prometheus interpolates within the bucket.
    expect(p99.value).toBeGreaterThan(125);
    expect(p99.value).toBeLessThanOrEqual(250);
    expect(p50.value).toBeGreaterThan(15.6);
    expect(p50.value).toBeLessThanOrEqual(31.25);
    expect(p99.samples).toBeGreaterThan(9_000);
    expect(namespace.value).toBeCloseTo(100, 6);
    expect(edge.error).toBe('k6 sends the requests into the entrypoints only: an edge between services is not in its view (use source: mesh)');
    // Another run's testid has no data: Inconclusive downstream, never zero.
    expect(Number.isNaN(otherRun.value)).toBe(true);
  });
});
