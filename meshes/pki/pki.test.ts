import { describe, expect, it } from 'vitest';
import { istioCacerts, linkerdIdentity, verifySignedBy } from './index.js';
import { loadX509 } from './x509.js';

const x509 = await loadX509();

describe('meshes/pki', () => {
  it('makes Istio cacerts whose intermediate chains to the root, with all four files', async () => {
    const { root, files } = await istioCacerts({ cluster: 'east' });

    expect(Object.keys(files).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
    expect(await verifySignedBy(files['ca-cert.pem'], root)).toBe(true);
    expect(files['cert-chain.pem']).toBe(`${files['ca-cert.pem']}${files['root-cert.pem']}`);
    expect(new x509.X509Certificate(files['ca-cert.pem']).subject).toBe('CN=Intermediate CA east');
  });

  it('shares one root across clusters for multicluster trust', async () => {
    const east = await istioCacerts({ cluster: 'east' });
    const west = await istioCacerts({ cluster: 'west', root: east.root });

    expect(west.files['root-cert.pem']).toBe(east.files['root-cert.pem']);
    expect(west.files['ca-cert.pem']).not.toBe(east.files['ca-cert.pem']);
  });

  it('makes a Linkerd trust anchor and issuer in ECDSA P-256 with the expected names and lifetimes', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const { anchor, issuer } = await linkerdIdentity({ now, issuerLifetimeMs: 48 * 3_600_000 });

    const cert = new x509.X509Certificate(issuer.certPem);
    expect(cert.subject).toBe('CN=identity.linkerd.cluster.local');
    expect(new x509.X509Certificate(anchor.certPem).subject).toBe('CN=root.linkerd.cluster.local');
    expect((cert.publicKey.algorithm as { namedCurve?: string }).namedCurve).toBe('P-256');
    expect(cert.notAfter.toISOString()).toBe('2026-01-03T00:00:00.000Z');
    expect(await verifySignedBy(issuer.certPem, anchor)).toBe(true);
    expect(issuer.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});
