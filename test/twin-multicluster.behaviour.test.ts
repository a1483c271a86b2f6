import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient } from '../clusters/kube/index.js';
import { SimFleet } from '../clusters/sim/fleet.js';
import { topologyWorkloads } from '../clusters/workloads.js';
import { istioCacerts, meshAdapter } from '../meshes/index.js';
import { Topology } from '../model/topology.js';

// Istio multi-primary on one network, on two embedded clusters: what a caller in one region sees
// when the other region's pods serve part of its requests, and when that region is lost. Observed
// through each cluster's metrics, as its Prometheus would scrape them.

const MIN = 60_000;
const CROSS_MS = 40;

const TOPOLOGY = Topology.parse({
  apiVersion: 'meshdrill.dev/v1alpha1',
  kind: 'Topology',
  metadata: { name: 'regions' },
  spec: {
    entrypoints: [{ service: 'shop/web', rps: 50 }],
    namespaces: [{ name: 'shop', services: [{ name: 'web', replicas: 2, calls: [{ to: 'shop/api' }] }, { name: 'api', replicas: 3, latency: { p50: '5ms', p99: '20ms' } }] }],
  },
});

const fleets: SimFleet[] = [];
afterEach(async () => {
  for (const f of fleets.splice(0)) await f.close();
});

/** west and east, Istio in each (with one root, or each its own), the topology deployed and meshed in both. */
async function regions(options: { sharedRoot: boolean; linked: boolean }) {
  const fleet = await SimFleet.start({ clusters: [{ name: 'west', region: 'us-west' }, { name: 'east', region: 'us-east' }] });
  fleets.push(fleet);
  const adapter = meshAdapter('istio');
  const root = options.sharedRoot ? (await istioCacerts({ cluster: 'west' })).root : undefined;
  const kubes = new Map(fleet.members.map((m) => [m.name, createKubeClient(m.cluster.kubeconfig)]));
  for (const m of fleet.members) {
    const kube = kubes.get(m.name)!;
    // Plugged-in CA: one root, an intermediate per cluster (istio.io "Plug in CA certificates").
    for (const object of await adapter.installManifests({ now: new Date(fleet.clock.now()), ...(root ? { sharedRoot: { root, cluster: m.name } } : {}) })) await kube.apply(object);
  }
  await fleet.advance(5_000);
  for (const m of fleet.members) {
    const kube = kubes.get(m.name)!;
    for (const object of topologyWorkloads(TOPOLOGY)) await kube.apply(object);
    await adapter.meshNamespace(kube, 'shop', { now: new Date(fleet.clock.now()) });
  }
  if (options.linked) for (const from of fleet.members) for (const to of fleet.members) if (from !== to) await kubes.get(from.name)!.apply(fleet.remoteSecret(to.name));
  await fleet.advance(30_000);
  fleet.startTraffic(TOPOLOGY, { crossClusterMs: CROSS_MS, entryShares: { west: 1 } });
  await fleet.advance(2 * MIN);
  return fleet;
}

/** What west's web pods saw calling shop/api between two times: requests, the share that succeeded, mean latency (ms). */
function westCallers(fleet: SimFleet, from: number, to: number) {
  const m = fleet.member('west').twin.metrics;
  const match = { source_workload: 'web', destination_service: 'api', destination_namespace: 'shop' };
  const total = m.increase('meshdrill_client_requests_total', match, from, to);
  const ok = m.increase('meshdrill_client_requests_total', { ...match, code: '200' }, from, to);
  const count = m.increase('meshdrill_client_request_duration_milliseconds_count', match, from, to);
  const sum = m.increase('meshdrill_client_request_duration_milliseconds_sum', match, from, to);
  return { total, success: total > 0 ? ok / total : Number.NaN, meanMs: count > 0 ? sum / count : Number.NaN };
}

/** Requests west's sidecars sent to shop/api, by the cluster that served them (istio_requests_total's destination_cluster). */
function servedBy(fleet: SimFleet, from: number, to: number): Record<string, number> {
  const m = fleet.member('west').twin.metrics;
  const out: Record<string, number> = {};
  for (const s of m.increases('istio_requests_total', { reporter: 'source', destination_service_name: 'api' }, from, to)) if (s.value > 0) out[s.labels['destination_cluster']!] = (out[s.labels['destination_cluster']!] ?? 0) + s.value;
  return out;
}

