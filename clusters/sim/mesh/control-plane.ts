import { X509Certificate } from 'node:crypto';
import type { ApiService } from '../api/service.js';
import type { KubeObject } from '../api/types.js';
import { isPodReady } from '../controllers/context.js';
import { networkAllows, type Endpoint } from '../network.js';

export type MeshKind = 'istio' | 'linkerd';
export type Role = 'ca' | 'config' | 'injector';

type Obj = Record<string, unknown>;

const DAY = 24 * 3_600_000;

/** Where each mesh's control plane runs and listens (../shared/reference/mesh-facts.md §1.7, §2.1). */
const COMPONENTS: Record<MeshKind, { namespace: string; roles: Record<Role, { labels: Record<string, string>; port: number }> }> = {
  // istiod: xDS and CA share 15012 — cutting one cuts both; the webhook listens on 15017.
  istio: {
    namespace: 'istio-system',
    roles: {
      ca: { labels: { app: 'istiod' }, port: 15012 },
      config: { labels: { app: 'istiod' }, port: 15012 },
      injector: { labels: { app: 'istiod' }, port: 15017 },
    },
  },
  // Linkerd: identity 8080, destination 8086 (policy 8090 on the same pods), injector 8443.
  linkerd: {
    namespace: 'linkerd',
    roles: {
      ca: { labels: { 'linkerd.io/control-plane-component': 'identity' }, port: 8080 },
      config: { labels: { 'linkerd.io/control-plane-component': 'destination' }, port: 8086 },
      injector: { labels: { 'linkerd.io/control-plane-component': 'proxy-injector' }, port: 8443 },
    },
  },
};

export function controlPlaneNamespace(mesh: MeshKind): string {
  return COMPONENTS[mesh].namespace;
}

/** Which mesh is installed: its control-plane Deployment exists. */
export function detectMesh(api: ApiService, types: { deployments: Parameters<ApiService['list']>[0] }): MeshKind | undefined {
  if (api.find(types.deployments, 'istio-system', 'istiod')) return 'istio';
  if (api.find(types.deployments, 'linkerd', 'linkerd-identity')) return 'linkerd';
  return undefined;
}

/** Parses a Go duration ("24h0m0s", "1h", "90m") into ms. */
export function parseGoDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  // Longest units first: "15ms" is fifteen milliseconds, not fifteen minutes and an "s".
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g)];
  if (parts.length === 0) return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  return parts.reduce((total, [, n, u]) => total + Number(n) * (unit[u ?? 's'] ?? 0), 0);
}

/**
 * Workload certificate lifetime. Istio: SECRET_TTL in the mesh config's proxyMetadata (what
 * pilot-agent requests; 24 h default, capped at MAX_WORKLOAD_CERT_TTL = 90 d). Linkerd:
 * identity.issuer.issuanceLifetime (24 h default).
 */
export function certLifetime(mesh: MeshKind, configMap: KubeObject | undefined): number {
  const data = (configMap?.['data'] as Record<string, string> | undefined) ?? {};
  const text = mesh === 'istio' ? /SECRET_TTL:\s*(\S+)/.exec(data['mesh'] ?? '')?.[1] : /issuanceLifetime:\s*(\S+)/.exec(data['values'] ?? '')?.[1];
  const value = parseGoDuration(text) ?? DAY;
  return mesh === 'istio' ? Math.min(value, 90 * DAY) : value;
}

const fingerprints = new Map<string, string>();

/** The fingerprint of the first certificate of a PEM bundle, or a digest of placeholder text. Cached: parsing is costly. */
/** A certificate's notAfter (ms), when the PEM is a real certificate. */
function notAfter(pem: string | undefined): number | undefined {
  if (!pem) return undefined;
  try {
    return Date.parse(new X509Certificate(pem).validTo);
  } catch {
    return undefined;
  }
}

export function rootId(pem: string | undefined): string | undefined {
  if (!pem) return undefined;
  let id = fingerprints.get(pem);
  if (id === undefined) {
    try {
      id = new X509Certificate(pem).fingerprint256;
    } catch {
      id = `text:${pem.length}:${pem.slice(-24)}`;
    }
    if (fingerprints.size > 1000) fingerprints.clear();
    fingerprints.set(pem, id);
  }
  return id;
}

