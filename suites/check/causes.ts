import type { Cause, EdgeChange } from './edge-change.js';
import type { Manifest } from './manifests.js';

export type { Cause };

// Why a call broke: the objects the change added, edited or deleted that govern the call, each at
// the first field that differs (its line and column), and the calls that only lost their traffic
// because a call upstream of them broke, grouped under it.

export interface ChangedObject {
  manifest: Manifest;
  change: Cause['change'];
  /** The first differing path (head's side for added and changed, base's for deleted). */
  path: Array<string | number>;
}

const ISTIO_ROOT = 'istio-system';
const identity = (m: Manifest) => `${m.object.apiVersion.split('/')[0]} ${m.object.kind} ${m.object.metadata.namespace ?? ''}/${m.object.metadata.name}`;

/** Objects that differ between base and head: added, changed (by value, not by formatting or comments), deleted. */
export function changedObjects(base: Manifest[], head: Manifest[]): ChangedObject[] {
  const before = new Map(base.map((m) => [identity(m), m]));
  const after = new Map(head.map((m) => [identity(m), m]));
  const out: ChangedObject[] = [];
  for (const [key, m] of after) {
    const b = before.get(key);
    if (!b) out.push({ manifest: m, change: 'added', path: [] });
    else {
      const path = firstDifference(b.object, m.object);
      if (path) out.push({ manifest: m, change: 'changed', path });
    }
  }
  for (const [key, m] of before) if (!after.has(key)) out.push({ manifest: m, change: 'deleted', path: [] });
  return out;
}

/** The path of the first value that differs (depth first, keys in the head's order); undefined when equal. */
export function firstDifference(a: unknown, b: unknown, path: Array<string | number> = []): Array<string | number> | undefined {
  if (a === b) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return path;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return [...path, i];
      const d = firstDifference(a[i], b[i], [...path, i]);
      if (d) return d;
    }
    return undefined;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(bo), ...Object.keys(ao)])]) {
    if (!(key in ao) || !(key in bo)) return [...path, key];
    const d = firstDifference(ao[key], bo[key], [...path, key]);
    if (d) return d;
  }
  return undefined;
}

/** Whether a changed object can decide a call from namespace `from` to service `to` ("ns/name"). */
function governs(m: Manifest, from: string, to: string): boolean {
  const [fromNs] = from.split('/');
  const [toNs, toSvc] = to.split('/') as [string, string];
  const ns = m.object.metadata.namespace;
  const spec = (m.object as { spec?: Record<string, unknown> }).spec ?? {};
  switch (m.object.kind) {
    case 'Namespace':
      return m.object.metadata.name === fromNs || m.object.metadata.name === toNs;
    case 'PeerAuthentication':
    case 'AuthorizationPolicy':
    case 'RequestAuthentication':
      // The server's side: its namespace, or the root namespace's mesh-wide policy. (Linkerd's
      // AuthorizationPolicy lives in the server's namespace too.)
      return ns === toNs || ns === ISTIO_ROOT;
    case 'Server':
    case 'ServerAuthorization':
    case 'MeshTLSAuthentication':
    case 'NetworkAuthentication':
    case 'HTTPRoute':
    case 'GRPCRoute':
      return ns === toNs;
    case 'DestinationRule':
      return (ns === fromNs || ns === toNs || ns === ISTIO_ROOT) && hostNames(spec['host']).some((h) => hostMatches(h, toSvc, toNs, ns));
    case 'VirtualService':
      return hostNames(spec['hosts']).some((h) => hostMatches(h, toSvc, toNs, ns));
    case 'Sidecar':
      return ns === fromNs || ns === ISTIO_ROOT;
    case 'Deployment':
    case 'StatefulSet':
    case 'Service':
    case 'ServiceAccount':
      return (ns === fromNs && m.object.metadata.name === from.split('/')[1]) || (ns === toNs && m.object.metadata.name === toSvc);
    default:
      return false;
  }
}

function hostNames(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).filter((h): h is string => typeof h === 'string');
}

/** An Istio host against a service: a short name is in the rule's namespace, a wildcard matches a suffix. */
function hostMatches(host: string, svc: string, svcNs: string, ruleNs: string | undefined): boolean {
  const fqdn = `${svc}.${svcNs}.svc.cluster.local`;
  if (host === '*') return true;
  if (host.startsWith('*.')) return fqdn.endsWith(host.slice(1));
  if (!host.includes('.')) return host === svc && ruleNs === svcNs;
  return fqdn === host || fqdn.startsWith(`${host}.`);
}

