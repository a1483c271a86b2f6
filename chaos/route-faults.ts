import type { KubeObject } from '../clusters/index.js';
import type { Change } from './changes.js';
import { RUN_ID_LABEL } from './changes.js';
import type { FaultContext, FaultPlan } from './fault-types.js';
import type { FaultSpec } from './schema.js';

const fqdn = (ref: string) => {
  const [ns, svc] = ref.split('/') as [string, string];
  return `${svc}.${ns}.svc.cluster.local`;
};
const hostsOf = (object: KubeObject, key: 'host' | 'hosts'): string[] => {
  const value = (object['spec'] as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
};
/** Whether a route's host names the service ("api", "api.pay", "api.pay.svc.cluster.local"). */
function namesService(host: string, ref: string, routeNamespace: string | undefined): boolean {
  const [ns, svc] = ref.split('/') as [string, string];
  return host === fqdn(ref) || host === `${svc}.${ns}` || host === `${svc}.${ns}.svc` || (host === svc && routeNamespace === ns);
}

/**
 * A DestinationRule whose connection pool is small enough that the callers' Envoys refuse what
 * does not fit (503 UO, counted in upstream_rq_pending_overflow: Envoy circuit breaking; Istio's
 * circuit-breaking task). Istio only: Linkerd has no connection-pool breaker (its failure accrual
 * ejects failing endpoints instead), and on ambient connection pools are a waypoint's, which the
 * twin does not model. A host that already has a DestinationRule is refused: Istio does not merge
 * two rules for one host reliably, and meshdrill will not edit someone else's.
 */
export async function planCircuitBreaker(spec: Extract<FaultSpec, { type: 'circuit-breaker' }>, ctx: FaultContext, name: string): Promise<FaultPlan> {
  const { adapter } = ctx;
  if (adapter.name === 'linkerd') throw new Error('circuit-breaker tightens an Envoy connection pool (DestinationRule); Linkerd has no connection-pool circuit breaker — its failure accrual (balancer.linkerd.io/failure-accrual) ejects failing endpoints, which meshdrill does not rehearse yet — so this fault is not available on Linkerd');
  if (adapter.mode === 'ambient') throw new Error('circuit-breaker needs the callers\' sidecars to hold the connection pool; on ambient only a waypoint would, so this fault is not available on Istio ambient');
  const existing = (await ctx.kube.list('networking.istio.io/v1', 'DestinationRule')).find((dr) => hostsOf(dr, 'host').some((h) => namesService(h, spec.destination, dr.metadata.namespace)));
  if (existing) throw new Error(`circuit-breaker: DestinationRule ${existing.metadata.namespace}/${existing.metadata.name} already sets the traffic policy of ${spec.destination}; Istio does not merge two rules for one host reliably, and meshdrill does not edit someone else's`);
  const [ns, svc] = spec.destination.split('/') as [string, string];
  const rule = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: `meshdrill-circuit-breaker-${svc}`.slice(0, 63), namespace: ns, labels: { [RUN_ID_LABEL]: ctx.runId } },
    spec: { host: fqdn(spec.destination), trafficPolicy: { connectionPool: { tcp: { maxConnections: spec.maxConnections }, http: { http1MaxPendingRequests: spec.maxPendingRequests } } } },
  };
  return {
    type: spec.type,
    name,
    summary: `connection pool to ${spec.destination} cut to ${spec.maxConnections} connection${spec.maxConnections === 1 ? '' : 's'} and ${spec.maxPendingRequests} pending`,
    notes: ['Each caller\'s Envoy has its own pool: a busy caller trips first. Refused requests get 503 UO without reaching the service.'],
    changes: [{ type: 'apply', object: rule, why: 'the callers\' proxies refuse what does not fit in the pool' }],
    probes: [
      { sli: 'circuit-breaker-trips', scope: { service: spec.destination }, why: 'the callers\' breakers trip' },
      { sli: 'success-rate', scope: { service: spec.destination }, why: 'callers see 503 UO' },
    ],
  };
}

/**
 * Two routes that send each service's requests to the other: VirtualServices on Istio, HTTPRoutes
 * with a Service parent on Linkerd. Both meshes route at the caller's proxy (istio.io
 * VirtualService; linkerd.io features/httproute), and a request that has reached a service's pod
 * is not routed again, so in the mesh the pair misroutes — each service's callers reach the other —
 * without amplifying: no hop re-applies the routes. Routes already set for either host are
 * refused rather than overridden.
 */
