import { matchesLabels, requirementsFromSelector } from '../api/selectors.js';
import type { KubeObject } from '../api/types.js';
import { linkerdIdentity } from './identity.js';
import { cidrContains } from './ip.js';
import type { RequestAttributes } from './request.js';

type Obj = Record<string, unknown>;

/** Linkerd's policy objects as its destination controller serves them to the proxies. */
export interface LinkerdPolicyObjects {
  servers: KubeObject[];
  authorizationPolicies: KubeObject[];
  meshTlsAuthentications: KubeObject[];
  networkAuthentications: KubeObject[];
  serverAuthorizations: KubeObject[];
  /** HTTPRoutes of policy.linkerd.io and gateway.networking.k8s.io whose parent is a Server. */
  httpRoutes: KubeObject[];
}

export interface LinkerdPeer {
  mtls: boolean;
  namespace?: string;
  serviceAccount?: string;
  ip: string;
}

export interface LinkerdTarget {
  namespace: string;
  labels: Record<string, string>;
  /** The pod's container ports: a Server may select one by name. */
  ports: Array<{ name?: string; containerPort: number }>;
  /** The default inbound policy fixed into the proxy at injection. */
  defaultPolicy: string;
}

export interface LinkerdAuthzOutcome {
  allowed: boolean;
  /** 403 for a denied request, 404 for one no HTTPRoute of the Server matches. */
  code?: 403 | 404;
  decidedBy: string;
  notModelled: string[];
}

/**
 * The cluster networks of `clusterNetworks` (linkerd install default): what "cluster" means for
 * cluster-authenticated and cluster-unauthenticated.
 */
export const DEFAULT_CLUSTER_NETWORKS = ['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8'];

/**
 * Linkerd inbound policy for one request (linkerd.io/2/reference/authorization-policy,
 * features/server-policy, per-route policy in features/httproute):
 * - no Server selects the pod and port: the default inbound policy decides;
 * - a Server does: AuthorizationPolicies targeting it (or its Namespace) and legacy
 *   ServerAuthorizations authorize; with HTTPRoutes on the Server a request must match one (else
 *   404), and a route's own AuthorizationPolicies authorize it too; what nothing authorizes falls
 *   to the Server's `accessPolicy` (default deny).
 * Every requiredAuthenticationRef must hold: MeshTLSAuthentication (identities with a `*` prefix,
 * identityRefs to ServiceAccounts or Namespaces), NetworkAuthentication (networks and except),
 * ServiceAccount.
 */
export function linkerdAuthorize(objects: LinkerdPolicyObjects, target: LinkerdTarget, peer: LinkerdPeer, request: RequestAttributes, clusterNetworks = DEFAULT_CLUSTER_NETWORKS): LinkerdAuthzOutcome {
  const notModelled: string[] = [];
  const server = objects.servers.find((s) => s.metadata.namespace === target.namespace && serverSelects(s, target, request.port));
  if (!server) {
    const allowed = defaultAllows(target.defaultPolicy, peer, clusterNetworks);
    return { allowed, ...(allowed ? {} : { code: 403 as const }), decidedBy: `default policy ${target.defaultPolicy}`, notModelled };
  }
  const name = `${server.metadata.namespace}/${server.metadata.name}`;
  const ctx = { objects, target, peer, notModelled };
  // HTTPRoutes need HTTP: an opaque port is authorized at the Server alone.
  const routes = request.opaque ? [] : objects.httpRoutes.filter((r) => r.metadata.namespace === target.namespace && parentIsServer(r, server.metadata.name));
  let route: KubeObject | undefined;
  if (routes.length > 0) {
    route = routes.find((r) => routeMatches(r, request));
    if (!route) return { allowed: false, code: 404, decidedBy: `Server ${name}: no HTTPRoute matches ${request.method} ${request.path}`, notModelled };
  }
  const byPolicy = objects.authorizationPolicies.find((a) => a.metadata.namespace === target.namespace && targets(a, server, route) && authenticated(a, ctx));
  if (byPolicy) return { allowed: true, decidedBy: `AuthorizationPolicy ${a(byPolicy)}`, notModelled };
  const byLegacy = objects.serverAuthorizations.find((sa) => sa.metadata.namespace === target.namespace && legacyTargets(sa, server) && legacyClientMatches(sa, peer));
  if (byLegacy) return { allowed: true, decidedBy: `ServerAuthorization ${a(byLegacy)}`, notModelled };
  const access = String((server.spec as Obj | undefined)?.['accessPolicy'] ?? 'deny');
  const allowed = defaultAllows(access, peer, clusterNetworks);
  return { allowed, ...(allowed ? {} : { code: 403 as const }), decidedBy: `Server ${name} (accessPolicy ${access}, nothing authorizes this client)`, notModelled };
}

