import type { KubeObject } from '../api/types.js';
import { parseGoDuration } from './control-plane.js';
import { destinationRuleFor, trafficPolicyOf, type TrafficPolicy } from './destination-rule.js';
import { hostMatches, resolveHost, serviceFqdn } from './hosts.js';
import type { ConfigSnapshot } from './policy.js';
import type { RequestAttributes } from './request.js';

type Obj = Record<string, unknown>;

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

/** Where a share of a route's requests goes: a topology service, maybe one subset of its pods. */
export interface RouteDestination {
  /** "namespace/name" of the service. */
  ref: string;
  /** Share of the route's requests, 0–1. */
  weight: number;
  subset?: string;
  /** The subset's pod labels (a DestinationRule subset). */
  subsetLabels?: Record<string, string>;
  policy: TrafficPolicy;
}

export type RouteDecision =
  | {
      kind: 'forward';
      destinations: RouteDestination[];
      /** The request as it leaves the client's proxy (after rewrite). */
      request: RequestAttributes;
      timeoutMs?: number;
      retries?: RetryPolicy;
      fault?: HttpFault;
      mirror?: { ref: string; share: number };
      /** The VirtualService and route that decided, when one did. */
      by?: string;
    }
  /** The client's proxy answers itself: a redirect, a direct response, no route (404 NR), or no cluster (503 NC). */
  | { kind: 'respond'; code: number; flags: string; by: string };

/** The hostnames of the topology's services, to turn a route destination into a service. */
export type ServiceDirectory = Map<string, string>;

export interface RouteClient {
  namespace: string;
  labels: Record<string, string>;
}

