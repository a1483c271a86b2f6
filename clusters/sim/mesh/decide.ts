import type { MeshKind } from './control-plane.js';
import { effectiveMtls, istioAuthorized, linkerdAuthorized } from './policy.js';
import type { Proxy } from './twin.js';

/** The workload port of the topology's services; Linkerd Servers select it. */
export const WORKLOAD_PORT = 8080;

/** One side of a request: a pod with or without a proxy. */
export interface Party {
  namespace: string;
  workload: string;
  labels: Record<string, string>;
  serviceAccount: string;
  proxy?: Proxy;
}

export type Result =
  | 'ok'
  /** Plaintext into STRICT: the connection is reset before it is an HTTP request. */
  | 'reset'
  /** mTLS handshake failed: expired certificate or a root the peer does not trust. */
  | 'tls-failure'
  /** Authorization denied the request: Istio RBAC or Linkerd policy, HTTP 403. */
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
}

function certValid(proxy: Proxy | undefined, now: number): boolean {
  return proxy?.cert !== undefined && proxy.cert.expiresAt > now;
}

function trusts(a: Proxy, b: Proxy): boolean {
  return b.cert !== undefined && a.trust.has(b.cert.root);
}

function principal(party: Party): string {
  return `cluster.local/ns/${party.namespace}/sa/${party.serviceAccount}`;
}

/**
 * What happens to one request from `client` to `server`, given what each proxy knows now.
 * Istio sidecars use auto-mTLS towards servers that have a proxy; a plaintext connection into a
 * STRICT sidecar is reset before any HTTP exchange (mtls-migration snips: curl 000, exit 56),
 * so only the client can see it. Linkerd meshes automatically and denies by policy with 403.
 */
export function decide(mesh: MeshKind, client: Party, server: Party, now: number): Decision {
  const c = client.proxy;
  const s = server.proxy;
  if (s && !s.started) return { result: 'connect-failure', mtls: false, reachedServer: false, code: c ? 503 : 0 };
  const clientMeshed = c !== undefined && (c.kind === 'ambient' || c.snapshot !== undefined);
  const mtls = clientMeshed && s !== undefined;
  if (mtls && (!certValid(c, now) || !certValid(s, now) || !trusts(c!, s!) || !trusts(s!, c!))) {
    // Envoy: "upstream connect error or disconnect/reset before headers ... TLS error" → 503 UF.
    return { result: 'tls-failure', mtls: true, reachedServer: false, code: c!.kind === 'linkerd' ? 502 : 503 };
  }
  if (!s) return { result: 'ok', mtls: false, reachedServer: false, code: 200 };
  if (mesh === 'istio') {
    // The server enforces the PeerAuthentication it last received — if it is a sidecar. An ingress
    // gateway is an Envoy deployment with no sidecar: "PeerAuthentication determines whether or not
    // mTLS is allowed or required for connections to an Envoy proxy sidecar" (istio.io, reference/
    // config/security/peer_authentication); the gateway takes what its listeners take, from outside.
    const mode = s.gateway ? 'PERMISSIVE' : effectiveMtls(s.snapshot, server.namespace, server.labels);
    if (!mtls && mode === 'STRICT') return { result: 'reset', mtls: false, reachedServer: false, code: c ? 503 : 0 };
    // Ambient without a waypoint enforces L4 only; AuthorizationPolicy with L7 rules needs a waypoint.
    const peer = mtls ? { namespace: client.namespace, principal: principal(client) } : {};
    if (!istioAuthorized(s.snapshot, server.namespace, server.labels, peer)) {
      return s.kind === 'ambient' ? { result: 'reset', mtls, reachedServer: false, code: c ? 503 : 0 } : { result: 'denied', mtls, reachedServer: true, code: 403 };
    }
    return { result: 'ok', mtls, reachedServer: true, code: 200 };
  }
  if (!linkerdAuthorized(s.snapshot, server.namespace, server.labels, WORKLOAD_PORT, s.inboundPolicy, mtls)) {
    return { result: 'denied', mtls, reachedServer: true, code: 403 };
  }
  return { result: 'ok', mtls, reachedServer: true, code: 200 };
}
