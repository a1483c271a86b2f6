import type { KubeClient } from '../clusters/index.js';

const WORKLOADS: Array<[string, string]> = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
];

/**
 * `kubectl rollout restart` for every workload of a namespace: a new pod-template annotation, so
 * pods are recreated and injection runs again (injection happens only at pod creation).
 */
export async function restartWorkloads(kube: KubeClient, namespace: string, now: Date = new Date()): Promise<number> {
  let restarted = 0;
  for (const [apiVersion, kind] of WORKLOADS) {
    for (const workload of await kube.list(apiVersion, kind, { namespace })) {
      await kube.mergePatch(apiVersion, kind, namespace, workload.metadata.name, {
        spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': now.toISOString() } } } },
      });
      restarted++;
    }
  }
  return restarted;
}

/** Deletes objects in reverse order of creation (webhooks before the deployments that serve them). */
export async function deleteAll(kube: KubeClient, objects: Array<{ apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }>): Promise<number> {
  let deleted = 0;
  for (const o of [...objects].reverse()) if (await kube.delete(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name)) deleted++;
  return deleted;
}