export async function planRoutingLoop(spec: Extract<FaultSpec, { type: 'routing-loop' }>, ctx: FaultContext, name: string): Promise<FaultPlan> {
  const { adapter } = ctx;
  const [a, b] = spec.services;
  if (a === b) throw new Error('routing-loop needs two different services');
  const port = async (ref: string) => {
    const [ns, svc] = ref.split('/') as [string, string];
    const service = await ctx.kube.get('v1', 'Service', ns, svc);
    if (!service) throw new Error(`routing-loop: Service ${ref} does not exist`);
    return ((service['spec'] as { ports?: Array<{ port: number }> } | undefined)?.ports ?? [])[0]?.port ?? 80;
  };
  const changes: Change[] = [];
  if (adapter.name === 'istio') {
    if (adapter.mode === 'ambient') throw new Error('routing-loop applies VirtualServices at the callers\' sidecars; on ambient they take effect only in a waypoint, which the twin does not model for routes, so this fault is not available on Istio ambient');
    const taken = (await ctx.kube.list('networking.istio.io/v1', 'VirtualService')).find((vs) => hostsOf(vs, 'hosts').some((h) => namesService(h, a, vs.metadata.namespace) || namesService(h, b, vs.metadata.namespace)));
    if (taken) throw new Error(`routing-loop: VirtualService ${taken.metadata.namespace}/${taken.metadata.name} already routes ${a} or ${b}; meshdrill does not override someone else's routes`);
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const [ns, svc] = from.split('/') as [string, string];
      changes.push({ type: 'apply', object: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `meshdrill-loop-${svc}`.slice(0, 63), namespace: ns, labels: { [RUN_ID_LABEL]: ctx.runId } }, spec: { hosts: [fqdn(from)], http: [{ route: [{ destination: { host: fqdn(to), port: { number: await port(to) } } }] }] } }, why: `requests for ${from} go to ${to}` });
    }
  } else {
    const routes = [...(await ctx.kube.list('policy.linkerd.io/v1beta3', 'HTTPRoute').catch(() => [])), ...(await ctx.kube.list('gateway.networking.k8s.io/v1', 'HTTPRoute').catch(() => []))];
    const parents = (r: { spec?: unknown; metadata: { namespace?: string } }) => (((r.spec as { parentRefs?: Array<{ kind?: string; name?: string; namespace?: string }> } | undefined)?.parentRefs) ?? []).filter((p) => p.kind === 'Service').map((p) => `${p.namespace ?? r.metadata.namespace}/${p.name}`);
    const taken = routes.find((r) => parents(r).some((p) => p === a || p === b));
    if (taken) throw new Error(`routing-loop: HTTPRoute ${taken.metadata.namespace}/${taken.metadata.name} already routes ${a} or ${b}; meshdrill does not override someone else's routes`);
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const [ns, svc] = from.split('/') as [string, string];
      const [toNs, toSvc] = to.split('/') as [string, string];
      changes.push({ type: 'apply', object: { apiVersion: 'policy.linkerd.io/v1beta3', kind: 'HTTPRoute', metadata: { name: `meshdrill-loop-${svc}`.slice(0, 63), namespace: ns, labels: { [RUN_ID_LABEL]: ctx.runId } }, spec: { parentRefs: [{ group: 'core', kind: 'Service', name: svc, port: await port(from) }], rules: [{ backendRefs: [{ name: toSvc, namespace: toNs, port: await port(to) }] }] } }, why: `requests for ${from} go to ${to}` });
    }
  }
  return {
    type: spec.type,
    name,
    summary: `${a} and ${b} route to each other`,
    notes: ['The mesh routes at the caller\'s proxy, once: each service\'s callers reach the other service, and nothing loops back through a route again. A request the other service cannot serve fails there (404 or its own error).'],
    changes,
    probes: [a, b].map((ref) => ({ sli: 'success-rate' as const, scope: { service: ref }, why: 'its callers reach the other service' })),
  };
}

/**
 * What an on-call does when certificates fail: PERMISSIVE where the stage has STRICT (the
 * adapter's own PERMISSIVE objects, which replace the stage's under the same names), and on Istio,
 * when asked, DestinationRules that make the callers' sidecars send plaintext (tls DISABLE) — the
 * only thing that carries traffic once certificates have expired, since auto-mTLS keeps sending
 * mTLS to a server with a sidecar. Linkerd has no way to turn a meshed client's mTLS off: there the
 * relaxation admits unmeshed callers only.
 */
export async function planMtlsRelaxation(spec: Extract<FaultSpec, { type: 'mtls-relaxation' }>, ctx: FaultContext, name: string): Promise<FaultPlan> {
  const { adapter } = ctx;
  if (spec.plaintext && adapter.name !== 'istio') throw new Error('mtls-relaxation plaintext: Linkerd cannot turn a meshed client\'s mTLS off (there is no DestinationRule tls DISABLE); relax without plaintext, which admits unmeshed callers');
  const changes: Change[] = [];
  for (const ns of spec.namespaces) {
    const { apply, remove } = adapter.mtlsObjects(ns, 'PERMISSIVE');
    for (const object of remove) changes.push({ type: 'delete', ref: { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace!, name: object.metadata.name }, why: `the emergency: ${ns} is no longer STRICT` });
    for (const object of apply) changes.push({ type: 'apply', object, why: `the emergency: ${ns} takes plaintext too` });
    if (spec.plaintext) {
      changes.push({ type: 'apply', object: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'meshdrill-emergency-plaintext', namespace: ns, labels: { [RUN_ID_LABEL]: ctx.runId } }, spec: { host: `*.${ns}.svc.cluster.local`, trafficPolicy: { tls: { mode: 'DISABLE' } } } }, why: `the emergency: callers reach ${ns} in plaintext, whatever their certificates` });
    }
  }
  return {
    type: spec.type,
    name,
    summary: `emergency mTLS relaxation of ${spec.namespaces.join(', ')}${spec.plaintext ? ' (plaintext)' : ''}`,
    notes: ['An emergency measure, journalled like a fault: it is taken back at the end of its duration (or of the run). assert {mtlsAsPlanned: true} checks afterwards that nothing looser than the plan\'s stage is left.'],
    changes,
    probes: spec.namespaces.map((ns) => ({ sli: 'plaintext-share' as const, scope: { namespace: ns }, why: 'requests arrive in plaintext while it lasts' })),
  };
}
