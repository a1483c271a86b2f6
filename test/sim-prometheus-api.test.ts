import { afterEach, describe, expect, it } from 'vitest';
import type { Scope, SliKey } from '../model/index.js';
import { Lab } from './helpers/twin-lab.js';
import { EmbeddedSource, PrometheusClient, PrometheusSource } from '../slo/index.js';
import { evaluatePromql, parsePromql } from '../clusters/sim/mesh/promql.js';

const labs: Lab[] = [];
afterEach(async () => {
  for (const lab of labs.splice(0)) await lab.close();
});

// Every SLI meshdrill measures, through the embedded cluster's Prometheus API, equals the same SLI
// evaluated on its store directly: the served cluster measures as the in-process one does.
const CHECKS: Array<[SliKey, Scope]> = [
  ['success-rate', {}],
  ['success-rate', { namespace: 'server' }],
  ['success-rate', { edge: { from: 'client/caller', to: 'server/api' } }],
  ['error-rate-5xx', { service: 'server/api' }],
  ['error-rate-4xx', { service: 'server/api' }],
  ['latency-p50', { namespace: 'server' }],
  ['latency-p99', { service: 'server/api' }],
  ['plaintext-share', { namespace: 'server' }],
  ['retries-per-request', { namespace: 'client' }],
  ['cert-min-remaining', { namespace: 'server' }],
  ['proxy-config-age', { namespace: 'server' }],
  ['proxy-memory', { service: 'server/api' }],
  ['proxy-cpu', { namespace: 'server' }],
  ['proxy-restarts', { namespace: 'server' }],
  ['tls-handshake-failures', { namespace: 'server' }],
  ['telemetry-ingestion', { namespace: 'server' }],
  ['push-latency', {}],
];

describe('the embedded cluster\'s Prometheus API', () => {
  it.each(['istio', 'linkerd'] as const)('%s: every SLI through the API equals the store', async (mesh) => {
    const lab = await Lab.start(mesh, { tickMs: 5_000, serverErrorRate: '3%' });
    labs.push(lab);
    await lab.mesh('server');
    await lab.mesh('client');
    await lab.advance(10 * 60_000);
    const window = { from: lab.now - 5 * 60_000, to: lab.now };
    const store = new EmbeddedSource(lab.lab.twin.metrics, mesh);
    const api = new PrometheusSource(new PrometheusClient({ url: lab.lab.cluster.url }), mesh);

    const rows: string[] = [];
    for (const [sli, scope] of CHECKS) {
      if (mesh === 'linkerd' && (sli === 'push-latency' || sli === 'proxy-config-age')) continue;
      const a = await store.measure(sli, scope, window);
      const b = await api.measure(sli, scope, window);
      const same = (Number.isNaN(a.value) && Number.isNaN(b.value)) || Math.abs(a.value - b.value) <= 1e-9 * Math.max(1, Math.abs(a.value));
      if (!same || a.samples !== b.samples || b.error) rows.push(`${sli} ${JSON.stringify(scope)}: store ${a.value} (${a.samples}) vs API ${b.value} (${b.samples}) ${b.error ?? ''}`);
    }

    expect(rows).toEqual([]);
  });

  it('refuses PromQL outside the subset it answers, saying where it stopped', async () => {
    const lab = await Lab.start('istio', { tickMs: 5_000 });
    labs.push(lab);

    const response = await fetch(`${lab.lab.cluster.url}/api/v1/query?query=${encodeURIComponent('quantile_over_time(0.9, up[5m])')}`);
    const body = (await response.json()) as { status: string; error: string };

    expect(response.status).toBe(400);
    expect(body).toEqual({ status: 'error', errorType: 'bad_data', error: 'the embedded cluster answers the PromQL meshdrill renders for its SLIs; this query is outside it: function quantile_over_time() is not in the subset the embedded cluster answers (rate, increase, sum, min, max, count, histogram_quantile, vector, time)' });
    expect(() => parsePromql('sum(rate(x{a="b"}[5m])')).toThrow('the query ends early; expected ")"');
    expect(evaluatePromql(lab.lab.twin.metrics, 'sum(rate(nothing_total[5m])) or vector(0)', lab.now)).toEqual({ kind: 'vector', samples: [{ metric: {}, value: 0 }] });
  });
});
