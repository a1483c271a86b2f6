import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient } from '../kube/index.js';
import { startSimCluster, type SimCluster } from '../sim/index.js';
import { useExistingCluster } from './provider.js';

// KUBECONFIG lists files; kubectl merges them and, for a name defined twice, keeps the first file's
// entry (k8s.io/client-go/tools/clientcmd loader.go: "the first file to set a particular map key
// wins"). meshdrill must reach exactly the cluster kubectl reaches for the same context.
const run = promisify(execFile);
const sims: SimCluster[] = [];
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
});

async function write(dir: string, name: string, config: Record<string, unknown>): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, stringify({ apiVersion: 'v1', kind: 'Config', ...config }));
  return path;
}

describe('KUBECONFIG with several files', () => {
  it('merges them as kubectl does: a context from the second file, its cluster from the first, the first definition of a name wins', async () => {
    const sim = await startSimCluster({ time: 'virtual' });
    sims.push(sim);
    const real = parse(sim.kubeconfig) as { clusters: Array<{ cluster: Record<string, unknown> }>; users: Array<{ user: Record<string, unknown> }> };
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-kubeconfig-list-'));
    // a: the real cluster and user under the name "lab"; b: a context naming them, and a "lab" cluster that must lose.
    const a = await write(dir, 'a', { clusters: [{ name: 'lab', cluster: real.clusters[0]!.cluster }], users: [{ name: 'lab', user: real.users[0]!.user }] });
    const b = await write(dir, 'b', {
      'current-context': 'staging',
      clusters: [{ name: 'lab', cluster: { server: 'https://shadowed.invalid' } }],
      contexts: [{ name: 'staging', context: { cluster: 'lab', user: 'lab' } }],
    });
    const env = { KUBECONFIG: [a, join(dir, 'missing'), b].join(delimiter) };

    const cluster = await useExistingCluster({ context: 'staging', allowChaos: false, env });
    const viaClient = (await createKubeClient(cluster.kubeconfig).list('v1', 'Namespace')).map((n) => n.metadata.name);
    const viaKubectl = (await run('kubectl', ['--context', 'staging', 'get', 'namespaces', '-o', 'name'], { env: { ...process.env, ...env } })).stdout;
    const unknown = await useExistingCluster({ context: 'prod', allowChaos: false, env }).catch((e: Error) => e.message);

    expect(viaClient).toContain('kube-system');
    expect(viaKubectl).toContain('namespace/kube-system');
    expect(cluster.kubeconfig).toContain(String(real.clusters[0]!.cluster['server']));
    expect(cluster.kubeconfig).not.toContain('shadowed.invalid');
    expect(cluster.kubeconfigPath).toBe([a, join(dir, 'missing'), b].join(delimiter));
    expect(unknown).toContain('has no context "prod" (contexts: staging)');
  });

  it('--kubeconfig names one file, which must exist, and KUBECONFIG is then ignored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-kubeconfig-one-'));
    const b = await write(dir, 'b', { contexts: [{ name: 'staging', context: { cluster: 'lab', user: 'lab' } }], clusters: [{ name: 'lab', cluster: { server: 'https://lab.invalid' } }] });

    const named = await useExistingCluster({ path: b, context: 'staging', allowChaos: false, env: { KUBECONFIG: join(dir, 'other') } });
    const missing = await useExistingCluster({ path: join(dir, 'nope'), context: 'staging', allowChaos: false, env: {} }).catch((e: Error) => e.message);

    expect(named.kubeconfig).toContain('https://lab.invalid');
    expect(missing).toBe(`kubeconfig ${join(dir, 'nope')}: cannot read it (ENOENT)`);
  });
});
