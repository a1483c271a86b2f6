import type { KubeClient } from '../../clusters/kube/index.js';
import { inProcessKubeClient } from '../../clusters/sim/in-process-client.js';
import { topologyWorkloads } from '../../clusters/workloads.js';
import type { Topology } from '../../model/topology.js';
import { meshAdapter, type MeshAdapter } from '../../meshes/index.js';
import { startSimCluster, type SimCluster } from '../../clusters/sim/cluster.js';
import { attachMeshTwin } from '../../clusters/sim/mesh/attach.js';
import type { MeshTwin } from '../../clusters/sim/mesh/twin.js';

/** An embedded cluster with a mesh installed through its adapter and a topology deployed, for tests and benchmarks. */
export interface MeshLab {
  cluster: SimCluster;
  twin: MeshTwin;
  kube: KubeClient;
  adapter: MeshAdapter;
  close(): Promise<void>;
}

export async function startMeshLab(options: { mesh: 'istio' | 'linkerd'; mode?: 'sidecar' | 'ambient'; topology?: Topology; certLifetimeMs?: number; nodes?: number; seed?: number }): Promise<MeshLab> {
  const cluster = await startSimCluster({ nodes: options.nodes ?? 3, seed: options.seed ?? 1 });
  const twin = attachMeshTwin(cluster);
  const kube = inProcessKubeClient(cluster);
  const adapter = meshAdapter(options.mesh, options.mode ?? 'sidecar');
  for (const object of await adapter.installManifests({ now: new Date(cluster.clock.now()), ...(options.certLifetimeMs ? { certLifetimeMs: options.certLifetimeMs } : {}) })) await kube.apply(object);
  await cluster.advance(5_000);
  if (options.topology) {
    for (const object of topologyWorkloads(options.topology)) await kube.apply(object);
    await cluster.advance(5_000);
  }
  return { cluster, twin, kube, adapter, close: () => cluster.close() };
}