function a(o: KubeObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}

function defaultAllows(policy: string, peer: LinkerdPeer, clusterNetworks: string[]): boolean {
  switch (policy) {
    case 'all-unauthenticated':
    case 'audit':
      return true;
    case 'all-authenticated':
    case 'cluster-authenticated':
      return peer.mtls;
    case 'cluster-unauthenticated':
      return peer.mtls || clusterNetworks.some((c) => cidrContains(c, peer.ip));
    default:
      return false;
  }
}

/** A Server's port is a number or the name of a container port of the pod ("only ports in the pod spec are considered"). */
function serverSelects(server: KubeObject, target: LinkerdTarget, port: number): boolean {
  const spec = (server.spec ?? {}) as Obj;
  const selector = spec['podSelector'];
  if (selector === undefined || !matchesLabels(requirementsFromSelector(selector as Parameters<typeof requirementsFromSelector>[0]), target.labels)) return false;
  const wanted = spec['port'];
  if (typeof wanted === 'number') return wanted === port;
  if (typeof wanted === 'string') return target.ports.some((p) => p.name === wanted && p.containerPort === port);
  return false;
}

function parentIsServer(route: KubeObject, server: string): boolean {
  const parents = ((route.spec as Obj | undefined)?.['parentRefs'] as Obj[] | undefined) ?? [];
  return parents.some((p) => p['kind'] === 'Server' && p['name'] === server);
}

/** Gateway API HTTPRoute matching: any rule's any match (path Exact/PathPrefix/RegularExpression, method, headers). */
function routeMatches(route: KubeObject, request: RequestAttributes): boolean {
  const rules = ((route.spec as Obj | undefined)?.['rules'] as Obj[] | undefined) ?? [{}];
  return rules.some((rule) => ruleMatches(rule, request));
}

/** Whether a request matches an HTTPRoute rule: any of its matches (path, method, headers); a rule without matches matches all. */
export function ruleMatches(rule: Obj, request: RequestAttributes): boolean {
  const path = request.path.split('?')[0]!;
  const matches = (rule['matches'] as Obj[] | undefined) ?? [{}];
  return matches.some((m) => {
    const p = m['path'] as { type?: string; value?: string } | undefined;
    if (p) {
      const value = p.value ?? '/';
      const type = p.type ?? 'PathPrefix';
      if (type === 'Exact' && path !== value) return false;
      if (type === 'PathPrefix' && !(value === '/' || path === value || path.startsWith(value.endsWith('/') ? value : `${value}/`))) return false;
      if (type === 'RegularExpression' && !new RegExp(`^${value}$`).test(path)) return false;
    }
    if (typeof m['method'] === 'string' && m['method'] !== request.method) return false;
    for (const h of (m['headers'] as Array<{ name: string; value: string; type?: string }> | undefined) ?? []) {
      const got = request.headers[h.name.toLowerCase()];
      if (got === undefined) return false;
      if ((h.type ?? 'Exact') === 'RegularExpression' ? !new RegExp(`^${h.value}$`).test(got) : got !== h.value) return false;
    }
    return true;
  });
}

function targets(policy: KubeObject, server: KubeObject, route: KubeObject | undefined): boolean {
  const ref = ((policy.spec as Obj | undefined)?.['targetRef'] as Obj | undefined) ?? {};
  if (ref['kind'] === 'Namespace') return true;
  if (ref['kind'] === 'Server') return ref['name'] === server.metadata.name;
  if (ref['kind'] === 'HTTPRoute') return route !== undefined && ref['name'] === route.metadata.name;
  return false;
}

