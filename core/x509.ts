// @peculiar/x509 resolves its providers through tsyringe, which needs the Reflect metadata API
// loaded first; every use of x509 in meshdrill goes through this module. It is loaded on first
// use, so commands that make no certificates (validate, --help) do not pay for it.
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

export type { X509 };

let loading: Promise<typeof X509> | undefined;

export function loadX509(): Promise<typeof X509> {
  loading ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return loading;
}
