import { istioAuthorize, type AuthzOutcome, type AuthzPeer } from './authz-istio.js';
import { linkerdAuthorize, type LinkerdAuthzOutcome } from './authz-linkerd.js';
import type { MeshKind } from './control-plane.js';
import { istioPrincipal } from './identity.js';
import { effectiveMtls, type ConfigSnapshot } from './policy.js';
import type { RequestAttributes } from './request.js';
import type { ClientTlsMode } from './destination-rule.js';
import type { Proxy } from './twin.js';

/** The workload port of the topology's services unless they name others; Linkerd Servers select it. */
export const WORKLOAD_PORT = 8080;

/** Where outside traffic comes from: TEST-NET-3 (RFC 5737), outside every cluster network. */
export const OUTSIDE_IP = '203.0.113.10';

/** One side of a request: a pod with or without a proxy. */
export interface Party {
  namespace: string;
  workload: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** The pod's IP (OUTSIDE_IP for traffic from outside the cluster). */
  ip: string;
  /** The pod's container ports (Linkerd Servers select by name). */
  ports?: Array<{ name?: string; containerPort: number }>;
  proxy?: Proxy;
  /** The pod's own failure rate when it has one (a degraded replica), 0–1. */
  errorRate?: number;
}

export type Result =
  | 'ok'
  /** Plaintext into STRICT: the connection is reset before it is an HTTP request. */
  | 'reset'
  /** mTLS handshake failed: expired certificate or a root the peer does not trust. */
  | 'tls-failure'
  /** Authorization denied the request: Istio RBAC or Linkerd policy, HTTP 403 (404 for no route). */
  | 'denied'
  /** The endpoint is gone (stale endpoints) or the pod is not running. */
  | 'connect-failure';

export interface Decision {
  result: Result;
  /** Transport to the server: mutual TLS or plaintext. */
  mtls: boolean;
  /** The request reached the server's proxy as an HTTP request (it appears in its metrics). */
  reachedServer: boolean;
  /** HTTP status the client's proxy reports; 0 when there is no status (reset without a proxy). */
  code: number;
  /** The policy that decided, when one did ("namespace/name (ACTION, rule n)"). */
  decidedBy?: string;
  /** What the deciding policies hold that the twin does not model. */
  notModelled?: string[];
  /** The request went as plain TCP: the proxies report connections, not requests. */
  opaque?: boolean;
  /**
   * A failed mTLS handshake: which side refused the other's certificate. The server's listener
   * counts it as fail_verify_error when it refused, connection_error when the client did.
   */
  refusedBy?: 'client' | 'server';
}

/**
 * A chain a peer accepts: the leaf within its lifetime, and the root it ends in too (an expired
 * Linkerd trust anchor fails every handshake: linkerd2#3676, "the injected curl pod failed to reach
 * the injected web-svc with a 503").
 */
function certValid(proxy: Proxy | undefined, now: number): boolean {
  return proxy?.cert !== undefined && proxy.cert.expiresAt > now && (proxy.cert.rootExpiresAt ?? Number.POSITIVE_INFINITY) > now;
}

function trusts(a: Proxy, b: Proxy): boolean {
  return b.cert !== undefined && a.trust.has(b.cert.root);
}

// Policy answers do not change while a proxy holds one snapshot: remembered per snapshot, server
// proxy, client (address and transport) and request class.
type Memo<T> = WeakMap<ConfigSnapshot, WeakMap<Proxy, Map<string, Map<string, T>>>>;
const ISTIO_AUTHZ: Memo<AuthzOutcome> = new WeakMap();
const LINKERD_AUTHZ: Memo<LinkerdAuthzOutcome> = new WeakMap();

function memo<T>(cache: Memo<T>, snapshot: ConfigSnapshot, server: Proxy, client: string, requestId: string, compute: () => T): T {
  let byServer = cache.get(snapshot);
  if (!byServer) cache.set(snapshot, (byServer = new WeakMap()));
  let byClient = byServer.get(server);
  if (!byClient) byServer.set(server, (byClient = new Map()));
  let byRequest = byClient.get(client);
  if (!byRequest) byClient.set(client, (byRequest = new Map()));
  let value = byRequest.get(requestId);
  if (value === undefined) {
    value = compute();
    byRequest.set(requestId, value);
  }
  return value;
}