const MODELLED_ROUTE = new Set(['name', 'match', 'route', 'redirect', 'directResponse', 'rewrite', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercentage', 'mirrorPercent', 'mirrors', 'headers', 'corsPolicy']);

/**
 * What a client's sidecar does with a request for a service, from the VirtualServices it received
 * (istio.io reference/config/networking/virtual-service):
 * - the VirtualService for the host: exportTo honoured, `gateways` without `mesh` excluded, one in
 *   the client's namespace preferred, else the oldest; hosts resolved as Istio does (hosts.ts);
 * - http routes in order, the first whose match (any of the list; every field of one) fits:
 *   uri, method, authority, headers (exact/prefix/regex), withoutHeaders, queryParams, port,
 *   sourceLabels, sourceNamespace, gateways; no route fits → 404 (Envoy NR);
 * - the route: redirect and directResponse answer at the client; destinations with weights and
 *   subsets (a subset the DestinationRule lacks → 503 NC), rewrite, timeout, retries, fault, mirror.
 * No VirtualService: the request goes to the service it was sent to.
 */
export function resolveRoute(snapshot: ConfigSnapshot | undefined, called: { namespace: string; name: string }, client: RouteClient, request: RequestAttributes, directory: ServiceDirectory, notModelled: string[]): RouteDecision {
  const fqdn = serviceFqdn(called.namespace, called.name);
  const vs = snapshot ? virtualServiceFor(snapshot.virtualServices, fqdn, client.namespace, notModelled) : undefined;
  const calledRef = `${called.namespace}/${called.name}`;
  const plain = (): RouteDecision => ({ kind: 'forward', destinations: [destination(snapshot, calledRef, fqdn, undefined, 1, client, request.port, notModelled)], request });
  if (!vs) return plain();
  const spec = (vs.spec ?? {}) as Obj;
  const name = `${vs.metadata.namespace}/${vs.metadata.name}`;
  if (spec['delegate'] || ((spec['http'] as Obj[] | undefined) ?? []).some((r) => r['delegate'])) {
    notModelled.push(`VirtualService ${name}: delegate is not modelled; its routes are ignored`);
    return plain();
  }
  for (const key of ['tcp', 'tls']) if (spec[key]) notModelled.push(`VirtualService ${name}: ${key} routes are not modelled (the topology speaks HTTP)`);
  const routes = (spec['http'] as Obj[] | undefined) ?? [];
  if (routes.length === 0) return plain();
  for (const [index, route] of routes.entries()) {
    const matches = (route['match'] as Obj[] | undefined) ?? [];
    const hit = matches.length === 0 ? {} : matches.find((m) => httpMatch(m, request, client));
    if (!hit) continue;
    for (const key of Object.keys(route)) if (!MODELLED_ROUTE.has(key)) notModelled.push(`VirtualService ${name}: http[${index}].${key} is not modelled`);
    const by = `${name} http[${index}]${route['name'] ? ` (${String(route['name'])})` : ''}`;
    const redirect = route['redirect'] as Obj | undefined;
    if (redirect) return { kind: 'respond', code: Number(redirect['redirectCode'] ?? 301), flags: '-', by };
    const direct = route['directResponse'] as Obj | undefined;
    if (direct) return { kind: 'respond', code: Number(direct['status'] ?? 200), flags: '-', by };
    const rewritten = rewrite(request, route['rewrite'] as Obj | undefined, hit);
    const targets = ((route['route'] as Obj[] | undefined) ?? []).map((r) => ({ d: (r['destination'] as Obj | undefined) ?? {}, weight: r['weight'] === undefined ? undefined : Number(r['weight']) }));
    if (targets.length === 0) return { kind: 'respond', code: 404, flags: 'NR', by };
    const total = targets.reduce((sum, t) => sum + (t.weight ?? (targets.length === 1 ? 100 : 0)), 0) || 1;
    const destinations: RouteDestination[] = [];
    for (const t of targets) {
      const host = resolveHost(String(t.d['host'] ?? ''), vs.metadata.namespace ?? '');
      const ref = directory.get(host);
      const weight = (t.weight ?? (targets.length === 1 ? 100 : 0)) / total;
      if (weight <= 0) continue;
      if (!ref) {
        notModelled.push(`VirtualService ${name}: destination ${host} is not a service of the topology; its share answers 503 (no cluster)`);
        return { kind: 'respond', code: 503, flags: 'NC', by };
      }
      const port = Number((t.d['port'] as Obj | undefined)?.['number'] ?? rewritten.port);
      const dest = destination(snapshot, ref, host, t.d['subset'] === undefined ? undefined : String(t.d['subset']), weight, client, port, notModelled);
      if (dest.subset && !dest.subsetLabels) return { kind: 'respond', code: 503, flags: 'NC', by: `${by}: subset ${dest.subset} of ${host} is in no DestinationRule` };
      destinations.push(dest);
    }
    const mirror = mirrorOf(route, vs.metadata.namespace ?? '', directory);
    return {
      kind: 'forward',
      destinations,
      request: rewritten,
      by,
      ...(route['timeout'] !== undefined ? { timeoutMs: parseGoDuration(String(route['timeout'])) ?? 0 } : {}),
      ...(route['retries'] ? { retries: retriesOf(route['retries'] as Obj) } : {}),
      ...(route['fault'] ? { fault: faultOf(route['fault'] as Obj) } : {}),
      ...(mirror ? { mirror } : {}),
    };
  }
  return { kind: 'respond', code: 404, flags: 'NR', by: `${name}: no http route matches ${request.method} ${request.path}` };
}

function destination(snapshot: ConfigSnapshot | undefined, ref: string, fqdn: string, subset: string | undefined, weight: number, client: RouteClient, port: number, notModelled: string[]): RouteDestination {
  const lookup = destinationRuleFor(snapshot?.destinationRules ?? [], fqdn, client.namespace, ref.split('/')[0]!, notModelled);
  const labels = subset ? lookup.subsets.get(subset)?.labels : undefined;
  return { ref, weight, ...(subset ? { subset } : {}), ...(labels ? { subsetLabels: labels } : {}), policy: trafficPolicyOf(lookup, subset, port, notModelled) };
}

function exported(vs: KubeObject, clientNamespace: string): boolean {
  const exportTo = ((vs.spec as Obj | undefined)?.['exportTo'] as string[] | undefined) ?? ['*'];
  return exportTo.some((e) => e === '*' || (e === '.' && vs.metadata.namespace === clientNamespace) || e === clientNamespace);
}

function virtualServiceFor(all: KubeObject[], fqdn: string, clientNamespace: string, notModelled: string[]): KubeObject | undefined {
  const candidates = all.filter((vs) => {
    const spec = (vs.spec ?? {}) as Obj;
    const gateways = (spec['gateways'] as string[] | undefined) ?? [];
    if (gateways.length > 0 && !gateways.includes('mesh')) return false;
    if (!exported(vs, clientNamespace)) return false;
    return ((spec['hosts'] as string[] | undefined) ?? []).some((h) => hostMatches(resolveHost(h, vs.metadata.namespace ?? ''), fqdn));
  });
  if (candidates.length <= 1) return candidates[0];
  const own = candidates.filter((v) => v.metadata.namespace === clientNamespace);
  const pool = (own.length ? own : candidates).sort((a, b) => String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) || a.metadata.name.localeCompare(b.metadata.name));
  if (pool.length > 1) notModelled.push(`VirtualService ${pool.map((v) => `${v.metadata.namespace}/${v.metadata.name}`).join(', ')}: several for ${fqdn}; sidecars do not merge them, the twin uses the oldest`);
  return pool[0];
}

function stringMatch(m: Obj | undefined, value: string | undefined, ignoreCase = false): boolean {
  if (!m) return true;
  if (value === undefined) return false;
  const v = ignoreCase ? value.toLowerCase() : value;
  const text = (x: unknown) => (ignoreCase ? String(x).toLowerCase() : String(x));
  if (m['exact'] !== undefined) return v === text(m['exact']);
  if (m['prefix'] !== undefined) return v.startsWith(text(m['prefix']));
  if (m['regex'] !== undefined) return new RegExp(`^(?:${String(m['regex'])})$`, ignoreCase ? 'i' : '').test(value);
  return true;
}

/** HTTPMatchRequest: every field present must match (virtual-service reference, HTTPMatchRequest). */
function httpMatch(match: Obj, request: RequestAttributes, client: RouteClient): boolean {
  const [path, query = ''] = request.path.split('?') as [string, string?];
  if (!stringMatch(match['uri'] as Obj | undefined, path, match['ignoreUriCase'] === true)) return false;
  if (!stringMatch(match['method'] as Obj | undefined, request.method)) return false;
  if (!stringMatch(match['authority'] as Obj | undefined, request.host.replace(/:\d+$/, ''))) return false;
  if (!stringMatch(match['scheme'] as Obj | undefined, 'http')) return false;
  for (const [header, m] of Object.entries((match['headers'] as Record<string, Obj> | undefined) ?? {})) if (!stringMatch(m, request.headers[header.toLowerCase()])) return false;
  for (const header of Object.keys((match['withoutHeaders'] as Record<string, Obj> | undefined) ?? {})) if (request.headers[header.toLowerCase()] !== undefined) return false;
  const params = new URLSearchParams(query);
  for (const [param, m] of Object.entries((match['queryParams'] as Record<string, Obj> | undefined) ?? {})) if (!stringMatch(m, params.get(param) ?? undefined)) return false;
  if (match['port'] !== undefined && Number(match['port']) !== request.port) return false;
  const sourceLabels = (match['sourceLabels'] as Record<string, string> | undefined) ?? {};
  if (Object.entries(sourceLabels).some(([k, v]) => client.labels[k] !== v)) return false;
  if (match['sourceNamespace'] !== undefined && match['sourceNamespace'] !== client.namespace) return false;
  const gateways = match['gateways'] as string[] | undefined;
  if (gateways && !gateways.includes('mesh')) return false;
  return true;
}

/** HTTPRewrite: a uri prefix replaces what the match's prefix matched (the whole path for exact); authority replaces the host. */
function rewrite(request: RequestAttributes, spec: Obj | undefined, match: Obj): RequestAttributes {
  if (!spec) return request;
  let path = request.path;
  if (typeof spec['uri'] === 'string') {
    const uri = match['uri'] as Obj | undefined;
    const prefix = uri?.['prefix'];
    path = typeof prefix === 'string' && path.startsWith(prefix) ? `${spec['uri']}${path.slice(prefix.length)}` : spec['uri'];
  }
  return { ...request, path, ...(typeof spec['authority'] === 'string' ? { host: spec['authority'] } : {}) };
}

function percentOf(spec: Obj | undefined, legacyPercent: boolean): number {
  if (!spec) return 0;
  const percentage = spec['percentage'] as Obj | undefined;
  if (percentage?.['value'] !== undefined) return Number(percentage['value']);
  // Delay's deprecated integer `percent` (Abort has none); with neither, nothing is faulted ("If
  // not specified, no request will be aborted", virtual_service.proto HTTPFaultInjection).
  return legacyPercent && spec['percent'] !== undefined ? Number(spec['percent']) : 0;
}

function faultOf(fault: Obj): HttpFault {
  const abort = fault['abort'] as Obj | undefined;
  const delay = fault['delay'] as Obj | undefined;
  return {
    abortPercent: abort ? percentOf(abort, false) : 0,
    abortStatus: Number(abort?.['httpStatus'] ?? 503),
    delayPercent: delay ? percentOf(delay, true) : 0,
    delayMs: parseGoDuration(String(delay?.['fixedDelay'] ?? '0s')) ?? 0,
  };
}

function retriesOf(retries: Obj): RetryPolicy {
  return {
    attempts: Number(retries['attempts'] ?? 0),
    retryOn: String(retries['retryOn'] ?? 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes').split(','),
    ...(retries['perTryTimeout'] !== undefined ? { perTryTimeoutMs: parseGoDuration(String(retries['perTryTimeout'])) ?? 0 } : {}),
  };
}

/** Mirrored requests: counted at the mirror, their answers dropped (mirrorPercentage default 100). */
function mirrorOf(route: Obj, namespace: string, directory: ServiceDirectory): { ref: string; share: number } | undefined {
  const single = route['mirror'] as Obj | undefined;
  const first = single ? { destination: single, percentage: route['mirrorPercentage'] as Obj | undefined } : ((route['mirrors'] as Obj[] | undefined) ?? [])[0] as { destination?: Obj; percentage?: Obj } | undefined;
  if (!first?.destination) return undefined;
  const ref = directory.get(resolveHost(String(first.destination['host'] ?? ''), namespace));
  if (!ref) return undefined;
  const pct = first.percentage?.['value'] !== undefined ? Number(first.percentage['value']) : route['mirrorPercent'] !== undefined ? Number(route['mirrorPercent']) : 100;
  return { ref, share: pct / 100 };
}

/** Every route answer remembered per snapshot and client pod: snapshots never change. */
const ROUTES = new WeakMap<ConfigSnapshot, WeakMap<object, Map<string, { decision: RouteDecision; notModelled: string[] }>>>();

export function cachedRoute(snapshot: ConfigSnapshot | undefined, clientKey: object, key: string, compute: (notModelled: string[]) => RouteDecision): { decision: RouteDecision; notModelled: string[] } {
  if (!snapshot) {
    const notModelled: string[] = [];
    return { decision: compute(notModelled), notModelled };
  }
  let byClient = ROUTES.get(snapshot);
  if (!byClient) ROUTES.set(snapshot, (byClient = new WeakMap()));
  let byKey = byClient.get(clientKey);
  if (!byKey) byClient.set(clientKey, (byKey = new Map()));
  let entry = byKey.get(key);
  if (!entry) {
    const notModelled: string[] = [];
    entry = { decision: compute(notModelled), notModelled };
    byKey.set(key, entry);
  }
  return entry;
}
