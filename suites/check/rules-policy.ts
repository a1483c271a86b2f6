import { topologyWorkloads, type LentWorkload } from '../../clusters/index.js';
import type { Topology } from '../../model/index.js';
import type { Manifest } from './manifests.js';

// Rules about what a policy or route does, read against the workloads that will exist: what
// `istioctl analyze` and Kiali's validations report for these kinds (their message catalogues:
// istio/istio pkg/config/analysis/msg/messages.yaml, Kiali's validation codes), and the effects a
// reviewer misses — a policy that matches nobody, an emergency relaxation left in, a loop.

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: Array<string | number>): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Obj)[k] : undefined), o);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Obj[]) : []);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export type Report = (id: string, message: string, where: Manifest, field?: Array<string | number>) => void;

/** A pod that will run: its namespace, labels, service account, and the topology service it is. */
interface Workload {
  namespace: string;
  service: string;
  labels: Record<string, string>;
  account: string;
  meshable: boolean;
}

/** The workloads the topology runs, with what the repo's Deployments lend them (labels, accounts). */
export function workloadsOf(topology: Topology, lent: Map<string, LentWorkload>): Workload[] {
  const out: Workload[] = [];
  const meshable = new Map(topology.spec.namespaces.map((n) => [n.name, n.meshable]));
  for (const o of topologyWorkloads(topology, { lent })) {
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') continue;
    const template = get(o, 'spec', 'template') as { metadata?: { labels?: Record<string, string> }; spec?: { serviceAccountName?: string } } | undefined;
    const labels = template?.metadata?.labels ?? {};
    out.push({ namespace: o.metadata.namespace ?? 'default', service: labels['app'] ?? o.metadata.name, labels, account: template?.spec?.serviceAccountName ?? 'default', meshable: meshable.get(o.metadata.namespace ?? '') ?? true });
  }
  return out;
}

