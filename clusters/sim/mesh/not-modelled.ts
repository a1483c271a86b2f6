import type { KubeObject } from '../api/types.js';

type Obj = Record<string, unknown>;
type Path = Array<string | number>;

/** Something the twin reads but does not model: a whole object, or one field of it. */
export interface NotModelled {
  kind: string;
  namespace?: string;
  name: string;
  /** The field's path in the object; absent when the whole object is not modelled. */
  path?: Path;
  reason: string;
}

/** Kinds the twin does not model at all: applying them changes nothing it computes. */
const KINDS_NOT_MODELLED: Record<string, string> = {
  'networking.istio.io/EnvoyFilter': 'Envoy configuration patches are not modelled',
  'networking.istio.io/Gateway': 'Istio gateways are not run by the twin (a topology service with gateway: true plays the ingress)',
  'networking.istio.io/WorkloadEntry': 'VM workloads are not modelled',
  'networking.istio.io/WorkloadGroup': 'VM workloads are not modelled',
  'networking.istio.io/ProxyConfig': 'proxy settings are not modelled',
  'security.istio.io/RequestAuthentication': 'JWT validation is not modelled: the topology\'s requests carry no token',
  'telemetry.istio.io/Telemetry': 'telemetry settings are not modelled: the twin always reports the standard metrics',
  'extensions.istio.io/WasmPlugin': 'Wasm extensions are not modelled',
  'linkerd.io/ServiceProfile': 'ServiceProfile routes, retries and timeouts are not modelled',
  'workload.linkerd.io/ExternalWorkload': 'external workloads are not modelled',
  'gateway.networking.k8s.io/GRPCRoute': 'gRPC routes are not modelled',
  'gateway.networking.k8s.io/TCPRoute': 'TCP routes are not modelled',
  'gateway.networking.k8s.io/TLSRoute': 'TLS routes are not modelled',
  'multicluster.linkerd.io/Link': 'multicluster links are not modelled',
};

/** Mesh annotations on pods, workloads and namespaces that change proxy behaviour the twin does not play. */
const ANNOTATION_PREFIXES_NOT_MODELLED = ['traffic.sidecar.istio.io/', 'proxy.istio.io/', 'sidecar.istio.io/proxy', 'sidecar.istio.io/interceptionMode', 'config.linkerd.io/skip-', 'config.linkerd.io/proxy-'];

/** Per kind, the fields the twin models (dotted paths; `*` is any key or index). */
const MODELLED_FIELDS: Record<string, string[]> = {
  'security.istio.io/PeerAuthentication': ['selector', 'mtls.mode', 'portLevelMtls.*.mode'],
  'security.istio.io/AuthorizationPolicy': ['selector', 'action', 'provider', 'rules', 'targetRef', 'targetRefs'],
  'networking.istio.io/VirtualService': ['hosts', 'gateways', 'exportTo', 'http.*.name', 'http.*.match', 'http.*.route', 'http.*.redirect', 'http.*.directResponse', 'http.*.rewrite', 'http.*.timeout', 'http.*.retries', 'http.*.fault', 'http.*.mirror', 'http.*.mirrorPercentage', 'http.*.mirrorPercent', 'http.*.mirrors', 'http.*.headers', 'http.*.corsPolicy'],
  'networking.istio.io/DestinationRule': ['host', 'exportTo', 'subsets.*.name', 'subsets.*.labels', ...policyFields('trafficPolicy'), ...policyFields('subsets.*.trafficPolicy')],
  'networking.istio.io/Sidecar': ['workloadSelector', 'egress.*.hosts', 'outboundTrafficPolicy.mode'],
  'policy.linkerd.io/Server': ['podSelector', 'port', 'proxyProtocol', 'accessPolicy'],
  // Outside hosts the Topology calls (its `external` calls): hosts, ports and export decide. How
  // they resolve, endpoints, and MESH_INTERNAL's mTLS are not played, and are reported.
  'networking.istio.io/ServiceEntry': ['hosts', 'ports', 'exportTo'],
  'policy.linkerd.io/EgressNetwork': ['trafficPolicy'],
  'gateway.networking.k8s.io/Gateway': ['gatewayClassName', 'listeners'],
  'policy.linkerd.io/AuthorizationPolicy': ['targetRef', 'requiredAuthenticationRefs'],
  'policy.linkerd.io/MeshTLSAuthentication': ['identities', 'identityRefs'],
  'policy.linkerd.io/NetworkAuthentication': ['networks'],
  'policy.linkerd.io/ServerAuthorization': ['server', 'client'],
  // Inbound (parent: a Server) and Linkerd's outbound (parent: a Service) routes: matches and weighted backends.
  'policy.linkerd.io/HTTPRoute': ['parentRefs', 'hostnames', 'rules.*.matches', 'rules.*.backendRefs.*.name', 'rules.*.backendRefs.*.namespace', 'rules.*.backendRefs.*.port', 'rules.*.backendRefs.*.weight', 'rules.*.backendRefs.*.group', 'rules.*.backendRefs.*.kind'],
  'gateway.networking.k8s.io/HTTPRoute': ['parentRefs', 'hostnames', 'rules.*.matches', 'rules.*.backendRefs.*.name', 'rules.*.backendRefs.*.namespace', 'rules.*.backendRefs.*.port', 'rules.*.backendRefs.*.weight', 'rules.*.backendRefs.*.group', 'rules.*.backendRefs.*.kind'],
};