const EMPTY_SNAPSHOT_KEY = {} as ConfigSnapshot;

/** Who the client is to a policy: its address, and over mTLS its namespace and account. */
function clientKey(client: Party, mtls: boolean): string {
  return mtls ? `${client.ip} ${client.namespace}/${client.serviceAccount}` : client.ip;
}

/**
 * What happens to one request from `client` to `server`, given what each proxy knows now.
 *
 * Transport. Istio sidecars use auto-mTLS: mTLS towards endpoints with a sidecar unless the
 * server's PeerAuthentication for that port is DISABLE, which istiod tells the clients
 * (pilot/pkg/xds/endpoints mtls_checker: a DISABLE endpoint is sent as plaintext). ztunnel always
 * speaks mTLS (HBONE), and ignores DISABLE. Linkerd meshes every connection between proxies.
 * A plaintext connection into a STRICT sidecar is reset before any HTTP exchange
 * (mtls-migration snips: curl 000, exit 56), so only the client sees it.
 *
 * Authorization follows the server's policies for this request class (authz-istio.ts,
 * authz-linkerd.ts): Istio RBAC denies with 403 (ztunnel resets the connection), Linkerd with 403
 * or 404 for a request no HTTPRoute of the Server matches.
 */
export function decide(mesh: MeshKind, client: Party, server: Party, now: number, request: RequestAttributes, requestId = `${request.port}:${request.method} ${request.path}`, clientTls?: ClientTlsMode): Decision {
  const c = client.proxy;
  const s = server.proxy;
  if (s && !s.started) return { result: 'connect-failure', mtls: false, reachedServer: false, code: c ? 503 : 0 };
  const clientMeshed = c !== undefined && (c.kind === 'ambient' || c.snapshot !== undefined);
  const sidecarServer = s !== undefined && s.kind === 'istio' && !s.gateway;
  // A DestinationRule's tls.mode replaces auto mTLS for its host (pilot cluster_tls.go): SIMPLE and
  // MUTUAL originate TLS the topology's plaintext apps do not speak, ISTIO_MUTUAL needs a sidecar
  // that takes Istio mTLS — both fail the handshake (503 UF); DISABLE sends plaintext, which a
  // STRICT server resets (istio.io ops/common-problems/network-issues, "503 errors after setting
  // destination rule").
  if (c?.kind === 'istio' && clientTls && clientTls !== 'DISABLE') {
    const takesIstioMtls = clientTls === 'ISTIO_MUTUAL' && sidecarServer && effectiveMtls(s!.snapshot, server.namespace, server.labels, request.port) !== 'DISABLE';
    if (!takesIstioMtls) return { result: 'tls-failure', mtls: clientTls === 'ISTIO_MUTUAL', reachedServer: false, code: 503, decidedBy: `DestinationRule tls.mode ${clientTls}` };
  }
  // ztunnel enforces STRICT too, and ignores DISABLE (it always speaks HBONE).
  const mode = mesh === 'istio' && (sidecarServer || s?.kind === 'ambient') ? effectiveMtls(s!.snapshot, server.namespace, server.labels, request.port) : undefined;
  // The client decides from what its own snapshot says of the server's mode (DISABLE → plaintext).
  const clientSeesDisable = c?.kind === 'istio' && sidecarServer && effectiveMtls(c.snapshot, server.namespace, server.labels, request.port) === 'DISABLE';
  const mtls = clientMeshed && s !== undefined && !(c!.kind === 'istio' && (clientSeesDisable || clientTls === 'DISABLE'));
  if (mtls && (!certValid(c, now) || !certValid(s, now) || !trusts(c!, s!) || !trusts(s!, c!))) {
    // Envoy: "upstream connect error or disconnect/reset before headers ... TLS error" → 503 UF.
    const serverRefused = !certValid(c, now) || !trusts(s!, c!);
    return { result: 'tls-failure', mtls: true, reachedServer: false, code: c!.kind === 'linkerd' ? 502 : 503, refusedBy: serverRefused ? 'server' : 'client' };
  }
  if (!s) return { result: 'ok', mtls: false, reachedServer: false, code: 200 };
  if (mesh === 'istio') {
    // A gateway is an Envoy deployment with no sidecar: "PeerAuthentication determines whether or
    // not mTLS is allowed or required for connections to an Envoy proxy sidecar" (istio.io,
    // reference/config/security/peer_authentication); it takes what its listeners take.
    if (!mtls && mode === 'STRICT') return { result: 'reset', mtls: false, reachedServer: false, code: c ? 503 : 0 };
    const trust = s.snapshot?.trustDomain ?? { domain: 'cluster.local', aliases: [] };
    let peer: AuthzPeer = mtls ? { mtls, namespace: client.namespace, principal: istioPrincipal(trust, client.namespace, client.serviceAccount), ip: client.ip } : { mtls, ip: client.ip };
    const ztunnel = s.kind === 'ambient';
    const waypoint = ztunnel ? s.snapshot?.waypoints.get(server.namespace) : undefined;
    if (waypoint) {
      // Through a waypoint: it answers L7 policy with a 403 (RBAC: access denied), and forwards
      // with its own identity, which is what the destination ztunnel's L4 policy then sees
      // (istio.io ambient/usage/waypoint; l4-policy: "the waypoint's identity").
      const [wpNs, wpName] = waypoint.split('/') as [string, string];
      const atWaypoint = memo(ISTIO_AUTHZ, s.snapshot ?? EMPTY_SNAPSHOT_KEY, s, clientKey(client, mtls), `${requestId}|waypoint`, () =>
        istioAuthorize(s.snapshot?.authorizationPolicies ?? [], { namespace: wpNs, labels: server.labels, ip: server.ip, ztunnel: false, waypoint, at: 'waypoint' }, peer, request, trust),
      );
      if (!atWaypoint.allowed) return { result: 'denied', mtls, reachedServer: false, code: 403, ...(atWaypoint.decidedBy ? { decidedBy: atWaypoint.decidedBy } : {}), ...(atWaypoint.notModelled.length ? { notModelled: atWaypoint.notModelled } : {}) };
      peer = { mtls: true, namespace: wpNs, principal: istioPrincipal(trust, wpNs, wpName), ip: client.ip };
    }
    const outcome = memo(ISTIO_AUTHZ, s.snapshot ?? EMPTY_SNAPSHOT_KEY, s, clientKey(client, mtls), requestId, () =>
      istioAuthorize(s.snapshot?.authorizationPolicies ?? [], { namespace: server.namespace, labels: server.labels, ip: server.ip, ztunnel, ...(waypoint ? { waypoint, at: 'workload' as const } : {}) }, peer, request, trust),
    );
    const extra = { ...(outcome.decidedBy ? { decidedBy: outcome.decidedBy } : {}), ...(outcome.notModelled.length ? { notModelled: outcome.notModelled } : {}) };
    if (!outcome.allowed) {
      return ztunnel ? { result: 'reset', mtls, reachedServer: false, code: c ? 503 : 0, ...extra } : { result: 'denied', mtls, reachedServer: true, code: 403, ...extra };
    }
    return { result: 'ok', mtls, reachedServer: true, code: 200, ...extra };
  }
  const snapshot = s.snapshot;
  const outcome = memo(LINKERD_AUTHZ, snapshot ?? EMPTY_SNAPSHOT_KEY, s, clientKey(client, mtls), requestId, () =>
    linkerdAuthorize(
      {
        servers: snapshot?.servers ?? [],
        authorizationPolicies: snapshot?.linkerdAuthorizations ?? [],
        meshTlsAuthentications: snapshot?.meshTlsAuthentications ?? [],
        networkAuthentications: snapshot?.networkAuthentications ?? [],
        serverAuthorizations: snapshot?.serverAuthorizations ?? [],
        httpRoutes: snapshot?.httpRoutes ?? [],
      },
      { namespace: server.namespace, labels: server.labels, ports: server.ports ?? [{ containerPort: request.port, name: request.portName }], defaultPolicy: s.inboundPolicy },
      { mtls, ...(mtls ? { namespace: client.namespace, serviceAccount: client.serviceAccount } : {}), ip: client.ip },
      request,
    ),
  );
  const extra = { decidedBy: outcome.decidedBy, ...(outcome.notModelled.length ? { notModelled: outcome.notModelled } : {}) };
  if (!outcome.allowed) return { result: 'denied', mtls, reachedServer: true, code: outcome.code ?? 403, ...extra };
  return { result: 'ok', mtls, reachedServer: true, code: 200, ...extra };
}
