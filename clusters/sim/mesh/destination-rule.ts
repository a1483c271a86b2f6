import type { KubeObject } from '../api/types.js';
import { parseGoDuration } from './control-plane.js';
import { hostMatches, resolveHost } from './hosts.js';

type Obj = Record<string, unknown>;

export type ClientTlsMode = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';

/** Envoy's circuit breakers for one upstream cluster, per client proxy (DestinationRule connectionPool). */
export interface ConnectionPool {
  maxConnections?: number;
  http1MaxPendingRequests?: number;
  http2MaxRequests?: number;
}

/** Outlier detection for one upstream cluster, per client proxy (DestinationRule outlierDetection). */
export interface OutlierDetection {
  consecutive5xxErrors: number;
  consecutiveGatewayErrors?: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  minHealthPercent: number;
}

/** What a DestinationRule says of the traffic to one host, subset and port. */
export interface TrafficPolicy {
  /** Explicit client TLS; undefined means auto mTLS. */
  tlsMode?: ClientTlsMode;
  connectionPool?: ConnectionPool;
  outlierDetection?: OutlierDetection;
  /** The rule it came from ("namespace/name"). */
  from?: string;
}

export interface DestinationLookup {
  rule?: KubeObject;
  /** Subset name → pod labels. */
  subsets: Map<string, { labels: Record<string, string>; policy?: Obj }>;
}

function exported(object: KubeObject, clientNamespace: string): boolean {
  const exportTo = ((object.spec as Obj | undefined)?.['exportTo'] as string[] | undefined) ?? ['*'];
  return exportTo.some((e) => e === '*' || (e === '.' && object.metadata.namespace === clientNamespace) || e === clientNamespace);
}

/**
 * The DestinationRule a client uses for a host: one in the client's namespace first, then the
 * service's, then the root namespace's (istio.io reference/config/networking/destination-rule,
 * exportTo: "the client namespace, the service namespace, the root config namespace"); within one
 * namespace the oldest. Honours exportTo; short hosts are relative to the rule's namespace.
 */
export function destinationRuleFor(rules: KubeObject[], fqdn: string, clientNamespace: string, serviceNamespace: string, notModelled: string[], rootNamespace = 'istio-system'): DestinationLookup {
  const matching = rules.filter((r) => exported(r, clientNamespace) && hostMatches(resolveHost(String((r.spec as Obj | undefined)?.['host'] ?? ''), r.metadata.namespace ?? ''), fqdn));
  for (const namespace of [clientNamespace, serviceNamespace, rootNamespace]) {
    const here = matching.filter((r) => r.metadata.namespace === namespace).sort(byAge);
    if (here.length === 0) continue;
    if (here.length > 1) notModelled.push(`DestinationRule ${here.map(ref).join(', ')}: several rules for ${fqdn} in ${namespace}; Istio merges them where they do not conflict, the twin uses the oldest (${ref(here[0]!)})`);
    const rule = here[0]!;
    const subsets = new Map<string, { labels: Record<string, string>; policy?: Obj }>();
    for (const s of ((rule.spec as Obj)['subsets'] as Obj[] | undefined) ?? []) {
      subsets.set(String(s['name']), { labels: (s['labels'] as Record<string, string> | undefined) ?? {}, ...(s['trafficPolicy'] ? { policy: s['trafficPolicy'] as Obj } : {}) });
    }
    return { rule, subsets };
  }
  return { subsets: new Map() };
}

function ref(o: KubeObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}

function byAge(a: KubeObject, b: KubeObject): number {
  return String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) || a.metadata.name.localeCompare(b.metadata.name);
}

const MODELLED_POLICY = new Set(['tls', 'connectionPool', 'outlierDetection', 'portLevelSettings', 'loadBalancer']);

/**
 * The traffic policy for a port of a host and subset: the rule's top level, its portLevelSettings
 * for the port, then the subset's (each overriding field by field: "policies specified for subsets
 * override those specified at the service level", destination-rule reference, Subset).
 */
export function trafficPolicyOf(lookup: DestinationLookup, subset: string | undefined, port: number, notModelled: string[]): TrafficPolicy {
  if (!lookup.rule) return {};
  const top = ((lookup.rule.spec as Obj)['trafficPolicy'] as Obj | undefined) ?? {};
  const layers = [top, portLevel(top, port)];
  const sub = subset ? lookup.subsets.get(subset)?.policy : undefined;
  if (sub) layers.push(sub, portLevel(sub, port));
  const policy: TrafficPolicy = { from: ref(lookup.rule) };
  for (const layer of layers) {
    for (const key of Object.keys(layer)) {
      if (!MODELLED_POLICY.has(key) && key !== 'port') notModelled.push(`DestinationRule ${ref(lookup.rule)}: trafficPolicy.${key} is not modelled`);
    }
    const tls = (layer['tls'] as Obj | undefined)?.['mode'];
    if (tls === 'DISABLE' || tls === 'SIMPLE' || tls === 'MUTUAL' || tls === 'ISTIO_MUTUAL') policy.tlsMode = tls;
    const pool = layer['connectionPool'] as { tcp?: Obj; http?: Obj } | undefined;
    if (pool) {
      policy.connectionPool = {
        ...policy.connectionPool,
        ...(pool.tcp?.['maxConnections'] !== undefined ? { maxConnections: Number(pool.tcp['maxConnections']) } : {}),
        ...(pool.http?.['http1MaxPendingRequests'] !== undefined ? { http1MaxPendingRequests: Number(pool.http['http1MaxPendingRequests']) } : {}),
        ...(pool.http?.['http2MaxRequests'] !== undefined ? { http2MaxRequests: Number(pool.http['http2MaxRequests']) } : {}),
      };
    }
    const outlier = layer['outlierDetection'] as Obj | undefined;
    if (outlier) policy.outlierDetection = outlierOf(outlier);
    if ((layer['loadBalancer'] as Obj | undefined) && (layer['loadBalancer'] as Obj)['consistentHash']) notModelled.push(`DestinationRule ${ref(lookup.rule)}: trafficPolicy.loadBalancer.consistentHash is not modelled (requests spread evenly)`);
  }
  return policy;
}

function portLevel(policy: Obj, port: number): Obj {
  const settings = (policy['portLevelSettings'] as Obj[] | undefined) ?? [];
  return settings.find((s) => Number((s['port'] as Obj | undefined)?.['number']) === port) ?? {};
}

/**
 * Istio's outlier detection defaults (destination-rule reference, OutlierDetection):
 * consecutive5xxErrors 5, interval 10s, baseEjectionTime 30s, maxEjectionPercent 10,
 * minHealthPercent 0. (Envoy ejects at least one host whatever the percentage.)
 */
function outlierOf(spec: Obj): OutlierDetection {
  const five = spec['consecutive5xxErrors'] ?? spec['consecutiveErrors'];
  return {
    consecutive5xxErrors: five === undefined ? 5 : Number(five),
    ...(spec['consecutiveGatewayErrors'] !== undefined ? { consecutiveGatewayErrors: Number(spec['consecutiveGatewayErrors']) } : {}),
    intervalMs: parseGoDuration(spec['interval'] as string | undefined) ?? 10_000,
    baseEjectionTimeMs: parseGoDuration(spec['baseEjectionTime'] as string | undefined) ?? 30_000,
    maxEjectionPercent: spec['maxEjectionPercent'] === undefined ? 10 : Number(spec['maxEjectionPercent']),
    minHealthPercent: spec['minHealthPercent'] === undefined ? 0 : Number(spec['minHealthPercent']),
  };
}