function authenticated(policy: KubeObject, ctx: { objects: LinkerdPolicyObjects; target: LinkerdTarget; peer: LinkerdPeer; notModelled: string[] }): boolean {
  const refs = ((policy.spec as Obj | undefined)?.['requiredAuthenticationRefs'] as Obj[] | undefined) ?? [];
  const { objects, target, peer } = ctx;
  return refs.every((ref) => {
    const namespace = String(ref['namespace'] ?? target.namespace);
    switch (ref['kind']) {
      case 'MeshTLSAuthentication': {
        const authn = objects.meshTlsAuthentications.find((m) => m.metadata.name === ref['name'] && m.metadata.namespace === namespace);
        return authn !== undefined && peer.mtls && meshTlsMatches(authn, peer);
      }
      case 'NetworkAuthentication': {
        const authn = objects.networkAuthentications.find((m) => m.metadata.name === ref['name'] && m.metadata.namespace === namespace);
        return authn !== undefined && networksMatch(((authn.spec as Obj | undefined)?.['networks'] as Obj[] | undefined) ?? [], peer.ip);
      }
      case 'ServiceAccount':
        return peer.mtls && peer.serviceAccount === ref['name'] && peer.namespace === namespace;
      default:
        ctx.notModelled.push(`AuthorizationPolicy ${a(policy)}: requiredAuthenticationRefs kind ${String(ref['kind'])} is not modelled; taken as not authenticated`);
        return false;
    }
  });
}

/** MeshTLSAuthentication: a client identity in `identities` (`*`, or a `*.` prefix) or named by `identityRefs`. */
function meshTlsMatches(authn: KubeObject, peer: LinkerdPeer): boolean {
  const spec = (authn.spec ?? {}) as Obj;
  const identity = peer.namespace && peer.serviceAccount ? linkerdIdentity(peer.namespace, peer.serviceAccount) : undefined;
  if (identity === undefined) return false;
  const identities = (spec['identities'] as string[] | undefined) ?? [];
  if (identities.some((i) => i === '*' || i === identity || (i.startsWith('*.') && identity.endsWith(i.slice(1))))) return true;
  const refs = (spec['identityRefs'] as Obj[] | undefined) ?? [];
  return refs.some((ref) => {
    const namespace = ref['namespace'] === undefined ? authn.metadata.namespace : String(ref['namespace']);
    if (ref['kind'] === 'ServiceAccount') return (ref['name'] === undefined || ref['name'] === '*' || ref['name'] === peer.serviceAccount) && peer.namespace === namespace;
    // A Namespace reference: every identity in that namespace ("*" for all namespaces).
    if (ref['kind'] === 'Namespace') return ref['name'] === '*' || ref['name'] === peer.namespace;
    return false;
  });
}

function networksMatch(networks: Obj[], ip: string): boolean {
  return networks.some((n) => cidrContains(String(n['cidr']), ip) && !((n['except'] as string[] | undefined) ?? []).some((e) => cidrContains(e, ip)));
}

function legacyTargets(authz: KubeObject, server: KubeObject): boolean {
  const ref = ((authz.spec as Obj | undefined)?.['server'] as Obj | undefined) ?? {};
  if (typeof ref['name'] === 'string') return ref['name'] === server.metadata.name;
  if (ref['selector']) return matchesLabels(requirementsFromSelector(ref['selector'] as Parameters<typeof requirementsFromSelector>[0]), server.metadata.labels ?? {});
  return false;
}

/** ServerAuthorization's client: unauthenticated, networks, or meshTLS (identities, serviceAccounts, unauthenticatedTLS). */
function legacyClientMatches(authz: KubeObject, peer: LinkerdPeer): boolean {
  const client = ((authz.spec as Obj | undefined)?.['client'] as Obj | undefined) ?? {};
  const networks = client['networks'] as Obj[] | undefined;
  if (networks && !networksMatch(networks, peer.ip)) return false;
  if (client['unauthenticated'] === true) return true;
  const meshTLS = client['meshTLS'] as Obj | undefined;
  if (!meshTLS || !peer.mtls) return false;
  if (meshTLS['unauthenticatedTLS'] === true) return true;
  const identity = peer.namespace && peer.serviceAccount ? linkerdIdentity(peer.namespace, peer.serviceAccount) : undefined;
  const identities = (meshTLS['identities'] as string[] | undefined) ?? [];
  if (identity && identities.some((i) => i === '*' || i === identity || (i.startsWith('*.') && identity.endsWith(i.slice(1))))) return true;
  const accounts = (meshTLS['serviceAccounts'] as Array<{ name?: string; namespace?: string }> | undefined) ?? [];
  return accounts.some((s) => s.name === peer.serviceAccount && (s.namespace ?? authz.metadata.namespace) === peer.namespace);
}
