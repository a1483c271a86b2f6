import { clusterIdentity, inProcessKubeClient, simWorkerNames, SimFleet, type KubeClient, type KubeObject } from '../clusters/index.js';
import type { ClusterSpec } from '../clusters/schema.js';
import { istioCacerts, type MeshAdapter } from '../meshes/index.js';
import { parseDuration, parsePercent } from '../model/index.js';
import { ClientViewSource, EmbeddedSource, PrometheusClient, PrometheusSource, type SliSource } from '../slo/index.js';
import type { ClusterHandle } from './cluster-handle.js';

export type FleetSpec = NonNullable<ClusterSpec['spec']['fleet']>;

/**
 * Writes go to every cluster of the fleet, reads come from the first: the fleet's clusters carry
 * the same configuration, as one GitOps repo applied to each would. A resourceVersion precondition
 * holds in the first only (each cluster counts its own).
 */
function everywhere(kubes: KubeClient[]): KubeClient {
  const [first, ...rest] = kubes as [KubeClient, ...KubeClient[]];
  const unpinned = (patch: Record<string, unknown>) => {
    const metadata = patch['metadata'] as Record<string, unknown> | undefined;
    if (!metadata || !('resourceVersion' in metadata)) return patch;
    const { resourceVersion: _rv, ...kept } = metadata;
    return { ...patch, metadata: kept };
  };
  return {
    get: (...args) => first.get(...args),
    list: (...args) => first.list(...args),
    logs: (...args) => first.logs(...args),
    async apply(object) {
      const result = await first.apply(object);
      for (const kube of rest) await kube.apply(object);
      return result;
    },
    async create(object) {
      const result = await first.create(object);
      for (const kube of rest) await kube.create(object);
      return result;
    },
    async mergePatch(apiVersion, kind, namespace, name, patch) {
      const result = await first.mergePatch(apiVersion, kind, namespace, name, patch);
      for (const kube of rest) await kube.mergePatch(apiVersion, kind, namespace, name, unpinned(patch));
      return result;
    },
    async delete(apiVersion, kind, namespace, name) {
      const gone = await first.delete(apiVersion, kind, namespace, name);
      // A pod of one cluster has no namesake in another: each deletes what it has.
      for (const kube of rest) await kube.delete(apiVersion, kind, namespace, name);
      return gone;
    },
  };
}

/** SLIs read in one cluster: the twin's store, and raw PromQL through the cluster's own Prometheus API. */
function sourcesIn(metrics: ConstructorParameters<typeof EmbeddedSource>[0], url: string, mode: 'sidecar' | 'ambient'): { mesh: SliSource; client: SliSource } {
  const embedded = new EmbeddedSource(metrics, 'istio', mode);
  const prometheus = new PrometheusSource(new PrometheusClient({ url }), 'istio', mode);
  return {
    mesh: { name: embedded.name, measure: (sli, scope, window, options) => (sli === 'promql' ? prometheus.measure(sli, scope, window, options) : embedded.measure(sli, scope, window)) },
    client: new ClientViewSource(metrics),
  };
}

/**
 * Several embedded clusters as one Istio multi-primary mesh for a game day: one virtual clock,
 * one root CA with an intermediate per cluster, remote secrets between the istiods, the topology
 * deployed and meshed in each, the entrypoints' load split as `entry` says. Steps write to every
 * cluster; measurements are read in the first; region-loss takes one cluster's nodes down (nodes
 * are named "<cluster>/<node>").
 */
export async function embeddedFleet(options: { seed: number; nodes?: number; fleet: FleetSpec }): Promise<ClusterHandle & { fleet: SimFleet }> {
  const fleet = await SimFleet.start({ clusters: options.fleet.clusters, seed: options.seed, ...(options.nodes ? { nodes: options.nodes } : {}) });
  const kubes = fleet.members.map((m) => inProcessKubeClient(m.cluster));
  const first = fleet.members[0]!;
  const workers = simWorkerNames(options.nodes ?? 3);
  const crossClusterMs = parseDuration(options.fleet.crossClusterLatency) ?? 30;
  const entryShares = options.fleet.entry ? Object.fromEntries(Object.entries(options.fleet.entry).map(([name, share]) => [name, (parsePercent(share) ?? 0) / 100])) : undefined;
  let traffic: ReturnType<SimFleet['startTraffic']> | undefined;
  return {
    provider: 'embedded fleet',
    ephemeral: true,
    fleet,
    kube: everywhere(kubes),
    identity: () => clusterIdentity(kubes[0]!, first.cluster.kubeconfig),
    now: () => fleet.clock.now(),
    advance: (ms) => fleet.advance(ms),
    sources: (_mesh, mode) => ({ ...sourcesIn(first.twin.metrics, first.cluster.url, mode), clusters: Object.fromEntries(fleet.members.map((m) => [m.name, sourcesIn(m.twin.metrics, m.cluster.url, mode)])) }),
    nodes: {
      nodes: () => fleet.members.flatMap((m) => workers.map((node) => `${m.name}/${node}`)),
      setReady: async (qualified, ready) => {
        const [name, node] = qualified.split('/') as [string, string];
        const { cluster } = fleet.member(name);
        if (ready) cluster.controllers.startNode(node);
        else cluster.controllers.stopNode(node);
        cluster.settle();
      },
    },
    // Each cluster signs with an intermediate of one root, and each istiod reads the others' endpoints.
    async installMesh(adapter: MeshAdapter, certLifetimeMs: number) {
      const { root } = await istioCacerts({ cluster: first.name });
      for (const [i, m] of fleet.members.entries()) {
        for (const object of await adapter.installManifests({ now: new Date(fleet.clock.now()), certLifetimeMs, sharedRoot: { root, cluster: m.name } })) await kubes[i]!.apply(object);
      }
      const secrets = new Map<string, KubeObject>(fleet.members.map((m) => [m.name, fleet.remoteSecret(m.name)]));
      for (const [i, from] of fleet.members.entries()) for (const to of fleet.members) if (from !== to) await kubes[i]!.apply(secrets.get(to.name)!);
    },
    startTraffic(topology) {
      traffic = fleet.startTraffic(topology, { crossClusterMs, ...(entryShares ? { entryShares } : {}) });
    },
    notModelled: () => [...new Set([...fleet.members.flatMap((m) => m.twin.notModelled()), ...(traffic?.models.flatMap((m) => m.notModelledSeen()) ?? [])])],
    setTrafficRate(totalRps) {
      if (!traffic) return;
      const natural = traffic.models[0]!.naturalRps();
      traffic.setRpsScale(totalRps === undefined || natural === 0 ? 1 : totalRps / natural);
    },
    close: () => fleet.close(),
  };
}
