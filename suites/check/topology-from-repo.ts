import { API_VERSION, Topology } from '../../model/index.js';
import type { Manifest } from './manifests.js';

// A topology from the repo's own workloads, for repos without a meshdrill Topology: a service per
// Kubernetes Service (replicas, ports, ServiceAccount and kind from the Deployments and
// StatefulSets it selects), a workload no Service selects under its own name, and the call graph
// from, in order of trust, `meshdrill.dev/calls` annotations and what policies declare (an
// AuthorizationPolicy's allowed principals, a Sidecar's egress hosts, marked "inferred").

/** Where a workload says whom it calls: "catalog, payments/api:8080" (a bare name is in its namespace). */
export const CALLS_ANNOTATION = 'meshdrill.dev/calls';
/** Requests per second from outside for a service nobody in the repo calls (default 10). */
export const ENTRYPOINT_ANNOTATION = 'meshdrill.dev/entrypoint-rps';

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: Array<string | number>): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Obj)[k] : undefined), o);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Obj[]) : []);

interface Workload {
  m: Manifest;
  namespace: string;
  labels: Record<string, string>;
  account: string | undefined;
  replicas: number;
  stateful: boolean;
  ports: Array<{ name?: string; port: number }>;
  annotations: Record<string, string>;
  gateway: boolean;
}

interface Svc {
  namespace: string;
  name: string;
  workloads: Workload[];
  ports: Array<{ name: string; port: number }>;
  where: Manifest;
}

export interface RepoTopology {
  /** Undefined when the workloads do not make one (the notes say why). */
  topology?: Topology;
  /** How it was made: counts, and each edge's source. */
  notes: string[];
}

/** Calls the mesh's telemetry saw (slo's observeCallGraph): callers by workload, callees by service. */
export interface ObservedCalls {
  calls: Array<{ from: string; to: string; rps: number }>;
  unattributed: Array<{ to: string; rps: number }>;
  /** Where they came from, for the notes ("Istio telemetry in http://prometheus:9090 over 1h"). */
  source: string;
}

