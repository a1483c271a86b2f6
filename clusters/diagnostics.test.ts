import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../test/helpers/twin-lab.js';
import { collectDiagnostics } from './diagnostics.js';

const labs: Lab[] = [];
afterEach(async () => {
  for (const lab of labs.splice(0)) await lab.close();
});

describe('diagnostics after a failed run', () => {
  it('writes events, pod states and log tails per namespace, and at most N proxy dumps', async () => {
    const lab = await Lab.start('istio');
    labs.push(lab);
    await lab.mesh('server');
    await lab.mesh('client');
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-diag-'));
    const dumped: string[] = [];

    const files = await collectDiagnostics({ kube: lab.lab.kube, namespaces: ['client', 'server'], controlPlaneNamespace: 'istio-system', dir, maxDumps: 2, proxyDump: async (ns, pod) => (dumped.push(`${ns}/${pod}`), '{"configs": []}') });

    expect(dumped).toHaveLength(2);
    expect((await readdir(dir)).sort()).toEqual(['.meshdrill-run', ...files].sort());
    expect(files).toEqual(expect.arrayContaining(['istio-system.events.txt', 'istio-system.pods.yaml', 'client.events.txt', 'server.pods.yaml']));
    expect(files.filter((f) => f.endsWith('.proxy.txt'))).toHaveLength(2);
  });
});
