import { matchesLabels, requirementsFromSelector } from '../api/selectors.js';
import type { KubeObject } from '../api/types.js';

type Obj = Record<string, unknown>;

/** The mesh configuration a proxy last received. Frozen while its control plane is unreachable. */
export interface ConfigSnapshot {
  version: number;
  takenAt: number;
  peerAuthentications: KubeObject[];
  authorizationPolicies: KubeObject[];
  virtualServices: KubeObject[];
  servers: KubeObject[];
  linkerdAuthorizations: KubeObject[];
  meshTlsAuthentications: KubeObject[];
  /** Linkerd: retry policies from Service annotations, by "namespace/name". */
  linkerdRetries: Map<string, LinkerdRetryPolicy>;
  /** Ready endpoints per service ("namespace/name"), as pod uids. */
  endpoints: Map<string, string[]>;
}

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

function selector(policy: KubeObject): unknown {
  return (policy.spec as Obj | undefined)?.['selector'];
}

function selects(selector: unknown, labels: Record<string, string>): boolean {
  return matchesLabels(requirementsFromSelector(selector as Parameters<typeof requirementsFromSelector>[0]), labels);
}

function modeOf(policy: KubeObject | undefined): MtlsMode | undefined {
  const mode = ((policy?.spec as Obj | undefined)?.['mtls'] as { mode?: string } | undefined)?.mode;
  return mode === 'STRICT' || mode === 'PERMISSIVE' || mode === 'DISABLE' ? mode : undefined;
}

/**
 * Istio PeerAuthentication resolution: workload (selector) > namespace (no selector) > root
 * namespace (no selector; selectors there are ignored); UNSET inherits; nothing → PERMISSIVE
 * (istio/api security/v1beta1/peer_authentication.proto).
 */
export function effectiveMtls(snapshot: ConfigSnapshot | undefined, namespace: string, labels: Record<string, string>, rootNamespace = 'istio-system'): MtlsMode {
  const policies = snapshot?.peerAuthentications ?? [];
  if (policies.length === 0) return 'PERMISSIVE';
  const workload = policies.find((p) => p.metadata.namespace === namespace && namespace !== rootNamespace && selector(p) !== undefined && selects(selector(p), labels));
  const ns = policies.find((p) => p.metadata.namespace === namespace && selector(p) === undefined);
  const mesh = policies.find((p) => p.metadata.namespace === rootNamespace && selector(p) === undefined);
  return modeOf(workload) ?? modeOf(ns) ?? modeOf(mesh) ?? 'PERMISSIVE';
}

export interface PeerIdentity {
  namespace?: string;
  /** SPIFFE-style principal "cluster.local/ns/<ns>/sa/<sa>"; absent for plaintext. */
  principal?: string;
}