/** A topology from the manifests, or undefined when they hold no workload to make one from. */
export function topologyFromManifests(manifests: Manifest[], observed?: ObservedCalls): RepoTopology | undefined {
  const workloads: Workload[] = [];
  for (const m of manifests) {
    const o = m.object;
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') continue;
    const template = (get(o, 'spec', 'template') ?? {}) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { serviceAccountName?: string; containers?: Obj[] } };
    const labels = template.metadata?.labels ?? {};
    const ports = (template.spec?.containers ?? []).flatMap((c) => list(c['ports']).map((p) => ({ ...(typeof p['name'] === 'string' ? { name: p['name'] } : {}), port: Number(p['containerPort']) })));
    workloads.push({
      m,
      namespace: o.metadata.namespace ?? 'default',
      labels,
      account: template.spec?.serviceAccountName,
      replicas: Math.min(1000, Math.max(1, Number(get(o, 'spec', 'replicas') ?? 1) || 1)),
      stateful: o.kind === 'StatefulSet',
      ports: ports.filter((p) => Number.isInteger(p.port) && p.port > 0 && p.port < 65536),
      annotations: { ...(o.metadata.annotations ?? {}), ...(template.metadata?.annotations ?? {}) },
      gateway: labels['istio'] === 'ingressgateway' || labels['app'] === 'istio-ingressgateway' || labels['gateway.istio.io/managed'] !== undefined,
    });
  }
  if (workloads.length === 0) return undefined;
  const services: Svc[] = [];
  const claimed = new Set<Workload>();
  for (const m of manifests) {
    const o = m.object;
    if (o.kind !== 'Service' || o.apiVersion !== 'v1') continue;
    const selector = (get(o, 'spec', 'selector') ?? {}) as Record<string, string>;
    if (!Object.keys(selector).length) continue;
    const ns = o.metadata.namespace ?? 'default';
    const selected = workloads.filter((w) => w.namespace === ns && Object.entries(selector).every(([k, v]) => w.labels[k] === v));
    if (!selected.length) continue;
    selected.forEach((w) => claimed.add(w));
    const ports = list(get(o, 'spec', 'ports')).map((p, i) => ({ name: portName(p['name'], i), port: Number(p['port']) })).filter((p) => p.port > 0);
    services.push({ namespace: ns, name: o.metadata.name, workloads: selected, ports, where: m });
  }
  for (const w of workloads) {
    if (claimed.has(w)) continue;
    services.push({ namespace: w.namespace, name: w.m.object.metadata.name, workloads: [w], ports: w.ports.map((p, i) => ({ name: portName(p.name, i), port: p.port })), where: w.m });
  }
  const byRef = new Map(services.map((s) => [`${s.namespace}/${s.name}`, s]));
  const edges = new Map<string, { from: string; to: string; source: string }>();
  const addEdge = (from: string, to: string, source: string) => {
    if (from === to || !byRef.has(to) || edges.has(`${from} ${to}`)) return;
    edges.set(`${from} ${to}`, { from, to, source });
  };
  const serviceOf = (w: Workload) => services.find((s) => s.workloads.includes(w));
  const notes: string[] = [];
  // 1. What the workloads say of themselves (trusted first).
  for (const w of workloads) {
    const calls = w.annotations[CALLS_ANNOTATION];
    const from = serviceOf(w);
    if (!calls || !from) continue;
    for (const raw of calls.split(',').map((c) => c.trim()).filter(Boolean)) {
      const target = raw.replace(/:\d+$/, '');
      const ref = target.includes('/') ? target : `${w.namespace}/${target}`;
      if (!byRef.has(ref)) notes.push(`${w.m.file}:${w.m.line} ${CALLS_ANNOTATION} names ${raw}, which no Service or workload in the repo is; left out`);
      else addEdge(`${from.namespace}/${from.name}`, ref, CALLS_ANNOTATION);
    }
  }
  // 2. What the mesh saw: telemetry names callers by workload (a Deployment) and callees by service.
  const observedRps = new Map<string, number>();
  if (observed) {
    const byWorkload = new Map(workloads.map((w) => [`${w.namespace}/${w.m.object.metadata.name}`, w]));
    for (const call of observed.calls) {
      const caller = byWorkload.get(call.from);
      const from = caller ? serviceOf(caller) : byRef.get(call.from);
      if (!from || !byRef.has(call.to)) continue;
      addEdge(`${from.namespace}/${from.name}`, call.to, observed.source);
    }
    for (const u of observed.unattributed) observedRps.set(u.to, (observedRps.get(u.to) ?? 0) + u.rps);
  }
  // 3. What policies declare: the principals an ALLOW lets in call the workloads it selects.
  for (const m of manifests) {
    const o = m.object;
    if (o.kind === 'AuthorizationPolicy' && o.apiVersion.startsWith('security.istio.io/') && (get(o, 'spec', 'action') ?? 'ALLOW') === 'ALLOW') {
      const ns = o.metadata.namespace ?? 'default';
      const selector = (get(o, 'spec', 'selector', 'matchLabels') ?? {}) as Record<string, string>;
      const targets = services.filter((s) => s.namespace === ns && s.workloads.some((w) => Object.entries(selector).every(([k, v]) => w.labels[k] === v)));
      for (const rule of list(get(o, 'spec', 'rules'))) {
        for (const from of list(rule['from'])) {
          for (const p of (get(from, 'source', 'principals') as unknown[] | undefined) ?? []) {
            const parts = typeof p === 'string' ? /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(p) : null;
            if (!parts) continue;
            for (const caller of services.filter((s) => s.namespace === parts[1] && s.workloads.some((w) => (w.account ?? 'default') === parts[2]))) {
              for (const t of targets) addEdge(`${caller.namespace}/${caller.name}`, `${t.namespace}/${t.name}`, `inferred from AuthorizationPolicy ${ns}/${o.metadata.name} (${m.file}:${m.line})`);
            }
          }
        }
      }
    }
    // A Sidecar's egress hosts ("./catalog.books.svc.cluster.local", "books/*"): what its workloads may call.
    if (o.kind === 'Sidecar' && o.apiVersion.startsWith('networking.istio.io/')) {
      const ns = o.metadata.namespace ?? 'default';
      const selector = (get(o, 'spec', 'workloadSelector', 'labels') ?? {}) as Record<string, string>;
      const callers = services.filter((s) => s.namespace === ns && s.workloads.some((w) => Object.entries(selector).every(([k, v]) => w.labels[k] === v)));
      for (const egress of list(get(o, 'spec', 'egress'))) {
        for (const host of (egress['hosts'] as unknown[] | undefined) ?? []) {
          if (typeof host !== 'string') continue;
          const [hostNs, name] = host.split('/') as [string, string];
          if (!name || name === '*' || name.startsWith('*')) continue;
          const svcName = name.split('.')[0]!;
          const targetNs = hostNs === '.' ? ns : hostNs === '*' ? name.split('.')[1] : hostNs;
          if (!targetNs) continue;
          for (const c of callers) addEdge(`${c.namespace}/${c.name}`, `${targetNs}/${svcName}`, `inferred from Sidecar ${ns}/${o.metadata.name} egress (${m.file}:${m.line})`);
        }
      }
    }
  }
  const called = new Set([...edges.values()].map((e) => e.to));
  const entrypoints = services
    .filter((s) => !called.has(`${s.namespace}/${s.name}`))
    .map((s) => {
      const ref = `${s.namespace}/${s.name}`;
      const annotated = s.workloads.map((w) => w.annotations[ENTRYPOINT_ANNOTATION]).find((r) => r !== undefined && Number(r) > 0);
      const seen = observedRps.get(ref);
      return { service: ref, rps: annotated !== undefined ? Number(annotated) : seen !== undefined && seen > 0 ? Number(seen.toPrecision(3)) : 10 };
    });
  const namespaces = [...new Set(services.map((s) => s.namespace))].sort().map((ns) => ({
    name: ns,
    services: services
      .filter((s) => s.namespace === ns)
      .map((s) => ({
        name: s.name,
        replicas: Math.min(1000, s.workloads.reduce((a, w) => a + w.replicas, 0)),
        ...(s.workloads.some((w) => w.stateful) ? { stateful: true } : {}),
        ...(s.workloads.some((w) => w.gateway) ? { gateway: true } : {}),
        ...(s.workloads[0]?.account ? { serviceAccount: s.workloads[0].account } : { serviceAccount: 'default' }),
        ...(s.ports.length ? { ports: s.ports } : {}),
        calls: [...edges.values()].filter((e) => e.from === `${ns}/${s.name}`).map((e) => ({ to: e.to })),
      })),
  }));
  const parsed = Topology.safeParse({ apiVersion: API_VERSION, kind: 'Topology', metadata: { name: 'from-repo' }, spec: { namespaces, entrypoints } });
  if (!parsed.success) {
    notes.push(`the repo's workloads do not make a topology meshdrill can run (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}); write a Topology document`);
    return { notes };
  }
  const bySource = new Map<string, string[]>();
  for (const e of edges.values()) bySource.set(e.source, [...(bySource.get(e.source) ?? []), `${e.from} → ${e.to}`]);
  notes.unshift(
    `no Topology document: the topology comes from the repo's workloads (${services.length} service${services.length === 1 ? '' : 's'} in ${namespaces.length} namespace${namespaces.length === 1 ? '' : 's'}; entrypoints, at ${ENTRYPOINT_ANNOTATION}${observed ? ', the rate telemetry saw arrive unattributed,' : ''} or 10 rps: ${entrypoints.map((e) => `${e.service} ${e.rps} rps`).join(', ')})`,
    ...(edges.size === 0 ? [`no calls are known: annotate workloads with ${CALLS_ANNOTATION}: "<service>, <namespace>/<service>", or write a Topology document`] : []),
    ...[...bySource].map(([source, calls]) => `calls from ${source}: ${calls.join(', ')}`),
  );
  return { topology: parsed.data, notes };
}

/** A Service port's name as the topology takes it (an IANA service name); unnamed ports get one. */
function portName(name: unknown, index: number): string {
  const text = typeof name === 'string' ? name.toLowerCase() : '';
  return /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text) && text.length <= 15 ? text : `port-${index}`;
}
