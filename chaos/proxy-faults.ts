import type { KubeObject } from '../clusters/index.js';
import type { Change } from './changes.js';
import type { FaultContext, FaultPlan } from './fault-types.js';
import type { FaultSpec } from './schema.js';

type ProxyFault = Extract<FaultSpec, { type: 'proxy-cpu-saturation' | 'proxy-memory-leak' }>;

/**
 * The per-pod proxy resource annotations each mesh's injector reads (istio.io reference/config/
 * annotations: sidecar.istio.io/proxyCPU, proxyCPULimit, proxyMemory, proxyMemoryLimit; linkerd.io
 * reference/proxy-configuration: config.linkerd.io/proxy-cpu-request, -limit, proxy-memory-*). The
 * request is set to the limit too: a request above its limit is an invalid pod.
 */
function resourceAnnotations(mesh: 'istio' | 'linkerd', resource: 'cpu' | 'memory', quantity: string): Record<string, string> {
  if (mesh === 'istio') {
    const base = resource === 'cpu' ? 'sidecar.istio.io/proxyCPU' : 'sidecar.istio.io/proxyMemory';
    return { [base]: quantity, [`${base}Limit`]: quantity };
  }
  return { [`config.linkerd.io/proxy-${resource}-request`]: quantity, [`config.linkerd.io/proxy-${resource}-limit`]: quantity };
}

const WORKLOADS = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
] as const;

function hasProxy(pod: KubeObject): boolean {
  const containers = ((pod['spec'] as { containers?: Array<{ name: string }> } | undefined)?.containers ?? []).map((c) => c.name);
  return containers.includes('istio-proxy') || containers.includes('linkerd-proxy');
}

/**
 * Cuts the sidecars' CPU or memory limit in the named namespaces by annotating their workloads'
 * pod templates, which the injector reads when the rolled pods are created. A rollout restarts the
 * pods (and again on revert, which restores the templates as they were). Ambient has no sidecar to
 * limit: ztunnel is one DaemonSet per node serving every workload there.
 */
export async function planProxyResourceFault(spec: ProxyFault, ctx: FaultContext, name: string): Promise<FaultPlan> {
  const { adapter } = ctx;
  if (adapter.name === 'istio' && adapter.mode === 'ambient') {
    throw new Error(`${spec.type} limits the sidecars' ${spec.type === 'proxy-cpu-saturation' ? 'CPU' : 'memory'}; on ambient the data plane is ztunnel, one DaemonSet per node shared by every workload there, so this fault is not available on Istio ambient`);
  }
  const resource = spec.type === 'proxy-cpu-saturation' ? 'cpu' : 'memory';
  const annotations = resourceAnnotations(adapter.name, resource, spec.limit);
  const changes: Change[] = [];
  for (const ns of spec.namespaces) {
    const pods = await ctx.kube.list('v1', 'Pod', { namespace: ns });
    if (!pods.some(hasProxy)) throw new Error(`${spec.type}: namespace ${ns} has no pods with a ${adapter.name === 'istio' ? 'istio-proxy' : 'linkerd-proxy'} sidecar to limit`);
    for (const [apiVersion, kind] of WORKLOADS) {
      for (const workload of await ctx.kube.list(apiVersion, kind, { namespace: ns })) {
        changes.push({ type: 'patch', ref: { apiVersion, kind, namespace: ns, name: workload.metadata.name }, patch: { spec: { template: { metadata: { annotations } } } }, why: `its pods restart with a ${spec.limit} ${resource} limit on the proxy` });
      }
    }
  }
  const cpu = spec.type === 'proxy-cpu-saturation';
  return {
    type: spec.type,
    name,
    summary: `${adapter.name === 'istio' ? 'istio-proxy' : 'linkerd-proxy'} ${resource} limited to ${spec.limit} in ${spec.namespaces.join(', ')}`,
    notes: [
      'The limit reaches the proxies through the injector: the workloads roll out new pods now, and again when the fault is reverted.',
      cpu
        ? 'A proxy that wants more CPU than its limit is throttled (the CFS quota): its requests queue, and past saturation they time out.'
        : 'meshdrill cannot make a proxy leak through the Kubernetes API; it rehearses where a leak ends — a proxy whose memory reaches its limit is OOM-killed and restarted, and its pod serves nothing meanwhile.',
    ],
    changes,
    probes: spec.namespaces.flatMap((ns) => [
      { sli: cpu ? ('proxy-cpu' as const) : ('proxy-restarts' as const), scope: { namespace: ns }, why: cpu ? 'the proxies run at their limit' : 'the proxies are OOM-killed and restarted' },
      { sli: cpu ? ('latency-p99' as const) : ('success-rate' as const), scope: { namespace: ns }, why: cpu ? 'requests queue at the throttled proxies' : 'pods serve nothing while their proxy restarts' },
    ]),
  };
}