function policyFields(prefix: string): string[] {
  const one = ['tls.mode', 'tls.sni', 'tls.credentialName', 'connectionPool.tcp.maxConnections', 'connectionPool.http.http1MaxPendingRequests', 'connectionPool.http.http2MaxRequests', 'outlierDetection', 'loadBalancer.simple'];
  return [...one.map((f) => `${prefix}.${f}`), ...one.map((f) => `${prefix}.portLevelSettings.*.${f}`), `${prefix}.portLevelSettings.*.port`];
}

function groupKind(object: KubeObject): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  return `${group}/${object.kind}`;
}

function covered(path: string[], modelled: string[]): 'yes' | 'partly' | 'no' {
  for (const m of modelled) {
    const parts = m.split('.');
    if (parts.length <= path.length && parts.every((p, i) => p === '*' || p === path[i])) return 'yes';
    if (parts.length > path.length && path.every((p, i) => parts[i] === '*' || parts[i] === p)) return 'partly';
  }
  return 'no';
}

/** The leaves of `spec` not covered by the modelled fields, as paths (stopping at the first uncovered key). */
function uncovered(value: unknown, path: string[], modelled: string[], out: string[][]): void {
  const state = covered(path, modelled);
  if (state === 'yes') return;
  if (state === 'no' && path.length > 0) {
    out.push(path);
    return;
  }
  if (Array.isArray(value)) value.forEach((v, i) => uncovered(v, [...path, String(i)], modelled, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value as Obj)) uncovered(v, [...path, k], modelled, out);
}

/**
 * What of an object the twin reads but does not model: a kind it ignores, a spec field it does not
 * play, a mesh annotation it does not honour. Every entry carries the path to point a reader at
 * the YAML line. Objects of kinds outside the meshes (Deployments, Services…) are judged by their
 * mesh annotations only; NetworkPolicies by what they do to the topology's calls.
 */
export function notModelledIn(object: KubeObject): NotModelled[] {
  const id = { kind: object.kind, ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}), name: object.metadata.name };
  const gk = groupKind(object);
  const out: NotModelled[] = [];
  const whole = KINDS_NOT_MODELLED[gk];
  if (whole) return [{ ...id, reason: whole }];
  if (gk === 'networking.k8s.io/NetworkPolicy') return [{ ...id, reason: 'NetworkPolicies are modelled for reaching the control plane only; their effect on the topology\'s calls is not' }];
  const modelled = MODELLED_FIELDS[gk];
  if (modelled) {
    const fields: string[][] = [];
    uncovered(object['spec'] ?? {}, [], modelled, fields);
    for (const f of fields) out.push({ ...id, path: ['spec', ...f.map((p) => (/^\d+$/.test(p) ? Number(p) : p))], reason: `spec.${f.join('.')} is not modelled` });
    if (gk === 'security.istio.io/AuthorizationPolicy') {
      const spec = (object['spec'] ?? {}) as Obj;
      if (spec['targetRef'] || spec['targetRefs']) out.push({ ...id, path: ['spec', spec['targetRef'] ? 'targetRef' : 'targetRefs'], reason: 'attached to a waypoint or gateway, which the twin does not run' });
      if (spec['action'] === 'CUSTOM') out.push({ ...id, path: ['spec', 'action'], reason: 'CUSTOM: the external authorizer\'s answer is not modelled; requests pass it' });
    }
    if (gk === 'gateway.networking.k8s.io/Gateway') {
      // A waypoint (class istio-waypoint) is played: the policies attached to it, and the identity
      // it forwards with. Other gateways, and a waypoint's own listeners and routes, are not.
      if ((object['spec'] as Obj | undefined)?.['gatewayClassName'] !== 'istio-waypoint') out.push({ ...id, reason: 'Gateway API gateways are not run by the twin (waypoints, class istio-waypoint, are)' });
    }
    if (gk === 'policy.linkerd.io/Server') {
      const protocol = (object['spec'] as Obj | undefined)?.['proxyProtocol'];
      if (protocol === 'TLS') out.push({ ...id, path: ['spec', 'proxyProtocol'], reason: `proxyProtocol ${String(protocol)}: the twin still reports HTTP metrics for this port` });
    }
  }
  // A waypoint for one Service (or pod) rather than its namespace is not played: say so.
  if ((object.kind === 'Service' || object.kind === 'Pod' || object.kind === 'ServiceEntry') && object.metadata.labels?.['istio.io/use-waypoint'] !== undefined) out.push({ ...id, path: ['metadata', 'labels', 'istio.io/use-waypoint'], reason: 'a waypoint for this object alone is not modelled (a namespace\'s istio.io/use-waypoint is)' });
  const annotated: Array<[Path, Record<string, string> | undefined]> = [
    [['metadata', 'annotations'], object.metadata.annotations],
    [['spec', 'template', 'metadata', 'annotations'], ((object['spec'] as Obj | undefined)?.['template'] as { metadata?: { annotations?: Record<string, string> } } | undefined)?.metadata?.annotations],
  ];
  for (const [path, annotations] of annotated) {
    for (const key of Object.keys(annotations ?? {})) {
      if (ANNOTATION_PREFIXES_NOT_MODELLED.some((p) => key.startsWith(p))) out.push({ ...id, path: [...path, key], reason: `annotation ${key} is not modelled` });
    }
  }
  return out;
}

/** One line for a person: "Kind namespace/name: reason". */
export function describeNotModelled(entry: NotModelled): string {
  return `${entry.kind} ${entry.namespace ? `${entry.namespace}/` : ''}${entry.name}: ${entry.reason}`;
}
