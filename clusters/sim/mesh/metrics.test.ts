import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../../test/helpers/twin-lab.js';
import { MetricStore } from './metrics.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

describe('mesh twin metrics', () => {
  it('serves mesh-native metrics at /metrics in the Prometheus text format', async () => {
    lab = await Lab.start('istio');
    await lab.mesh('server');
    await lab.mesh('client');
    await lab.advance(60_000);

    const text = await (await fetch(`${lab.lab.cluster.url}/metrics`)).text();

    expect(text).toContain('# TYPE istio_requests_total counter');
    expect(text).toContain('# TYPE istio_request_duration_milliseconds histogram');
    expect(text).toMatch(/^istio_requests_total\{reporter="destination",source_workload="caller",source_workload_namespace="client",.*connection_security_policy="mutual_tls".*\} \d/m);
    expect(text).toMatch(/^istio_request_duration_milliseconds_bucket\{.*le="\+Inf"\} \d/m);
    expect(text).toMatch(/^istio_agent_cert_expiry_seconds\{namespace="server",pod="api-[a-z0-9-]+"\} \d/m);
    // Every sample line is `name{labels} value`.
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?[\d.e+-]+$|^.* (NaN|[+-]Inf)$/);
  });

  it('reports Linkerd metrics with direction, tls and classification', async () => {
    lab = await Lab.start('linkerd');
    await lab.mesh('server');
    await lab.mesh('client');
    const start = lab.now;
    await lab.advance(60_000);

    expect(lab.increase('response_total', { direction: 'inbound', namespace: 'server', tls: 'true', classification: 'success' }, start)).toBeGreaterThan(0);
    expect(lab.increase('response_total', { direction: 'inbound', namespace: 'server', tls: 'no_identity' }, start)).toBeGreaterThan(0);
    expect(lab.lab.twin.metrics.gauge('identity_cert_expiration_timestamp_seconds', { namespace: 'server' }, lab.now, 'min')).toBeGreaterThan(lab.now / 1000 + 23 * 3600);
  });

  it('sizes proxies: an Istio Sidecar resource shrinks the config, memory and push cost', async () => {
    lab = await Lab.start('istio');
    await lab.mesh('server');
    await lab.advance(60_000);
    const before = lab.lab.twin.metrics.gauge('container_memory_working_set_bytes', { namespace: 'server' }, lab.now, 'max');

    await lab.apply({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: 'server' }, spec: { egress: [{ hosts: ['./*'] }] } });
    await lab.advance(60_000);
    const after = lab.lab.twin.metrics.gauge('container_memory_working_set_bytes', { namespace: 'server' }, lab.now, 'max');

    expect(before).toBeGreaterThan(50 * 1_048_576);
    expect(after).toBeLessThan(before);
  });

  it('computes increase and histogram quantiles over windows like PromQL', () => {
    const m = new MetricStore();
    m.observe('lat', { a: '1' }, [10, 100, 1000], [50, 40, 10], 5000, 100);
    m.sample(1);
    m.inc('req', { code: '200' }, 90);
    m.inc('req', { code: '500' }, 10);
    m.sample(2);

    expect(m.increase('req', { code: '!500' }, 0, 2)).toBe(90);
    expect(m.increase('req', { code: '~5..' }, 1, 2)).toBe(10);
    expect(m.quantile('lat', { a: '1' }, 0.5, 0, 1)).toBe(10);
    expect(m.quantile('lat', { a: '1' }, 0.9, 0, 1)).toBe(100);
    expect(m.quantile('lat', {}, 0.5, 1, 2)).toBeNaN();
  });

  it('keeps every value at every sample: rare changes across many samples, series made late, stale gauges', () => {
    const m = new MetricStore();
    const busy = m.counterHandle('busy', {});
    const stale = m.gaugeHandle('stale', {});
    for (let t = 1; t <= 100; t++) {
      busy.value += t;
      // A counter that moves every 37th sample only; a gauge that goes stale (NaN) from 50 to 80.
      if (t % 37 === 0) m.inc('rare', {}, 1);
      stale.value = t >= 50 && t <= 80 ? Number.NaN : t;
      if (t === 60) m.inc('late', { a: '1' }, 5);
      if (t === 60) m.observe('lat', {}, [10], [1], 3, 1);
      m.sample(t);
    }

    for (const [t, rare] of [[36, 0], [37, 1], [73, 1], [74, 2], [100, 2]] as const) expect(m.valuesAt('rare', {}, t)[0]!.value).toBe(rare);
    expect(m.increase('busy', {}, 10, 90)).toBe((90 * 91) / 2 - (10 * 11) / 2);
    expect(m.increase('late', {}, 0, 59)).toBe(0);
    expect(m.increase('late', {}, 59, 60)).toBe(5);
    expect(m.increase('lat_count', {}, 0, 100)).toBe(1);
    expect(m.valuesAt('stale', {}, 65)).toEqual([]);
    expect(m.gauge('stale', {}, 81, 'max')).toBe(81);
    // Between samples, the last sample's value; before the first, nothing yet.
    expect(m.valuesAt('busy', {}, 10.5)[0]!.value).toBe(55);
    expect(m.valuesAt('busy', {}, 0)[0]!.value).toBe(0);
  });
});
