import type { EndpointLookup } from './endpoint-table.js';
import { matchesLabels, requirementsFromSelector } from '../api/selectors.js';
import type { KubeObject } from '../api/types.js';
import type { TrustDomain } from './identity.js';

type Obj = Record<string, unknown>;

/** The mesh configuration a proxy last received. Frozen while its control plane is unreachable. */
export interface ConfigSnapshot {
  version: number;
  takenAt: number;
  /** Istio's trust domain and aliases, from the mesh config (what istiod builds RBAC with). */
  trustDomain: TrustDomain;
  peerAuthentications: KubeObject[];
  authorizationPolicies: KubeObject[];
  virtualServices: KubeObject[];
  destinationRules: KubeObject[];
  /** Istio Sidecar resources, and the mesh's outbound policy for hosts they leave out (egress.ts). */
  sidecars: KubeObject[];
  outboundMode: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** Istio ServiceEntries (hosts outside the mesh made known) and Linkerd EgressNetworks. */
  serviceEntries: KubeObject[];
  egressNetworks: KubeObject[];
  /** Istio ambient: the waypoint ("namespace/name") each namespace uses (istio.io/use-waypoint). */
  waypoints: Map<string, string>;
  servers: KubeObject[];
  linkerdAuthorizations: KubeObject[];
  meshTlsAuthentications: KubeObject[];
  networkAuthentications: KubeObject[];
  serverAuthorizations: KubeObject[];
  /** HTTPRoutes (policy.linkerd.io and gateway.networking.k8s.io). */
  httpRoutes: KubeObject[];
  /** Linkerd: retry policies from Service annotations, by "namespace/name". */
  linkerdRetries: Map<string, LinkerdRetryPolicy>;
  /** Ready endpoints per service ("namespace/name"), as pod uids. */
  endpoints: EndpointLookup;
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

function portModeOf(policy: KubeObject | undefined, port: number | undefined): MtlsMode | undefined {
  if (!policy || port === undefined) return undefined;
  const ports = (policy.spec as Obj | undefined)?.['portLevelMtls'] as Record<string, { mode?: string }> | undefined;
  const mode = ports?.[String(port)]?.mode;
  return mode === 'STRICT' || mode === 'PERMISSIVE' || mode === 'DISABLE' ? mode : undefined;
}

/** Oldest first: when several policies of one level match, Istio uses the oldest (peer_authentication.proto). */
function oldest(policies: KubeObject[]): KubeObject | undefined {
  return [...policies].sort((a, b) => String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) || a.metadata.name.localeCompare(b.metadata.name))[0];
}

/**
 * Istio PeerAuthentication resolution for a workload port: the workload policy's portLevelMtls
 * for the port > workload (selector) > namespace (no selector) > root namespace (no selector;
 * selectors there are ignored); UNSET inherits; nothing → PERMISSIVE. portLevelMtls counts only
 * on a policy with a selector (istio/api security/v1beta1/peer_authentication.proto).
 */
export function effectiveMtls(snapshot: ConfigSnapshot | undefined, namespace: string, labels: Record<string, string>, port?: number, rootNamespace = 'istio-system'): MtlsMode {
  const policies = snapshot?.peerAuthentications ?? [];
  if (policies.length === 0) return 'PERMISSIVE';
  const workload = oldest(policies.filter((p) => p.metadata.namespace === namespace && namespace !== rootNamespace && selector(p) !== undefined && selects(selector(p), labels)));
  const ns = oldest(policies.filter((p) => p.metadata.namespace === namespace && selector(p) === undefined));
  const mesh = oldest(policies.filter((p) => p.metadata.namespace === rootNamespace && selector(p) === undefined));
  return portModeOf(workload, port) ?? modeOf(workload) ?? modeOf(ns) ?? modeOf(mesh) ?? 'PERMISSIVE';
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
