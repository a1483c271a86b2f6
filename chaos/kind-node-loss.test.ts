import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Journal } from './index.js';
import { runCli, captureIO } from '../test/helpers/cli.js';
import { fakeTools } from '../test/helpers/fake-tools.js';
import { clusterIdentity, createKubeClient, startSimCluster, kindNodeControl, type SimCluster } from '../clusters/index.js';

const sims: SimCluster[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const s of sims.splice(0)) await s.close();
});

describe('kind nodes (fake docker; the embedded cluster stands in for the nodes)', () => {
  it('offers the workers only, and refuses a node that is not one', async () => {
    const sim = await startSimCluster({ time: 'virtual', nodes: 2 });
    sims.push(sim);

    const nodes = await kindNodeControl(createKubeClient(sim.kubeconfig), { run: async () => ({ code: 0, stdout: '', stderr: '' }) });

    expect(nodes.nodes()).toEqual(['sim-worker', 'sim-worker2']);
    await expect(nodes.setReady('sim-control-plane', false)).rejects.toThrow('sim-control-plane is not a worker of this kind cluster (workers: sim-worker, sim-worker2)');
  });

  it('cleanup after a killed run starts the node containers it had stopped, on a cluster whose context is kind-<name>', async () => {
    const sim = await startSimCluster({ time: 'virtual', nodes: 2 });
    sims.push(sim);
    const tools = await fakeTools({ docker: { start: {} } });
    vi.stubEnv('PATH', tools.path);
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-kind-cleanup-'));
    // The kubeconfig as kind writes it: its context is kind-<cluster name>.
    const config = parse(sim.kubeconfig) as { contexts: Array<{ name: string }>; 'current-context': string };
    config.contexts[0]!.name = 'kind-meshdrill-kept';
    config['current-context'] = 'kind-meshdrill-kept';
    await writeFile(join(dir, 'kubeconfig'), stringify(config));
    // A run killed during node loss left this in its journal.
    const journal = await Journal.open(join(dir, 'journal'), 'gameday-killed');
    await journal.bind({ runId: 'gameday-killed', cluster: await clusterIdentity(createKubeClient(sim.kubeconfig), stringify(config)), kubeconfigPath: join(dir, 'kubeconfig'), host: 'test', pid: 0, startedAt: '', what: 'game day killed' });
    await journal.record('node-loss', 'sim-worker2 lost', { type: 'node-ready', node: 'sim-worker2', ready: true });
    await journal.close();
    const io = captureIO(dir);

    const code = await runCli(['cleanup', '--journal-dir', 'journal', '--kubeconfig', 'kubeconfig'], io);

    expect(code).toBe(0);
    expect(await tools.calls('docker')).toEqual([['start', 'sim-worker2']]);
    expect(io.out.join('')).toMatch(/^gameday-killed: 1 undo replayed\n/);
  });
});
