import { expect } from 'vitest';
import { EmbeddedSource } from '../slo/index.js';
import type { Scope, SliKey } from '../model/index.js';
import { behaviourTable, type BehaviourCase } from './helpers/behaviour-table.js';
import { HOUR, type Lab } from './helpers/twin-lab.js';

// The proxies' own signals as the practice guides ask for them — CPU, restarts, failed
// handshakes, whether their telemetry arrives — each read through the SLI a gate would use, on
// the embedded cluster under traffic.

const MIN = 60_000;

async function sli(lab: Lab, sli: SliKey, scope: Scope, windowMs = 5 * MIN): Promise<{ value: number; samples: number }> {
  const source = new EmbeddedSource(lab.lab.twin.metrics, lab.lab.adapter.name, lab.lab.adapter.mode);
  const m = await source.measure(sli, scope, { from: lab.now - windowMs, to: lab.now });
  return { value: m.value, samples: m.samples };
}

async function loseCa(lab: Lab): Promise<void> {
  const [ns, name] = lab.lab.adapter.name === 'istio' ? ['istio-system', 'istiod'] : ['linkerd', 'linkerd-identity'];
  await lab.lab.kube.mergePatch('apps/v1', 'Deployment', ns, name, { spec: { replicas: 0 } });
  await lab.advance(5_000);
}

/** Stops the mesh's Prometheus (meshdrill-monitoring, app=prometheus) reaching anything in `namespace`. */
function blockScrapes(namespace: string) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'no-scrapes', namespace },
    spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['meshdrill-monitoring'] }] } }] }] },
  };
}

