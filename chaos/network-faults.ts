import type { KubeObject } from '../clusters/index.js';
import { RUN_ID_LABEL, type Change } from './changes.js';
import type { FaultContext, FaultPlan } from './fault-types.js';
import type { FaultSpec } from './schema.js';

/** The label a zone-partition puts on the pods it cuts off. */
export const PARTITION_LABEL = 'meshdrill.dev/zone-partition';
const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** Namespaces a partition never touches: the cluster's own (DNS, the API server's helpers) stay reachable. */
const SYSTEM = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

const isIngressPolicy = (policy: KubeObject) => {
  const spec = (policy['spec'] ?? {}) as { policyTypes?: string[]; ingress?: unknown[] };
  return (spec.policyTypes ?? ['Ingress']).includes('Ingress');
};

/**
 * Refuses namespaces that already have Ingress NetworkPolicies: NetworkPolicies only add what they
 * allow, so a fault's policy there could let in traffic the team's own policy keeps out.
 */
async function refuseWhereIngressIsPolicied(ctx: FaultContext, namespaces: Iterable<string>, fault: string): Promise<void> {
  for (const ns of namespaces) {
    const own = (await ctx.kube.list('networking.k8s.io/v1', 'NetworkPolicy', { namespace: ns })).filter((p) => p.metadata.labels?.[RUN_ID_LABEL] === undefined && isIngressPolicy(p));
    if (own.length > 0) throw new Error(`${fault}: namespace ${ns} has Ingress NetworkPolicies of its own (${own.map((p) => p.metadata.name).join(', ')}); NetworkPolicies only add what they allow, so the fault's policy could let in what they keep out — refused`);
  }
}

const labelled = (object: KubeObject, runId: string): KubeObject => ({ ...object, metadata: { ...object.metadata, labels: { ...(object.metadata.labels ?? {}), [RUN_ID_LABEL]: runId } } });

/**
 * The metrics pipeline loses the mesh's targets: an Ingress NetworkPolicy in each namespace lets in
 * everything but the Prometheus namespace, so its scrapes of the proxies (Istio's merged metrics on
 * 15020, Linkerd's admin port 4191) fail and their series go stale. Traffic flows on; what the
 * gates read there has no data and must be Inconclusive, never a pass.
 */
export async function planTelemetryDrop(spec: Extract<FaultSpec, { type: 'telemetry-drop' }>, ctx: FaultContext, name: string): Promise<FaultPlan> {
  await refuseWhereIngressIsPolicied(ctx, spec.namespaces, 'telemetry-drop');
  const changes: Change[] = spec.namespaces.map((ns) => ({
    type: 'apply',
    object: labelled(
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'meshdrill-telemetry-drop', namespace: ns },
        spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [spec.prometheusNamespace] }] } }] }] },
      },
      ctx.runId,
    ),
    why: `Prometheus in ${spec.prometheusNamespace} cannot scrape the pods of ${ns}; everything else still gets in`,
  }));
  return {
    type: spec.type,
    name,
    summary: `${spec.namespaces.join(', ')} lost to the metrics pipeline`,
    notes: ['Needs a CNI that enforces NetworkPolicy. Requests keep flowing; only their telemetry stops, so what the gates read there has no data.'],
    changes,
    probes: spec.namespaces.flatMap((ns) => [
      { sli: 'telemetry-ingestion' as const, scope: { namespace: ns }, why: 'the targets are down' },
      { sli: 'success-rate' as const, scope: { namespace: ns }, why: 'no data: Inconclusive, never a pass' },
    ]),
  };
}

/**
 * A zone cut off from the rest: its nodes' pods are labelled, and in every namespace with pods an
 * Ingress NetworkPolicy lets in only pods of the same side — labelled pods from labelled pods, the
 * others from the others (kube-system untouched: DNS keeps answering). A pod started during the
 * fault is not labelled: it joins the unlabelled side wherever it runs.
 */
export async function planZonePartition(spec: Extract<FaultSpec, { type: 'zone-partition' }>, ctx: FaultContext, name: string): Promise<FaultPlan> {
  if (!spec.zone === !spec.nodes) throw new Error('zone-partition names either a zone or nodes, not both');
  const nodes = await ctx.kube.list('v1', 'Node');
  const cut = spec.nodes ?? nodes.filter((n) => n.metadata.labels?.[ZONE_LABEL] === spec.zone).map((n) => n.metadata.name);
  const unknown = cut.filter((n) => !nodes.some((node) => node.metadata.name === n));
  if (unknown.length > 0) throw new Error(`zone-partition: no node ${unknown.join(', ')} (nodes: ${nodes.map((n) => n.metadata.name).join(', ')})`);
  if (cut.length === 0) throw new Error(`zone-partition: no node has ${ZONE_LABEL}=${spec.zone} (zones: ${[...new Set(nodes.map((n) => n.metadata.labels?.[ZONE_LABEL]).filter(Boolean))].join(', ') || 'none labelled'})`);
  if (cut.length >= nodes.length) throw new Error('zone-partition would cut every node off from nothing: leave at least one node on the other side');
  const pods = (await ctx.kube.list('v1', 'Pod')).filter((p) => !SYSTEM.has(p.metadata.namespace ?? ''));
  const inside = pods.filter((p) => cut.includes(String((p['spec'] as { nodeName?: string } | undefined)?.nodeName ?? '')));
  const namespaces = [...new Set(pods.map((p) => p.metadata.namespace!))].sort();
  await refuseWhereIngressIsPolicied(ctx, namespaces, 'zone-partition');
  const side = (inZone: boolean) => ({ podSelector: { matchExpressions: [{ key: PARTITION_LABEL, operator: inZone ? 'Exists' : 'DoesNotExist' }] }, namespaceSelector: {} });
  const changes: Change[] = [
    ...inside.map((p): Change => ({ type: 'patch', ref: { apiVersion: 'v1', kind: 'Pod', namespace: p.metadata.namespace!, name: p.metadata.name }, patch: { metadata: { labels: { [PARTITION_LABEL]: ctx.runId } } }, why: `it runs on ${String((p['spec'] as { nodeName?: string }).nodeName)}, in the lost zone` })),
    ...namespaces.flatMap((ns): Change[] =>
      [true, false].map((inZone) => ({
        type: 'apply',
        object: labelled({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `meshdrill-zone-partition-${inZone ? 'in' : 'out'}`, namespace: ns }, spec: { podSelector: side(inZone).podSelector, policyTypes: ['Ingress'], ingress: [{ from: [side(inZone)] }] } }, ctx.runId),
        why: `${inZone ? 'pods in the lost zone' : 'pods elsewhere'} take connections only from their own side`,
      })),
    ),
  ];
  return {
    type: spec.type,
    name,
    summary: `${cut.join(', ')} cut off from the other nodes (${inside.length} pods)`,
    notes: ['Needs a CNI that enforces NetworkPolicy. Pods started during the fault are not labelled and land on the other side; the API server and kube-system stay reachable from both.'],
    changes,
    probes: [{ sli: 'success-rate', scope: {}, why: 'calls across the cut fail; retries and endpoints on the same side hide some' }],
  };
}
