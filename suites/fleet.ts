import { join } from 'node:path';
import type { Logger } from '../core/index.js';
import { installMeshOnCluster, createRootCa, type RealInstallOptions, type DataPlaneMode } from '../meshes/index.js';
import { createKubeClient, connectKindClusters, linkIstioClusters, multiclusterSubnets, provisionKindClusters, type ExecResult, type KubeClient, type KindCluster, type KindOptions } from '../clusters/index.js';

export interface KindFleet {
  clusters: Array<KindCluster & { kube: KubeClient; serviceSubnet: string }>;
  /** Every cluster's logs exported, then every cluster deleted (unless kept). */
  close(): Promise<void>;
}

/**
 * Several kind clusters as one Istio mesh (multi-primary, one network): made one after another
 * with their own ranges, Istio installed on each with one shared root and a per-cluster
 * intermediate (cacerts) and the fleet's mesh ID, flat routes between their pod and service
 * ranges, and a remote secret in every istiod for every other cluster.
 */
export async function provisionKindFleet(
  count: number,
  options: { kind: KindOptions; mesh: { version: string; mode: DataPlaneMode }; certLifetimeMs?: number; logger: Pick<Logger, 'info' | 'warn'>; installRun?: RealInstallOptions['run']; run?: (binary: string, args: string[]) => Promise<ExecResult> },
): Promise<KindFleet> {
  const made = await provisionKindClusters(count, options.kind);
  const close = async () => {
    for (const cluster of [...made].reverse()) await cluster.close().catch((error: Error) => options.logger.warn({ cluster: cluster.name }, `closing ${cluster.name} failed: ${error.message}`));
  };
  try {
    const root = await createRootCa({ commonName: 'meshdrill fleet root CA', lifetimeMs: 365 * 86_400_000 });
    const clusters = made.map((c, i) => ({ ...c, kube: createKubeClient(c.kubeconfig), serviceSubnet: multiclusterSubnets(i).serviceSubnet }));
    for (const c of clusters) {
      await installMeshOnCluster({ mesh: 'istio', mode: options.mesh.mode, version: options.mesh.version, ...(options.certLifetimeMs ? { certLifetimeMs: options.certLifetimeMs } : {}), kube: c.kube, kubeconfigPath: c.kubeconfigPath, workDir: join(options.kind.runDir, c.name), logger: options.logger, sharedRoot: { root, cluster: c.name }, ...(options.installRun ? { run: options.installRun } : {}) });
    }
    await connectKindClusters(clusters, { logger: options.logger, ...(options.run ? { run: options.run } : {}) });
    await linkIstioClusters(clusters, { logger: options.logger, ...(options.run ? { run: options.run } : {}) });
    return { clusters, close };
  } catch (error) {
    await close();
    throw error;
  }
}