/** What the repo's Deployments and StatefulSets say of the topology's services of the same name: labels and accounts. */
export function lentWorkloads(manifests: Manifest[]): Map<string, LentWorkload> {
  const out = new Map<string, LentWorkload>();
  for (const { object } of manifests) {
    if (object.kind !== 'Deployment' && object.kind !== 'StatefulSet') continue;
    const template = get(object, 'spec', 'template') as { metadata?: { labels?: Record<string, string> }; spec?: { serviceAccountName?: string; containers?: Array<{ ports?: Array<{ name?: string; containerPort?: number }> }> } } | undefined;
    const name = template?.metadata?.labels?.['app'] ?? object.metadata.name;
    const portNames = Object.fromEntries((template?.spec?.containers ?? []).flatMap((c) => c.ports ?? []).filter((p) => typeof p.name === 'string' && typeof p.containerPort === 'number').map((p) => [p.containerPort!, p.name!]));
    out.set(`${object.metadata.namespace ?? 'default'}/${name}`, { ...(template?.spec?.serviceAccountName ? { serviceAccountName: template.spec.serviceAccountName } : {}), ...(template?.metadata?.labels ? { labels: template.metadata.labels } : {}), ...(Object.keys(portNames).length ? { portNames } : {}) });
  }
  return out;
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

const ISTIO_ROOT = 'istio-system';

/**
 * MD110 policy-matches-nothing: an AuthorizationPolicy or PeerAuthentication whose selector picks
 * no pod; a source namespace or principal no meshed caller has (a plaintext caller carries no
 * identity: istio.io authorization "source.namespaces … requires mTLS"); a Linkerd
 * MeshTLSAuthentication naming identities no workload has.
 */
export function policiesMatchingNothing(manifests: Manifest[], meshed: Set<string>, workloads: Workload[], report: Report): void {
  const meshedCaller = (w: Workload) => meshed.has(w.namespace) && w.meshable;
  for (const m of manifests) {
    const o = m.object;
    const ns = o.metadata.namespace ?? 'default';
    if ((o.kind === 'AuthorizationPolicy' || o.kind === 'PeerAuthentication' || o.kind === 'RequestAuthentication') && o.apiVersion.startsWith('security.istio.io/')) {
      const selector = get(o, 'spec', 'selector', 'matchLabels') as Record<string, string> | undefined;
      if (selector && Object.keys(selector).length && ns !== ISTIO_ROOT && !workloads.some((w) => w.namespace === ns && selects(selector, w.labels))) {
        report('MD110', `${o.kind} ${ns}/${o.metadata.name} selects no workload: no pod in ${ns} has ${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(', ')}`, m, ['spec', 'selector', 'matchLabels']);
      }
    }
    if (o.kind === 'AuthorizationPolicy' && o.apiVersion.startsWith('security.istio.io/')) {
      list(get(o, 'spec', 'rules')).forEach((rule, r) => {
        list(rule['from']).forEach((from, f) => {
          const source = (from['source'] ?? {}) as Obj;
          strings(source['namespaces']).forEach((n, i) => {
            if (n.includes('*')) return;
            const callers = workloads.filter((w) => w.namespace === n);
            if (callers.length === 0) report('MD110', `AuthorizationPolicy ${ns}/${o.metadata.name} rule ${r} names source namespace ${n}, which runs no workload`, m, ['spec', 'rules', r, 'from', f, 'source', 'namespaces', i]);
            else if (!callers.some(meshedCaller)) report('MD110', `AuthorizationPolicy ${ns}/${o.metadata.name} rule ${r} names source namespace ${n}, whose workloads are not meshed: their plaintext calls carry no namespace, so the rule matches none of them${o.spec && get(o, 'spec', 'action') === 'DENY' ? ' and denies nothing' : ''}`, m, ['spec', 'rules', r, 'from', f, 'source', 'namespaces', i]);
          });
          strings(source['principals']).forEach((p, i) => {
            const parts = /^(?:[^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(p);
            if (!parts || p.includes('*')) return;
            const [, pns, sa] = parts as unknown as [string, string, string];
            if (!workloads.some((w) => w.namespace === pns && w.account === sa)) report('MD110', `AuthorizationPolicy ${ns}/${o.metadata.name} rule ${r} names principal ${p}, which no workload runs as (no pod in ${pns} uses ServiceAccount ${sa})`, m, ['spec', 'rules', r, 'from', f, 'source', 'principals', i]);
          });
        });
      });
    }
    if (o.kind === 'MeshTLSAuthentication' && o.apiVersion.startsWith('policy.linkerd.io/')) {
      strings(get(o, 'spec', 'identities')).forEach((id, i) => {
        const parts = /^([^.]+)\.([^.]+)\.serviceaccount\.identity\./.exec(id);
        if (!parts || id.includes('*')) return;
        const [, sa, pns] = parts as unknown as [string, string, string];
        if (!workloads.some((w) => w.namespace === pns && w.account === sa)) report('MD110', `MeshTLSAuthentication ${ns}/${o.metadata.name} names identity ${id}, which no workload has (no pod in ${pns} uses ServiceAccount ${sa})`, m, ['spec', 'identities', i]);
      });
    }
  }
}

/**
 * MD109 emergency-relaxation: PERMISSIVE or DISABLE where the base was STRICT (a namespace's
 * PeerAuthentication, or a port's portLevelMtls), the "emergency relaxation left in place" of
 * certificate-rotation incidents. Only with --base.
 */
export function emergencyRelaxations(base: Manifest[], head: Manifest[], report: Report): void {
  const key = (m: Manifest) => `${m.object.metadata.namespace ?? ''}/${m.object.metadata.name}`;
  const before = new Map(base.filter((m) => m.object.kind === 'PeerAuthentication').map((m) => [key(m), m]));
  const strictNamespaces = new Set(base.filter((m) => m.object.kind === 'PeerAuthentication' && get(m.object, 'spec', 'mtls', 'mode') === 'STRICT' && !get(m.object, 'spec', 'selector')).map((m) => m.object.metadata.namespace ?? ''));
  for (const m of head) {
    if (m.object.kind !== 'PeerAuthentication') continue;
    const ns = m.object.metadata.namespace ?? '';
    const mode = get(m.object, 'spec', 'mtls', 'mode');
    const was = before.get(key(m));
    const wasMode = was ? get(was.object, 'spec', 'mtls', 'mode') : undefined;
    const wasStrict = wasMode === 'STRICT' || (!was && strictNamespaces.has(ns)) || (ns !== ISTIO_ROOT && !was && strictNamespaces.has(ISTIO_ROOT));
    if ((mode === 'PERMISSIVE' || mode === 'DISABLE') && wasStrict) report('MD109', `PeerAuthentication ${ns}/${m.object.metadata.name} relaxes ${ns === ISTIO_ROOT ? 'the mesh' : ns} from STRICT to ${mode}: if this is an emergency, open the issue that takes it back out`, m, ['spec', 'mtls', 'mode']);
    const ports = (get(m.object, 'spec', 'portLevelMtls') ?? {}) as Record<string, { mode?: string }>;
    const wasPorts = (was ? get(was.object, 'spec', 'portLevelMtls') : undefined) as Record<string, { mode?: string }> | undefined;
    for (const [port, setting] of Object.entries(ports)) {
      const before = wasPorts?.[port]?.mode ?? wasMode;
      if ((setting?.mode === 'PERMISSIVE' || setting?.mode === 'DISABLE') && before === 'STRICT') report('MD109', `PeerAuthentication ${ns}/${m.object.metadata.name} relaxes port ${port} from STRICT to ${setting.mode}`, m, ['spec', 'portLevelMtls', port, 'mode']);
    }
  }
}

/** The FQDN an Istio host names, relative to the rule's namespace (a short name is in it). */
function fqdn(host: string, ruleNs: string): string {
  if (host.includes('*')) return host;
  const parts = host.split('.');
  if (parts.length === 1) return `${host}.${ruleNs}.svc.cluster.local`;
  if (parts.length === 2) return `${host}.svc.cluster.local`;
  return host;
}

/** The subset names the DestinationRules for a host define (any namespace: exportTo is not judged here). */
function subsetsOf(manifests: Manifest[], host: string): Set<string> {
  const out = new Set<string>();
  for (const { object } of manifests) {
    if (object.kind !== 'DestinationRule') continue;
    const h = get(object, 'spec', 'host');
    if (typeof h !== 'string' || fqdn(h, object.metadata.namespace ?? 'default') !== host) continue;
    for (const subset of list(get(object, 'spec', 'subsets'))) if (typeof subset['name'] === 'string') out.add(subset['name']);
  }
  return out;
}

/** Services the cluster will have: the repo's Service manifests and the topology's. */
function serviceHosts(manifests: Manifest[], topology: Topology): Set<string> {
  const out = new Set<string>();
  for (const n of topology.spec.namespaces) for (const s of n.services) out.add(`${s.name}.${n.name}.svc.cluster.local`);
  for (const { object } of manifests) if (object.kind === 'Service' || object.kind === 'ServiceEntry') {
    if (object.kind === 'Service') out.add(`${object.metadata.name}.${object.metadata.namespace ?? 'default'}.svc.cluster.local`);
    else for (const h of strings(get(object, 'spec', 'hosts'))) out.add(h);
  }
  return out;
}

/**
 * Route and destination references, as istioctl analyze and Kiali check them:
 * MD113 reference-not-found (IST0101 ReferencedResourceNotFound; Kiali KIA1101, KIA1102, KIA0202,
 * KIA1107: a destination or DestinationRule host with no Service or ServiceEntry, a gateway or a
 * subset that does not exist), MD114 subset-matches-no-
 * workload (KIA0203), MD115 destination-rules-conflict (KIA0201), MD116 unreachable-route
 * (IST0131 VirtualServiceIneffectiveMatch: a route after a catch-all), MD111 routing-loop.
 */
export function routeReferences(manifests: Manifest[], topology: Topology, workloads: Workload[], report: Report): void {
  const hosts = serviceHosts(manifests, topology);
  const gateways = new Set(manifests.filter((m) => m.object.kind === 'Gateway').map((m) => `${m.object.metadata.namespace ?? 'default'}/${m.object.metadata.name}`));
  const vsEdges = new Map<string, { to: Set<string>; where: Manifest }>();
  const drByHost = new Map<string, Manifest[]>();
  for (const m of manifests) {
    const o = m.object;
    const ns = o.metadata.namespace ?? 'default';
    if (o.kind === 'VirtualService' && o.apiVersion.startsWith('networking.istio.io/')) {
      strings(get(o, 'spec', 'gateways')).forEach((g, i) => {
        if (g === 'mesh') return;
        const ref = g.includes('/') ? g : `${ns}/${g}`;
        if (!gateways.has(ref)) report('MD113', `VirtualService ${ns}/${o.metadata.name} is bound to gateway ${ref}, which the repo does not define`, m, ['spec', 'gateways', i]);
      });
      const http = list(get(o, 'spec', 'http'));
      const catchAll = http.findIndex((route) => list(route['match']).length === 0 || list(route['match']).some((match) => Object.keys(match).filter((k) => k !== 'name').length === 0));
      if (catchAll >= 0 && catchAll < http.length - 1) report('MD116', `VirtualService ${ns}/${o.metadata.name}: http route ${catchAll} matches every request, so ${http.length - 1 - catchAll === 1 ? 'the route after it never matches' : `the ${http.length - 1 - catchAll} routes after it never match`}`, m, ['spec', 'http', catchAll + 1]);
      const targets = new Set<string>();
      http.forEach((route, r) => {
        list(route['route']).forEach((dest, d) => {
          const host = get(dest, 'destination', 'host');
          if (typeof host !== 'string') return;
          const name = fqdn(host, ns);
          targets.add(name);
          if (!name.includes('*') && name.endsWith('.svc.cluster.local') && !hosts.has(name)) report('MD113', `VirtualService ${ns}/${o.metadata.name} routes to ${host}, which is no Service in the repo or the topology (requests would get 503 NR)`, m, ['spec', 'http', r, 'route', d, 'destination', 'host']);
          const subset = get(dest, 'destination', 'subset');
          if (typeof subset === 'string' && !subsetsOf(manifests, name).has(subset)) report('MD113', `VirtualService ${ns}/${o.metadata.name} routes to subset ${subset} of ${host}, which no DestinationRule defines (requests would get 503 NC)`, m, ['spec', 'http', r, 'route', d, 'destination', 'subset']);
        });
      });
      for (const h of strings(get(o, 'spec', 'hosts'))) vsEdges.set(fqdn(h, ns), { to: targets, where: m });
    }
    if (o.kind === 'DestinationRule' && o.apiVersion.startsWith('networking.istio.io/')) {
      const host = get(o, 'spec', 'host');
      if (typeof host !== 'string') continue;
      const name = fqdn(host, ns);
      drByHost.set(`${ns} ${name}`, [...(drByHost.get(`${ns} ${name}`) ?? []), m]);
      if (!name.includes('*') && name.endsWith('.svc.cluster.local') && !hosts.has(name)) report('MD113', `DestinationRule ${ns}/${o.metadata.name} is for ${host}, which is no Service in the repo or the topology`, m, ['spec', 'host']);
      const [svc, svcNs] = name.split('.');
      list(get(o, 'spec', 'subsets')).forEach((subset, i) => {
        const labels = (subset['labels'] ?? {}) as Record<string, string>;
        if (!Object.keys(labels).length || !name.endsWith('.svc.cluster.local')) return;
        if (!workloads.some((w) => w.namespace === svcNs && w.service === svc && selects(labels, w.labels))) report('MD114', `DestinationRule ${ns}/${o.metadata.name} subset ${String(subset['name'])} selects no pod of ${svc}.${svcNs} (${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ')}): routes to it get 503`, m, ['spec', 'subsets', i, 'labels']);
      });
    }
  }
  for (const [key, rules] of drByHost) {
    if (rules.length < 2) continue;
    const [ns, host] = key.split(' ');
    for (const m of rules.slice(1)) report('MD115', `DestinationRules ${rules.map((r) => r.object.metadata.name).join(' and ')} in ${ns} both configure ${host}: Istio merges only top-level fields and keeps the oldest for the rest`, m, ['spec', 'host']);
  }
  // A loop: host A's VirtualService sends to B, B's to A (each proxy hop re-routes; requests
  // bounce until the hop limit or timeout).
  const reported = new Set<string>();
  for (const [start] of vsEdges) {
    const path = [start];
    let at = start;
    for (let hops = 0; hops < vsEdges.size; hops++) {
      const next = [...(vsEdges.get(at)?.to ?? [])].find((t) => vsEdges.has(t) && t !== at);
      if (!next) break;
      if (next === start) {
        const cycle = [...path].sort().join(' ');
        if (!reported.has(cycle)) {
          reported.add(cycle);
          report('MD111', `VirtualServices route in a loop: ${[...path, start].join(' → ')}`, vsEdges.get(start)!.where, ['spec', 'http']);
        }
        break;
      }
      if (path.includes(next)) break;
      path.push(next);
      at = next;
    }
  }
}

/**
 * MD117 port-name-convention (IST0118 PortNameIsNotUnderNamingConvention): a Service port whose
 * name does not say its protocol (http, http-*, grpc, tcp, …) and that has no appProtocol is
 * treated as plain TCP by Istio's protocol selection: its HTTP routes, retries and metrics do not apply.
 */
export function portNames(manifests: Manifest[], meshed: Set<string>, report: Report): void {
  const PROTOCOLS = ['http', 'http2', 'https', 'grpc', 'grpc-web', 'tcp', 'tls', 'mongo', 'mysql', 'redis', 'udp'];
  for (const m of manifests) {
    if (m.object.kind !== 'Service' || !meshed.has(m.object.metadata.namespace ?? 'default')) continue;
    list(get(m.object, 'spec', 'ports')).forEach((port, i) => {
      if (port['appProtocol'] !== undefined) return;
      const name = typeof port['name'] === 'string' ? port['name'] : '';
      if (PROTOCOLS.some((p) => name === p || name.startsWith(`${p}-`))) return;
      report('MD117', `Service ${m.object.metadata.namespace ?? 'default'}/${m.object.metadata.name} port ${String(port['port'])}${name ? ` (${name})` : ''} names no protocol and has no appProtocol: Istio may treat it as TCP (name it http-…, grpc-…, or set appProtocol)`, m, ['spec', 'ports', i, name ? 'name' : 'port']);
    });
  }
}