describe('Istio multi-primary on the embedded fleet', () => {
  it('spreads a caller\'s requests over both clusters\' endpoints, the remote ones a round trip slower, each side counted in its own cluster', async () => {
    const fleet = await regions({ sharedRoot: true, linked: true });
    const t = fleet.clock.now();
    await fleet.advance(5 * MIN);

    const served = servedBy(fleet, t, fleet.clock.now());
    const total = (served['west'] ?? 0) + (served['east'] ?? 0);
    // Without locality failover (it needs outlierDetection), Envoy balances over every endpoint: 3 of 6 are east's.
    expect((served['east'] ?? 0) / total).toBeCloseTo(0.5, 1);
    expect(westCallers(fleet, t, fleet.clock.now()).success).toBe(1);
    // East's sidecars report what they served for west's callers, in east's metrics.
    const east = fleet.member('east').twin.metrics.increase('istio_requests_total', { reporter: 'destination', destination_service_name: 'api', source_cluster: 'west', destination_cluster: 'east', connection_security_policy: 'mutual_tls' }, t, fleet.clock.now());
    expect(east).toBeCloseTo(served['east']!, 0);
    // Remote requests take the round trip on top: the source-reported latency of each side.
    const latency = (cluster: string) => {
      const m = fleet.member('west').twin.metrics;
      const match = { reporter: 'source', destination_service_name: 'api', destination_cluster: cluster };
      return m.increase('istio_request_duration_milliseconds_sum', match, t, fleet.clock.now()) / m.increase('istio_request_duration_milliseconds_count', match, t, fleet.clock.now());
    };
    expect(latency('east') - latency('west')).toBeCloseTo(CROSS_MS, 0);
  });

  it('keeps every request in the caller\'s cluster without remote secrets, and fails the remote ones without a shared root', async () => {
    const unlinked = await regions({ sharedRoot: true, linked: false });
    const t1 = unlinked.clock.now();
    await unlinked.advance(5 * MIN);
    expect(Object.keys(servedBy(unlinked, t1, unlinked.clock.now()))).toEqual(['west']);

    // Each istiod with a self-signed root of its own: east's certificates do not verify in west's sidecars.
    const strangers = await regions({ sharedRoot: false, linked: true });
    const t2 = strangers.clock.now();
    await strangers.advance(5 * MIN);
    const seen = westCallers(strangers, t2, strangers.clock.now());
    expect(seen.success).toBeLessThan(0.9);
    expect(seen.success).toBeGreaterThan(0.4);
  });

  it('loses a region: its pods stop answering at once, callers wait out connect timeouts until Kubernetes marks the nodes NotReady, then istiod stops sending them there', async () => {
    const fleet = await regions({ sharedRoot: true, linked: true });
    const east = fleet.member('east');
    const nodes = ['sim-worker', 'sim-worker2', 'sim-worker3'];
    const before = fleet.clock.now();
    await fleet.advance(2 * MIN);
    const healthy = westCallers(fleet, before, fleet.clock.now());

    const lost = fleet.clock.now();
    for (const node of nodes) east.cluster.controllers.stopNode(node);
    await fleet.advance(40_000);
    const grace = westCallers(fleet, lost, fleet.clock.now());
    await fleet.advance(20_000);
    const after = fleet.clock.now();
    await fleet.advance(3 * MIN);
    const recovered = westCallers(fleet, after, fleet.clock.now());

    expect(healthy.success).toBe(1);
    expect(healthy.meanMs).toBeLessThan(60);
    // Half the first tries meet a dead endpoint: most succeed on retry, after Envoy's 10 s connect timeout.
    expect(grace.success).toBeGreaterThan(0.8);
    expect(grace.success).toBeLessThan(1);
    expect(grace.meanMs).toBeGreaterThan(3_000);
    // Once the node lifecycle controller marks east's nodes NotReady (50 s), their endpoints go and west serves alone.
    expect(recovered.success).toBe(1);
    expect(recovered.meanMs).toBeLessThan(healthy.meanMs);
    expect(Object.keys(servedBy(fleet, after + MIN, fleet.clock.now()))).toEqual(['west']);
  });

  it('says what it does not model: locality load balancing under outlierDetection, and another cluster\'s NetworkPolicies for callers from outside it', async () => {
    const fleet = await regions({ sharedRoot: true, linked: true });
    const west = createKubeClient(fleet.member('west').cluster.kubeconfig);
    const east = createKubeClient(fleet.member('east').cluster.kubeconfig);
    await east.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'only-shop', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] } });
    await west.apply({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'api', namespace: 'shop' }, spec: { host: 'api.shop.svc.cluster.local', trafficPolicy: { outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s' } } } });
    const traffic = fleet.startTraffic(TOPOLOGY, { crossClusterMs: CROSS_MS, entryShares: { west: 1 } });
    await fleet.advance(MIN);

    expect(traffic.models[0]!.notModelledSeen()).toEqual([
      expect.stringMatching(/^NetworkPolicy in shop of cluster east: not applied to callers in other clusters/),
      expect.stringMatching(/^locality load balancing for shop\/api: a DestinationRule with outlierDetection makes Istio prefer endpoints in the caller's own region/),
    ]);
  });
});