/** The changed objects that govern each broken call, each at its first differing field. */
export function explain(changes: EdgeChange[], changed: ChangedObject[]): void {
  for (const c of changes) {
    if (!c.broken && !opened(c)) continue;
    const causes = changed.filter((o) => governs(o.manifest, c.from, c.to)).map(toCause);
    if (causes.length) c.causes = causes;
  }
}

/** The field that decides a call in an object added or deleted whole: where a reviewer should look. */
const DECIDING: Record<string, Array<Array<string | number>>> = {
  PeerAuthentication: [['spec', 'mtls', 'mode'], ['spec', 'portLevelMtls']],
  AuthorizationPolicy: [['spec', 'action'], ['spec', 'rules'], ['spec', 'targetRefs'], ['spec', 'requiredAuthenticationRefs']],
  DestinationRule: [['spec', 'trafficPolicy', 'tls', 'mode'], ['spec', 'trafficPolicy'], ['spec', 'subsets']],
  VirtualService: [['spec', 'http']],
  Sidecar: [['spec', 'outboundTrafficPolicy', 'mode'], ['spec', 'egress']],
  Server: [['spec', 'accessPolicy'], ['spec', 'port']],
  MeshTLSAuthentication: [['spec', 'identities'], ['spec', 'identityRefs']],
  NetworkAuthentication: [['spec', 'networks']],
  ServerAuthorization: [['spec', 'client']],
  HTTPRoute: [['spec', 'rules']],
};

function has(object: unknown, path: Array<string | number>): boolean {
  let at: unknown = object;
  for (const key of path) {
    if (at === null || typeof at !== 'object' || !(key in (at as object))) return false;
    at = (at as Record<string | number, unknown>)[key];
  }
  return true;
}

function toCause(o: ChangedObject): Cause {
  const m = o.manifest;
  const path = o.path.length ? o.path : (DECIDING[m.object.kind] ?? []).find((p) => has(m.object, p)) ?? [];
  const at = path.length && m.positionOf ? m.positionOf(path) : { line: m.line, col: 1 };
  return { file: m.file, line: at.line, col: at.col, object: `${m.object.kind} ${m.object.metadata.namespace ? `${m.object.metadata.namespace}/` : ''}${m.object.metadata.name}`, field: path.join('.'), change: o.change };
}

/**
 * Marks the calls that only lost their traffic ("→ no traffic") because a call upstream broke:
 * each gets `downstreamOf`, the broken call that starved it, followed transitively.
 */
export function groupStarved(changes: EdgeChange[]): void {
  const key = (c: EdgeChange) => `${c.from} → ${c.to}`;
  // Services whose callers now fail: whatever they call loses traffic, charged to that call.
  const starvedBy = new Map<string, string>();
  for (const c of changes) if (c.broken && c.after !== 'no traffic' && !starvedBy.has(c.to)) starvedBy.set(c.to, key(c));
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of changes) {
      if (!c.broken || c.after !== 'no traffic' || c.downstreamOf) continue;
      const root = starvedBy.get(c.from);
      if (!root) continue;
      c.downstreamOf = root;
      if (!starvedBy.has(c.to)) starvedBy.set(c.to, root);
      grew = true;
    }
  }
}

/** A call that failed on the base and works on the head. */
function opened(c: EdgeChange): boolean {
  return c.before.startsWith('failing') && c.after.startsWith('ok');
}

const ACCESS_KINDS = new Set(['AuthorizationPolicy', 'Server', 'ServerAuthorization', 'MeshTLSAuthentication', 'NetworkAuthentication', 'HTTPRoute', 'Namespace']);

/**
 * MD112 access-widened: calls the base refused that the head lets through, with the access
 * policy change that opened them (a deleted ALLOW, a widened rule, a default policy relaxed).
 */
export function widenedAccess(changes: EdgeChange[]): Array<{ call: string; cause: Cause }> {
  const out: Array<{ call: string; cause: Cause }> = [];
  for (const c of changes) {
    if (!opened(c)) continue;
    const cause = (c.causes ?? []).find((k) => ACCESS_KINDS.has(k.object.split(' ')[0]!));
    if (cause) out.push({ call: `${c.from} → ${c.to}`, cause });
  }
  return out;
}
