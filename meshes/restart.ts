import type { KubeClient } from '../clusters/kube/types.js';

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
