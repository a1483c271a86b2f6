import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli, captureIO } from '../../test/helpers/cli.js';
import { exampleRepoOn } from '../../test/helpers/e2e-gameday.js';
import { createKubeClient } from '../kube/index.js';
import { startSimCluster, type SimCluster } from '../sim/index.js';
import { k3sImage, loadTestcontainersK3s, provisionK3s, type StartedK3s } from './provider.js';

const quiet = { info: () => undefined, warn: () => undefined };
const sims: SimCluster[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const s of sims.splice(0)) await s.close();
});

/** A started "k3s" whose API server is the embedded cluster: what testcontainers hands back, minus Docker. */
async function startedOnSim(): Promise<StartedK3s & { stopped: number; image?: string }> {
  const sim = await startSimCluster({ time: 'virtual' });
  sims.push(sim);
  const started = { stopped: 0, getKubeConfig: () => sim.kubeconfig, getId: () => '0123456789abcdef0123', stop: async () => void started.stopped++ };
  return started;
}

describe('k3s provider (testcontainers)', () => {
  it('writes the cluster\'s kubeconfig into the run folder, and stops the container when the scope ends', async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'meshdrill-k3s-'));
    const started = await startedOnSim();
    const images: string[] = [];
    let namespaces: string[] = [];

    {
      await using cluster = await provisionK3s({ runDir, runId: 'r', kubernetesVersion: '1.33', keep: false, logger: quiet, start: async (image) => (images.push(image), started) });
      namespaces = (await createKubeClient(await readFile(cluster.kubeconfigPath, 'utf8')).list('v1', 'Namespace')).map((n) => n.metadata.name);
      expect(cluster.name).toBe('meshdrill-k3s-0123456789ab');
      expect(started.stopped).toBe(0);
    }

    expect(images).toEqual(['rancher/k3s:v1.33.1-k3s1']);
    expect(namespaces).toContain('default');
    expect((await stat(join(runDir, 'kubeconfig'))).mode & 0o777).toBe(0o600);
    expect(started.stopped).toBe(1);
  });

  it('keeps the container with --keep, and says that one node is all it runs', async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'meshdrill-k3s-'));
    const started = await startedOnSim();
    const warnings: string[] = [];

    const cluster = await provisionK3s({ runDir, runId: 'r', nodes: 3, keep: true, logger: { info: () => undefined, warn: (_m, msg) => void warnings.push(msg) }, start: async () => started });
    await cluster.close();

    expect(started.stopped).toBe(0);
    expect(warnings).toEqual(['k3s through testcontainers runs one node; nodes: 3 is not honoured (use provider kind for several nodes)']);
  });

  it('needs @testcontainers/k3s only for k3s: when it is not installed, says how to get it', async () => {
    await expect(loadTestcontainersK3s('@testcontainers/k3s-not-installed')).rejects.toThrow('provider k3s needs the optional package @testcontainers/k3s-not-installed, which is not installed; install it with `npm install @testcontainers/k3s-not-installed`, or use provider kind or sim');
    await expect(loadTestcontainersK3s()).resolves.toHaveProperty('K3sContainer');
  });

  it('picks images by Kubernetes version and refuses unknown ones', () => {
    expect(k3sImage(undefined)).toBe('rancher/k3s:v1.34.1-k3s1');
    expect(k3sImage('v1.32.7')).toBe('rancher/k3s:v1.32.7-k3s1');
    expect(() => k3sImage('1.20')).toThrow('kubernetesVersion "1.20": no k3s image known for it');
  });

  it('without a container engine, a game day on k3s stops with what to do, and does not fall back to another cluster', async () => {
    // testcontainers itself looks for the engine: pointed at a socket that is not there, it finds none.
    vi.stubEnv('DOCKER_HOST', 'unix:///nonexistent/meshdrill-test/docker.sock');
    const dir = await exampleRepoOn('{provider: k3s, nodes: 1, kubernetesVersion: "1.34"}');
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'out'], io);

    expect(code).toBe(3);
    expect(io.err.join('')).toContain('provider k3s needs a Docker (or Podman) engine that testcontainers can reach, and found none (Could not find a working container runtime strategy); start Docker, set DOCKER_HOST, or use provider sim');
    expect(io.err.join('')).not.toContain('on the embedded cluster');
  });
});