const cases: BehaviourCase[] = [
  {
    name: 'istio: an expired workload certificate fails every handshake into the server, counted at its inbound listener; none before',
    mesh: 'istio',
    certLifetimeMs: HOUR,
    tickMs: MIN,
    source: 'envoyproxy.io listener SSL statistics (connection_error, fail_verify_error); istio.io envoy-stats proxyStatsMatcher',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.advance(10 * MIN);
      const healthy = await sli(lab, 'tls-handshake-failures', { namespace: 'server' });
      await loseCa(lab);
      await lab.advance(2 * HOUR);
      const expired = await sli(lab, 'tls-handshake-failures', { namespace: 'server' });
      const refusedByClients = lab.increase('envoy_listener_ssl_connection_error', { namespace: 'server' }, lab.now - 5 * MIN);
      const refusedByServer = lab.increase('envoy_listener_ssl_fail_verify_error', { namespace: 'server' }, lab.now - 5 * MIN);

      expect(healthy.value).toBe(0);
      expect(healthy.samples).toBeGreaterThan(0);
      // client/caller sends 20 rps; each request tries three handshakes (Istio's 2 connect retries).
      expect(expired.value).toBeGreaterThan(20 * 60 * 3 * 0.9);
      expect(refusedByClients + refusedByServer).toBeGreaterThan(0);
    },
  },
  {
    name: 'linkerd: an expired certificate fails handshakes, counted among the inbound proxy\'s i/o errors; no errors is zero, not no data',
    mesh: 'linkerd',
    certLifetimeMs: HOUR,
    tickMs: MIN,
    source: 'linkerd2-proxy app/inbound metrics error kinds (error="i/o"); linkerd.io reference/proxy-metrics transport metrics',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.advance(10 * MIN);
      const healthy = await sli(lab, 'tls-handshake-failures', { namespace: 'server' });
      await loseCa(lab);
      await lab.advance(3 * HOUR);
      const expired = await sli(lab, 'tls-handshake-failures', { namespace: 'server' });

      expect(healthy).toEqual({ value: 0, samples: expect.any(Number) });
      expect(healthy.samples).toBeGreaterThan(0);
      expect(expired.value).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: a sidecar\'s CPU grows with the requests through it, about 0.35 vCPU per 1,000 rps',
    mesh: 'istio',
    tickMs: 10_000,
    source: 'istio.io docs/ops/deployment/performance-and-scalability (Istio 1.12–1.16 summary: 0.35 vCPU per 1000 rps through the proxy)',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.advance(5 * MIN);
      const normal = await sli(lab, 'proxy-cpu', { namespace: 'server' });
      lab.traffic.setRpsScale(10);
      await lab.advance(5 * MIN);
      const busy = await sli(lab, 'proxy-cpu', { namespace: 'server' });

      // server/api's two pods share its callers' 30.1 rps: 15.05 each, then ten times that.
      expect(busy.value - normal.value).toBeCloseTo((9 * 15.05 * 0.35) / 1000, 4);
      expect(normal.samples).toBe(2);
    },
  },
  {
    name: 'istio: a sidecar whose CPU limit is below its demand adds queueing delay and sheds what it cannot serve',
    mesh: 'istio',
    tickMs: 10_000,
    source: 'istio.io reference/config/annotations sidecar.istio.io/proxyCPULimit; Envoy concurrency 2; M/M/1 queueing (proxy-load.ts)',
    run: async (lab) => {
      await lab.mesh('client');
      await lab.lab.kube.mergePatch('apps/v1', 'Deployment', 'server', 'api', { spec: { template: { metadata: { annotations: { 'sidecar.istio.io/proxyCPULimit': '1m' } } } } });
      await lab.mesh('server');
      await lab.advance(2 * MIN);
      const start = lab.now;
      const stats = await lab.window(5 * MIN, 'client/caller', 'server/api');
      const latency = lab.meanLatency('client/caller', 'server/api', start);

      // 15 rps per pod wants about 0.004 + 0.005 cores; 1m is a ninth of that.
      expect(stats.share).toBeLessThan(0.3);
      expect(stats.codes['503']).toBeGreaterThan(0);
      expect(latency).toBeGreaterThan(50);
    },
  },
  {
    name: 'istio: a restarted proxy container counts in proxy-restarts (kube-state-metrics restartCount)',
    mesh: 'istio',
    tickMs: 10_000,
    source: 'kube-state-metrics kube_pod_container_status_restarts_total from status.containerStatuses[].restartCount',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.advance(5 * MIN);
      const before = await sli(lab, 'proxy-restarts', { namespace: 'server' }, 10 * MIN);
      const [pod] = lab.pods('server');
      lab.lab.cluster.controllers.pods.restartContainer('server', pod!.metadata.name, 'istio-proxy', 'OOMKilled');
      await lab.advance(5 * MIN);
      const after = await sli(lab, 'proxy-restarts', { namespace: 'server' }, 10 * MIN);

      expect(before.value).toBe(0);
      // One restart in a 10 minute window: 6 per hour.
      expect(after.value).toBeCloseTo(6, 6);
    },
  },
  {
    name: 'istio: when Prometheus cannot reach the proxies, up is 0 and the request SLIs have no data (Inconclusive), not a pass',
    mesh: 'istio',
    tickMs: 10_000,
    source: 'prometheus.io docs: the up series and staleness of a failed scrape; NetworkPolicy ingress isolation',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.advance(5 * MIN);
      const scraped = await sli(lab, 'telemetry-ingestion', { namespace: 'server' });
      await lab.apply(blockScrapes('server'));
      await lab.advance(6 * MIN);
      const dropped = await sli(lab, 'telemetry-ingestion', { namespace: 'server' });
      const success = await sli(lab, 'success-rate', { namespace: 'server' });
      const cert = await sli(lab, 'cert-min-remaining', { namespace: 'server' });
      await lab.lab.kube.delete('networking.k8s.io/v1', 'NetworkPolicy', 'server', 'no-scrapes');
      await lab.advance(6 * MIN);
      const back = await sli(lab, 'success-rate', { namespace: 'server' });

      expect(scraped.value).toBe(100);
      expect(dropped.value).toBe(0);
      expect(Number.isNaN(success.value)).toBe(true);
      expect(Number.isNaN(cert.value)).toBe(true);
      expect(back.value).toBe(100);
    },
  },
];

behaviourTable('the proxies\' own signals (CPU, restarts, handshakes, telemetry)', cases);
