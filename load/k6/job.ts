import type { KubeObject } from '../../clusters/index.js';
import type { LoadPlan } from '../types.js';
import { remoteWriteEnv, type RemoteWrite } from './distributed.js';
import { k6ScriptConfigMap } from './script.js';

/**
 * k6 as an in-cluster Job, so the load generator sits inside the mesh or outside it — which is
 * what STRICT mTLS decides. `meshed: false` opts the pod out of injection for both meshes, as
 * k6-operator users do (sidecar.istio.io/inject: "false"); backoffLimit 0, restartPolicy Never,
 * and exit code 99 on the runner container means thresholds failed (k6-operator runner.go).
 */
export function k6JobManifests(plan: LoadPlan, options: { namespace: string; meshed: boolean; runId: string; image?: string; activeDeadlineSeconds?: number; remoteWrite?: RemoteWrite }): KubeObject[] {
  const { name, labels, configMap } = k6ScriptConfigMap(plan, options.namespace, options.runId);
  const injection = options.meshed ? {} : { 'sidecar.istio.io/inject': 'false' };
  return [
    configMap,
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: options.namespace, labels },
      spec: {
        backoffLimit: 0,
        // A bound on its life, so load outlives a killed run by at most this long.
        ...(options.activeDeadlineSeconds ? { activeDeadlineSeconds: options.activeDeadlineSeconds } : {}),
        template: {
          metadata: { labels: { ...labels, ...injection }, annotations: options.meshed ? { 'linkerd.io/inject': 'enabled' } : { 'linkerd.io/inject': 'disabled' } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'k6',
                image: options.image ?? `grafana/k6:${plan.k6Version.replace(/^v/, '')}`,
                args: ['run', '--quiet', '--tag', `testid=${options.runId}`, ...(options.remoteWrite ? ['--out', 'experimental-prometheus-rw'] : []), '/scripts/script.js'],
                env: [{ name: 'MESHDRILL_SUMMARY', value: '/dev/stdout' }, ...(options.remoteWrite ? remoteWriteEnv(options.remoteWrite) : [])],
                volumeMounts: [{ name: 'script', mountPath: '/scripts' }],
              },
            ],
            volumes: [{ name: 'script', configMap: { name } }],
          },
        },
      },
    },
  ];
}
