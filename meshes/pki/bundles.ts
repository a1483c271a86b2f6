import { createIntermediateCa, createRootCa, type CertificateAuthority } from './pki.js';

const YEAR = 365 * 24 * 3_600_000;

/** Istio's plugged-in CA secret `cacerts` (istio-system): its four files, all required by istiod. */
export interface IstioCacerts {
  'ca-cert.pem': string;
  'ca-key.pem': string;
  'root-cert.pem': string;
  'cert-chain.pem': string;
}

/**
 * A root and a per-cluster intermediate, as Istio's `tools/certs/Makefile.selfsigned.mk` makes
 * them; the same root across clusters gives multicluster trust.
 */
export async function istioCacerts(options: { root?: CertificateAuthority; cluster?: string; now?: Date; intermediateLifetimeMs?: number } = {}): Promise<{ root: CertificateAuthority; files: IstioCacerts }> {
  const root = options.root ?? (await createRootCa({ commonName: 'Root CA', lifetimeMs: 10 * YEAR, ...(options.now ? { now: options.now } : {}) }));
  const ca = await createIntermediateCa(root, { commonName: `Intermediate CA ${options.cluster ?? 'cluster1'}`, lifetimeMs: options.intermediateLifetimeMs ?? 2 * YEAR, ...(options.now ? { now: options.now } : {}) });
  return { root, files: { 'ca-cert.pem': ca.certPem, 'ca-key.pem': ca.keyPem, 'root-cert.pem': root.rootPem, 'cert-chain.pem': ca.chainPem } };
}

/** Linkerd's trust anchor and issuer: CN identity.linkerd.<trust domain>, ECDSA P-256 (generate-certificates.md). */
export async function linkerdIdentity(options: { trustDomain?: string; now?: Date; issuerLifetimeMs?: number; anchorLifetimeMs?: number } = {}): Promise<{ anchor: CertificateAuthority; issuer: CertificateAuthority }> {
  const domain = options.trustDomain ?? 'cluster.local';
  const anchor = await createRootCa({ commonName: `root.linkerd.${domain}`, lifetimeMs: options.anchorLifetimeMs ?? YEAR, pathLength: 1, ...(options.now ? { now: options.now } : {}) });
  const issuer = await createIntermediateCa(anchor, { commonName: `identity.linkerd.${domain}`, lifetimeMs: options.issuerLifetimeMs ?? YEAR, ...(options.now ? { now: options.now } : {}) });
  return { anchor, issuer };
}