function decode(secret: KubeObject | undefined, key: string): string | undefined {
  const value = (secret?.['data'] as Record<string, string> | undefined)?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

export const CACERTS_FILES = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'];

/**
 * The root istiod signs with, read as istiod reads it at start (istio_ca.go createIstioCA):
 * a complete `cacerts` wins; an incomplete one stops istiod ("incomplete signing CA bundle");
 * otherwise `istio-ca-secret` (self-signed), which istiod creates when missing.
 */
export function istioSigningRoot(cacerts: KubeObject | undefined, caSecret: KubeObject | undefined): { root?: string; broken?: string; needsSelfSigned?: boolean; rootNotAfter?: number } {
  if (cacerts) {
    const present = CACERTS_FILES.filter((f) => decode(cacerts, f) !== undefined);
    if (present.length !== CACERTS_FILES.length) return { broken: 'failed to create an istiod CA: incomplete signing CA bundle detected' };
    const pem = decode(cacerts, 'root-cert.pem');
    return { root: rootId(pem), ...(notAfter(pem) !== undefined ? { rootNotAfter: notAfter(pem)! } : {}) };
  }
  const selfSigned = decode(caSecret, 'ca-cert.pem');
  return selfSigned ? { root: rootId(selfSigned) } : { needsSelfSigned: true };
}

/** Linkerd's trust anchor (linkerd-identity-trust-roots) and the anchor the issuer chains to. */
export function linkerdRoots(trustRoots: KubeObject | undefined, issuerSecret: KubeObject | undefined): { anchor?: string; issuerRoot?: string; issuerNotAfter?: number; anchorNotAfter?: number } {
  const anchorPem = (trustRoots?.['data'] as Record<string, string> | undefined)?.['ca-bundle.crt'];
  const issuerPem = decode(issuerSecret, 'crt.pem');
  const anchor = rootId(anchorPem);
  if (!anchorPem || !issuerPem) return { anchor };
  try {
    const anchorCert = new X509Certificate(anchorPem);
    const issuer = new X509Certificate(issuerPem);
    // The identity controller keeps only an issuer that verifies against the trust anchors
    // (pkg/identity/service.go: IssuerUpdateSkipped otherwise).
    const valid = issuer.checkIssued(anchorCert) && issuer.verify(anchorCert.publicKey);
    return { anchor, issuerRoot: valid ? anchor : undefined, ...(valid ? { issuerNotAfter: Date.parse(issuer.validTo), anchorNotAfter: Date.parse(anchorCert.validTo) } : {}) };
  } catch {
    return { anchor, issuerRoot: undefined };
  }
}

/** Reachability of control-plane roles from a data-plane namespace: a Ready pod and an open network path. */
export class Reachability {
  constructor(
    private readonly api: ApiService,
    private readonly mesh: MeshKind,
    private readonly kinds: { pods: Parameters<ApiService['list']>[0]; namespaces: Parameters<ApiService['list']>[0]; networkPolicies: Parameters<ApiService['list']>[0] },
  ) {}

  reachable(role: Role, from: { namespace: string; labels: Record<string, string> }): boolean {
    const { namespace, roles } = COMPONENTS[this.mesh];
    const { labels, port } = roles[role];
    const targets = this.api.list(this.kinds.pods, namespace).filter((p) => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v) && isPodReady(p));
    if (targets.length === 0) return false;
    const policies = this.api.list(this.kinds.networkPolicies);
    if (policies.length === 0) return true;
    const source: Endpoint = { namespace: from.namespace, labels: from.labels, namespaceLabels: this.namespaceLabels(from.namespace) };
    return targets.some((t) => networkAllows(policies, source, { namespace, labels: t.metadata.labels ?? {}, namespaceLabels: this.namespaceLabels(namespace) }, port));
  }

  private namespaceLabels(name: string): Record<string, string> {
    return this.api.find(this.kinds.namespaces, undefined, name)?.metadata.labels ?? {};
  }
}

export function podLabels(pod: KubeObject): Record<string, string> {
  return pod.metadata.labels ?? {};
}

export function podSpec(pod: KubeObject): Obj {
  return (pod.spec ?? {}) as Obj;
}
