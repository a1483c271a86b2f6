import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { documentsOfKind, loadConfig } from '../test/helpers/cli.js';
import { kindCluster, runGameDay, GameDay } from './index.js';
import { fakeTools, kindOnEmbedded } from '../test/helpers/fake-tools.js';
import { exec, createKubeClient, startSimCluster, type SimCluster } from '../clusters/index.js';

const SHOP = join(import.meta.dirname, '..', 'examples', 'shop');
const sims: SimCluster[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
});

// The kind code path end to end without Docker: a fake kind whose "cluster" is the embedded
// cluster (its kubeconfig is what `kind create cluster` writes), a fake helm, real everything else.
describe('a game day on a kind cluster (fake kind and helm; the embedded cluster stands in for the nodes)', () => {
  it('creates the cluster, installs Istio with Helm, deploys, injects and reverts, then exports logs and deletes', async () => {
    const sim = await startSimCluster({ time: 'real', podStartDelayMs: 5 });
    sims.push(sim);
    const tools = await fakeTools({ ...kindOnEmbedded(sim.kubeconfig, { clusterName: 'meshdrill-kind-run' }), docker: { stop: {}, start: {} } });
    const env = { ...process.env, PATH: tools.path };
    const repo = await loadConfig(SHOP, { cwd: SHOP });
    const runDir = await mkdtemp(join(tmpdir(), 'meshdrill-kind-gameday-'));
    const gameDay = GameDay.parse({ apiVersion: 'meshdrill.dev/v1alpha1', kind: 'GameDay', metadata: { name: 'kind' }, spec: { plan: 'shop-migration', steps: [{ provision: {} }, { install: { certLifetime: '1h' } }, { deploy: {} }, { fault: { type: 'control-plane-partition', namespaces: ['frontend'], duration: '1m' } }, { fault: { type: 'node-loss', nodes: 1, duration: '1m' } }] } });
    let slept = 0;
    const said: string[] = [];

    const record = await runGameDay(
      { gameDay, plan: documentsOfKind(repo, 'RolloutPlan')[0]!.data, topology: documentsOfKind(repo, 'Topology')[0]!.data, slos: [], faults: new Map(), runId: 'kind-run', journalDir: join(runDir, 'journal') },
      {
        provision: () =>
          kindCluster({
            kind: { runDir, leaseDir: join(runDir, 'leases'), runId: 'kind-run', keep: false, reuse: false, fingerprint: 'f', workers: 2, logger: { info: (_m: unknown, msg: string) => void said.push(msg), warn: () => undefined }, run: (args, o) => exec('kind', args, { ...o, env }) },
            meshVersion: '1.27.1',
            // Real time passes on real clusters; here the waits are counted, not slept.
            sleep: async (ms) => {
              slept += ms;
            },
            installRun: (binary, args, o) => exec(binary, args, { ...(o ?? {}), env }),
            docker: (binary, args) => exec(binary, args, { env }),
            env,
          }),
        now: () => Date.now(),
        logger: { info: () => undefined, warn: () => undefined },
      },
    );

    expect(record.outcome).toEqual({ verdict: 'pass', reasons: expect.any(Array) });
    expect(record.cluster.provider).toBe('kind (meshdrill-kind-run)');
    expect((await tools.calls('kind')).map((c) => c.slice(0, 2).join(' '))).toEqual(['version', 'get clusters', 'create cluster', 'export logs', 'delete cluster']);
    expect((await tools.calls('helm')).map((c) => c.slice(0, 3).join(' '))).toEqual(['version --short', 'repo add istio', 'upgrade --install istio-base', 'upgrade --install istiod']);
    const kube = createKubeClient(sim.kubeconfig);
    expect(await kube.get('v1', 'Secret', 'istio-system', 'cacerts')).toBeDefined();
    expect(await kube.get('apps/v1', 'Deployment', 'payments', 'api')).toBeDefined();
    expect(record.faults![0]).toMatchObject({ leftovers: [] });
    expect(await kube.get('networking.k8s.io/v1', 'NetworkPolicy', 'frontend', 'meshdrill-control-plane-partition')).toBeUndefined();
    expect(slept).toBeGreaterThanOrEqual(5_000 + 10_000 + 60_000 + 60_000); // after install, after deploy, each fault's minute
    // Node loss on kind: one worker's container stopped, then started again.
    const docker = await tools.calls('docker');
    expect(docker.map((c) => c[0])).toEqual(['stop', 'start']);
    expect(docker[0]![1]).toBe(docker[1]![1]);
    expect(docker[0]![1]).not.toMatch(/control-plane/);
    expect(await kube.get('apps/v1', 'Deployment', 'meshdrill-monitoring', 'prometheus')).toBeDefined();
    // Traffic came from k6 in the cluster, outside the mesh, and went away with the run.
    expect(said).toContain('traffic: k6 in meshdrill-load at 400 rps into ingress/gateway, 20 rps into legacy/batch, 5 rps into legacy/reporting');
    expect(await kube.get('batch/v1', 'Job', 'meshdrill-load', 'meshdrill-load-traffic')).toBeUndefined();
    expect(await tools.calls('kubectl')).toEqual([['port-forward', '-n', 'meshdrill-monitoring', 'svc/prometheus', ':9090', '--address', '127.0.0.1']]);
  });
});
