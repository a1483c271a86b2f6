import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../core/index.js';
import { rolloutGate } from '../test/helpers/cli.js';
import { exampleCheckout, git } from '../test/helpers/git-repo.js';
import { fakeTools, kindOnEmbedded } from '../test/helpers/fake-tools.js';
import { meshAdapter } from '../meshes/index.js';
import { createKubeClient, startSimCluster, type SimCluster } from '../clusters/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const c of cleanups.splice(0)) await c();
});

/** A Prometheus that has scraped nothing yet: every query answers with an empty vector. */
async function emptyPrometheus(): Promise<{ port: number; queries: string[] }> {
  const queries: string[] = [];
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    // Queries come in the URL (GET) or form-encoded in the body (POST), as the HTTP API allows.
    queries.push(new URLSearchParams(body).get('query') ?? new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: { resultType: req.url?.includes('query_range') ? 'matrix' : 'vector', result: [] } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, queries };
}

// The gate's kind path without Docker: fake kind, helm and kubectl on PATH, the embedded cluster
// standing in for the nodes, a Prometheus with no data yet, and the gate's waits on a test clock.
describe('rollout gate on a kind cluster (fake kind and helm; the embedded cluster stands in)', () => {
  it('makes the cluster, installs the mesh, deploys and drives traffic, applies the live stage, holds without evidence, and deletes the cluster', async () => {
    const sim: SimCluster = await startSimCluster({ time: 'real', podStartDelayMs: 5 });
    cleanups.push(() => sim.close());
    const prometheus = await emptyPrometheus();
    // The fake helm installs nothing; the CRDs the istio-base chart would have installed go in here.
    const kube = createKubeClient(sim.kubeconfig);
    for (const object of await meshAdapter('istio').installManifests()) if (object.kind === 'CustomResourceDefinition') await kube.apply(object);
    const tools = await fakeTools(kindOnEmbedded(sim.kubeconfig, { clusterName: 'meshdrill-gate-kind', prometheusPort: prometheus.port }));
    vi.stubEnv('PATH', tools.path);
    const { dir, work } = await exampleCheckout({ remote: false });
    await writeFile(join(work, 'staging.yaml'), 'apiVersion: meshdrill.dev/v1alpha1\nkind: Cluster\nmetadata: {name: kind-staging}\nspec: {provider: kind, nodes: 2, kubernetesVersion: "1.34"}\n');
    const plan = await readFile(join(work, 'rollout-plan.yaml'), 'utf8');
    await writeFile(join(work, 'rollout-plan.yaml'), plan.replace('mesh: {name: istio, mode: sidecar}', 'mesh: {name: istio, mode: sidecar, version: 1.27.1}').replace(/status:\n  stage: 0/, 'status:\n  stage: 1'));
    await git(work, 'add', '-A');
    await git(work, 'commit', '-q', '-m', 'staging on kind, stage 1 live');
    let now = Date.parse('2026-11-22T06:00:00Z');
    const lines: string[] = [];

    const { record } = await rolloutGate({
      repoPath: work,
      cwd: work,
      cluster: 'kind-staging',
      forge: 'local',
      remote: 'origin',
      dryRun: true,
      outDir: join(dir, 'run'),
      seed: 1,
      runId: 'gate-kind',
      env: { ...process.env, XDG_STATE_HOME: join(dir, 'state') },
      now: () => now,
      clusterClock: { now: () => now, sleep: async (ms) => void (now += ms) },
      logger: createLogger({ level: 'info', write: (line) => lines.push(line) }),
    });

    expect(record.cluster.provider).toMatch(/^kind \(meshdrill-gate-kind\)$/);
    expect(record.decision.verdict).toBe('hold');
    expect((await tools.calls('kind')).map((c) => c.slice(0, 2).join(' '))).toEqual(['version', 'get clusters', 'create cluster', 'export logs', 'delete cluster']);
    expect((await tools.calls('helm')).map((c) => c.slice(0, 3).join(' '))).toContain('upgrade --install istiod');
    expect(lines.join('\n')).toContain('traffic: k6 in meshdrill-load at 400 rps into ingress/gateway');
    // Stage 1 is live on the cluster: its namespace is labelled for injection.
    const stage1 = /- name: ([a-z0-9-]+)\n\s+namespaces: \[([a-z0-9-]+)/.exec(plan)!;
    const labels = (await kube.get('v1', 'Namespace', undefined, stage1[2]!))?.metadata.labels ?? {};
    expect(labels['istio-injection'] ?? labels['istio.io/rev']).toBeDefined();
    expect(record.decision.reasons).toEqual(['gate frontend-availability is inconclusive: 5 inconclusive measurements (limit 0); last: no data in the window', 'gate latency-p99 frontend is inconclusive: 5 inconclusive measurements (limit 0); last: no data in the window']);
    expect(prometheus.queries.some((q) => q.includes('istio_requests_total'))).toBe(true);
  });
});