function glob(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

function ruleMatches(rule: Obj, peer: PeerIdentity): boolean {
  const from = (rule['from'] as Array<{ source?: Obj }> | undefined) ?? [];
  if (from.length === 0) return true;
  return from.some(({ source = {} }) => {
    const principals = source['principals'] as string[] | undefined;
    const namespaces = source['namespaces'] as string[] | undefined;
    const notNamespaces = source['notNamespaces'] as string[] | undefined;
    if (principals && !principals.some((p) => glob(p, peer.principal))) return false;
    // source.namespaces needs mTLS: it is read from the peer certificate.
    if (namespaces && !namespaces.some((n) => glob(n, peer.principal ? peer.namespace : undefined))) return false;
    if (notNamespaces && notNamespaces.some((n) => glob(n, peer.namespace))) return false;
    return true;
  });
}

/**
 * Istio AuthorizationPolicy: DENY policies first; then, if any ALLOW policy applies to the
 * workload, a request must match one of its rules; no policy → allowed
 * (istio.io/latest/docs/reference/config/security/authorization-policy/).
 */
export function istioAuthorized(snapshot: ConfigSnapshot | undefined, namespace: string, labels: Record<string, string>, peer: PeerIdentity, rootNamespace = 'istio-system'): boolean {
  const applying = (snapshot?.authorizationPolicies ?? []).filter((p) => {
    if (p.metadata.namespace !== namespace && p.metadata.namespace !== rootNamespace) return false;
    const selector = (p.spec as Obj | undefined)?.['selector'];
    return selector === undefined || selects(selector, labels);
  });
  if (applying.length === 0) return true;
  if (applying.some((p) => action(p) === 'DENY' && rules(p).some((r) => ruleMatches(r, peer)))) return false;
  const allows = applying.filter((p) => action(p) === 'ALLOW');
  if (allows.length === 0) return true;
  return allows.some((p) => rules(p).some((r) => ruleMatches(r, peer)));
}

function action(policy: KubeObject): string {
  return String((policy.spec as Obj | undefined)?.['action'] ?? 'ALLOW');
}

function rules(policy: KubeObject): Obj[] {
  return ((policy.spec as Obj | undefined)?.['rules'] as Obj[] | undefined) ?? [];
}

/**
 * Linkerd inbound policy. A Server selecting the pod and port denies what no AuthorizationPolicy
 * authorizes; otherwise the default policy fixed at proxy start applies
 * (linkerd.io/2-edge/reference/authorization-policy, features/server-policy).
 */
export function linkerdAuthorized(snapshot: ConfigSnapshot | undefined, namespace: string, labels: Record<string, string>, port: number, defaultPolicy: string, tls: boolean): boolean {
  const servers = (snapshot?.servers ?? []).filter((s) => {
    const spec = (s.spec ?? {}) as Obj;
    return s.metadata.namespace === namespace && selects(spec['podSelector'] ?? {}, labels) && (spec['port'] === port || spec['port'] === undefined);
  });
  if (servers.length === 0) {
    if (defaultPolicy === 'deny') return false;
    if (defaultPolicy === 'all-authenticated' || defaultPolicy === 'cluster-authenticated') return tls;
    return true;
  }
  return servers.some((server) => {
    const policies = (snapshot?.linkerdAuthorizations ?? []).filter((a) => {
      const ref = ((a.spec as Obj | undefined)?.['targetRef'] as Obj | undefined) ?? {};
      return a.metadata.namespace === namespace && ((ref['kind'] === 'Server' && ref['name'] === server.metadata.name) || ref['kind'] === 'Namespace');
    });
    return policies.some((a) => {
      const refs = (((a.spec as Obj)['requiredAuthenticationRefs'] as Obj[] | undefined) ?? []);
      return refs.every((ref) => {
        if (ref['kind'] === 'MeshTLSAuthentication') return tls && (snapshot?.meshTlsAuthentications ?? []).some((m) => m.metadata.name === ref['name'] && m.metadata.namespace === (ref['namespace'] ?? namespace));
        return true; // NetworkAuthentication: every address in the simulated cluster network.
      });
    });
  });
}

export interface HttpFault {
  abortPercent: number;
  abortStatus: number;
  delayPercent: number;
  delayMs: number;
}

export interface RetryPolicy {
  attempts: number;
  retryOn: string[];
  /** retries.perTryTimeout, when set. */
  perTryTimeoutMs?: number;
}

/** Linkerd's retry annotations on a Service: which response statuses, how many retries. */
export interface LinkerdRetryPolicy {
  limit: number;
  retries: (status: number) => boolean;
}

/**
 * Linkerd ≥ 2.16 retries from the annotations on a Service: `retry.linkerd.io/http` is a
 * comma-separated list of statuses (`5xx`, a range `500-504`, or one code) and
 * `retry.linkerd.io/limit` the retries per request, 1 by default. Retries are the client proxy's
 * (outbound side) (linkerd.io/2/reference/retries). Undefined when the Service asks for none.
 */
export function linkerdRetryPolicy(service: KubeObject): LinkerdRetryPolicy | undefined {
  const annotations = service.metadata.annotations ?? {};
  const http = annotations['retry.linkerd.io/http'];
  if (!http) return undefined;
  const ranges = http.split(',').map((part) => part.trim()).flatMap((part): Array<[number, number]> => {
    const xx = /^([1-5])xx$/i.exec(part);
    if (xx) return [[Number(xx[1]) * 100, Number(xx[1]) * 100 + 99]];
    const range = /^(\d{3})-(\d{3})$/.exec(part);
    if (range) return [[Number(range[1]), Number(range[2])]];
    return /^\d{3}$/.test(part) ? [[Number(part), Number(part)]] : [];
  });
  if (ranges.length === 0) return undefined;
  const limit = Number(annotations['retry.linkerd.io/limit'] ?? '1');
  return { limit: Number.isInteger(limit) && limit >= 0 ? limit : 1, retries: (status) => ranges.some(([low, high]) => status >= low && status <= high) };
}

/**
 * The first HTTP route of a VirtualService for `service` as seen from `clientNamespace`: its fault
 * (applied by the client's proxy; no percentage → no fault) and its retry policy.
 */
export function routeFor(snapshot: ConfigSnapshot | undefined, service: string, clientNamespace: string): Route {
  void clientNamespace;
  if (!snapshot) return {};
  // A snapshot never changes, and the traffic model asks for every client pod on every tick.
  let routes = ROUTES.get(snapshot);
  if (!routes) {
    routes = new Map();
    ROUTES.set(snapshot, routes);
  }
  let route = routes.get(service);
  if (!route) {
    route = firstRoute(snapshot, service);
    routes.set(service, route);
  }
  return route;
}

export type Route = { fault?: HttpFault; retries?: RetryPolicy };
const ROUTES = new WeakMap<ConfigSnapshot, Map<string, Route>>();

function firstRoute(snapshot: ConfigSnapshot, service: string): Route {
  const [namespace, name] = service.split('/') as [string, string];
  const hosts = new Set([`${name}.${namespace}.svc.cluster.local`, `${name}.${namespace}`, `${name}.${namespace}.svc`]);
  const vs = snapshot.virtualServices.find((v) => {
    const spec = (v.spec ?? {}) as Obj;
    return ((spec['hosts'] as string[] | undefined) ?? []).some((h) => hosts.has(h) || (h === name && v.metadata.namespace === namespace));
  });
  const route = (((vs?.spec as Obj | undefined)?.['http'] as Obj[] | undefined) ?? [])[0];
  if (!route) return {};
  const fault = route['fault'] as { abort?: Obj; delay?: Obj } | undefined;
  const percent = (f: Obj | undefined) => Number(((f?.['percentage'] as Obj | undefined)?.['value']) ?? 0);
  const retries = route['retries'] as Obj | undefined;
  return {
    ...(fault
      ? {
          fault: {
            abortPercent: percent(fault.abort),
            abortStatus: Number(fault.abort?.['httpStatus'] ?? 503),
            delayPercent: percent(fault.delay),
            delayMs: parseDelay(String(fault.delay?.['fixedDelay'] ?? '0s')),
          },
        }
      : {}),
    ...(retries
      ? {
          retries: {
            attempts: Number(retries['attempts'] ?? 0),
            retryOn: String(retries['retryOn'] ?? 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes').split(','),
            ...(retries['perTryTimeout'] !== undefined ? { perTryTimeoutMs: parseDelay(String(retries['perTryTimeout'])) } : {}),
          },
        }
      : {}),
  };
}

function parseDelay(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (!match) return 0;
  return Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[match[2]!]!;
}
