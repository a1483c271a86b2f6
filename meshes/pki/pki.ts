import { webcrypto } from 'node:crypto';
import { loadX509, type X509 } from './x509.js';

// Certificates for the meshes' CAs: Istio's plugged-in `cacerts` (root → intermediate CA) and
// Linkerd's trust anchor → issuer. Linkerd requires ECDSA P-256 for both
// (linkerd.io/content/2-edge/tasks/generate-certificates.md); Istio accepts it too.

type KeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
  /** The chain from this certificate up to (and including) the root. */
  chainPem: string;
  rootPem: string;
  notAfter: Date;
  /** Stable id of the root this chains to (its SHA-256 thumbprint, hex). */
  rootId: string;
  keys: KeyPair;
  cert: X509.X509Certificate;
}

export interface CaOptions {
  commonName: string;
  lifetimeMs: number;
  now?: Date;
  pathLength?: number;
}

async function keyPair(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
}

async function pemKey(key: webcrypto.CryptoKey): Promise<string> {
  const x509 = await loadX509();
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function caExtensions(x509: typeof X509, pathLength?: number): X509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
  ];
}

/** A self-signed root CA (Istio root / Linkerd trust anchor). */
export async function createRootCa(options: CaOptions): Promise<CertificateAuthority> {
  const x509 = await loadX509();
  const keys = await keyPair();
  const notBefore = options.now ?? new Date();
  const notAfter = new Date(notBefore.getTime() + options.lifetimeMs);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${options.commonName}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [...caExtensions(x509, options.pathLength), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  const certPem = cert.toString('pem');
  const rootId = Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex');
  return { certPem, keyPem: await pemKey(keys.privateKey), chainPem: certPem, rootPem: certPem, notAfter, rootId, keys, cert };
}

/** An intermediate CA signed by `parent` (Istio's per-cluster CA in cacerts / Linkerd's issuer). */
export async function createIntermediateCa(parent: CertificateAuthority, options: CaOptions): Promise<CertificateAuthority> {
  const x509 = await loadX509();
  const keys = await keyPair();
  const notBefore = options.now ?? new Date();
  const notAfter = new Date(Math.min(notBefore.getTime() + options.lifetimeMs, parent.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${options.commonName}`,
    issuer: parent.cert.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: parent.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [...caExtensions(x509, options.pathLength ?? 0), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey), await x509.AuthorityKeyIdentifierExtension.create(parent.cert)],
  });
  const certPem = cert.toString('pem');
  return { certPem, keyPem: await pemKey(keys.privateKey), chainPem: `${certPem}${parent.chainPem}`, rootPem: parent.rootPem, notAfter, rootId: parent.rootId, keys, cert };
}

/** Whether `child` was signed by `parent`'s key. */
export async function verifySignedBy(childPem: string, parent: CertificateAuthority): Promise<boolean> {
  const x509 = await loadX509();
  const child = new x509.X509Certificate(childPem);
  return child.verify({ publicKey: parent.keys.publicKey, signatureOnly: true });
}

/** The SHA-256 thumbprint (hex) of the first certificate in a PEM bundle; identifies a root. */
export async function thumbprint(pem: string): Promise<string> {
  const x509 = await loadX509();
  const cert = new x509.X509Certificate(pem);
  return Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex');
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
}
