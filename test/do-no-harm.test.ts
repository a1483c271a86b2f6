import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { attachMeshTwin, createKubeClient, startSimCluster, topologyWorkloads, type KubeClient, type SimCluster } from '../clusters/index.js';
import { Topology } from '../model/index.js';
import { meshAdapter } from '../meshes/index.js';
import { captureIO, runCli } from './helpers/cli.js';
import { spawnCli } from './helpers/spawn-cli.js';

// A run's worst case is "nothing happened": a journal touches only the cluster it was written on,
// one run holds a cluster at a time, and a signal stops a run within seconds with every fault
// reverted. Every cluster here is an embedded cluster served over HTTP, as `sim serve` serves it.

const sims: SimCluster[] = [];
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
});

async function served(time: 'virtual' | 'real' = 'virtual'): Promise<{ sim: SimCluster; kube: KubeClient }> {
  const sim = await startSimCluster({ time, nodes: 2 });
  attachMeshTwin(sim);
  sims.push(sim);
  return { sim, kube: createKubeClient(sim.kubeconfig) };
}

/** What a person would call the cluster's state: every object they or a run wrote, without what controllers keep changing. */
async function snapshot(kube: KubeClient): Promise<string[]> {
  const kinds: Array<[string, string]> = [
    ['v1', 'Namespace'], ['v1', 'Service'], ['v1', 'ConfigMap'], ['v1', 'Secret'], ['v1', 'ServiceAccount'],
    ['apps/v1', 'Deployment'], ['apps/v1', 'StatefulSet'], ['apps/v1', 'DaemonSet'],
    ['networking.k8s.io/v1', 'NetworkPolicy'], ['coordination.k8s.io/v1', 'Lease'],
    ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration'], ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
  ];
  const out: string[] = [];
  for (const [apiVersion, kind] of kinds) {
    for (const o of await kube.list(apiVersion, kind)) {
      const { status: _status, metadata, ...rest } = o;
      out.push(JSON.stringify({ kind, name: `${metadata.namespace ?? ''}/${metadata.name}`, labels: metadata.labels ?? {}, spec: rest['spec'] ?? null, data: rest['data'] ?? null }));
    }
  }
  return out.sort();
}

const SMALL = { entrypoints: [{ service: 'web/front', rps: 20 }], namespaces: [{ name: 'web', services: [{ name: 'front', replicas: 1, calls: [{ to: 'api/orders' }] }] }, { name: 'api', services: [{ name: 'orders', replicas: 1 }] }] };

/** A small config repo: two namespaces, a plan, and a game day with the given fault steps (after install, deploy and stage, unless `only`). */
async function repo(faults: unknown[], options: { wait?: string; only?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-harm-'));
  const doc = (kind: string, name: string, spec: unknown, extra: Record<string, unknown> = {}) => ({ apiVersion: 'meshdrill.dev/v1alpha1', kind, metadata: { name }, spec, ...extra });
  await writeFile(join(dir, 'topology.yaml'), stringify(doc('Topology', 'small', SMALL)));
  await writeFile(join(dir, 'plan.yaml'), stringify(doc('RolloutPlan', 'small', { mesh: { name: 'istio', mode: 'sidecar' }, topology: 'small', baseline: { window: '5m' }, stages: [{ name: 'all', namespaces: ['web', 'api'], bake: '5m', gates: [{ sli: 'success-rate', objective: '>= 99%' }] }] }, { status: { stage: 0 } })));
  await writeFile(join(dir, 'gameday.yaml'), stringify(doc('GameDay', 'harm', { plan: 'small', steps: [{ provision: {} }, ...(options.only ? [] : [{ install: {} }, { deploy: {} }, { stage: { to: 1 } }]), ...faults.map((fault) => ({ fault })), ...(options.wait ? [{ wait: options.wait }] : [])] })));
  return dir;
}

/** One kubeconfig with two contexts: prod (current) on one cluster, staging on another. */
function twoContexts(prod: SimCluster, staging: SimCluster): string {
  const cluster = (name: string, sim: SimCluster) => ({ name, cluster: { server: sim.url, 'insecure-skip-tls-verify': true } });
  return stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'prod', clusters: [cluster('prod', prod), cluster('staging', staging)], users: [{ name: 'prod', user: { token: prod.auth.adminToken } }, { name: 'staging', user: { token: staging.auth.adminToken } }], contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'prod' } }, { name: 'staging', context: { cluster: 'staging', user: 'staging' } }] });
}

/** Istio, with its data, on the production cluster: what a stray cleanup must never touch. */
async function productionMesh(sim: SimCluster, kube: KubeClient): Promise<void> {
  for (const object of await meshAdapter('istio', 'sidecar').installManifests({ now: new Date(sim.clock.now()) })) await kube.apply(object);
  await kube.mergePatch('apps/v1', 'Deployment', 'istio-system', 'istiod', { spec: { replicas: 3 } });
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
  await kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'orders-db', namespace: 'web' }, data: { url: 'postgres://orders' } });
  await sim.advance(5_000);
}

describe('a journal touches only the cluster it was written on', () => {
  it('a run on staging killed mid-fault: cleanup pointed at prod refuses and changes nothing there; cleanup on staging reverts it', async () => {
    const prod = await served();
    const staging = await served();
    await productionMesh(prod.sim, prod.kube);
    const dir = await repo([{ type: 'control-plane-crash', method: 'scale-to-zero', duration: '30m' }]);
    await writeFile(join(dir, 'both.kubeconfig'), twoContexts(prod.sim, staging.sim));
    await writeFile(join(dir, 'staging.kubeconfig'), staging.sim.kubeconfig);
    const prodBefore = await snapshot(prod.kube);
    const stagingBefore = await snapshot(staging.kube);

    // The run on staging is killed (SIGKILL) once its fault is in: its journal is all that is left.
    const run = spawnCli(['gameday', 'run', 'gameday.yaml', '--kubeconfig', 'staging.kubeconfig', '--journal-dir', 'journal', '--out', 'out'], { cwd: dir });
    await run.waitForStderr('injected control-plane-crash');
    run.child.kill('SIGKILL');
    await run.exited;
    expect(await staging.kube.get('apps/v1', 'Deployment', 'istio-system', 'istiod')).toMatchObject({ spec: { replicas: 0 } });

    const atProd = captureIO(dir);
    const refusedCode = await runCli(['cleanup', '--journal-dir', 'journal', '--kubeconfig', 'both.kubeconfig', '--context', 'prod'], atProd);
    const ambiguous = captureIO(dir);
    const ambiguousCode = await runCli(['cleanup', '--journal-dir', 'journal', '--kubeconfig', 'both.kubeconfig'], ambiguous);
    const dry = captureIO(dir);
    const dryCode = await runCli(['cleanup', '--journal-dir', 'journal', '--dry-run'], dry);
    const stagingDuringDryRun = await staging.kube.get('apps/v1', 'Deployment', 'istio-system', 'istiod');
    const atStaging = captureIO(dir);
    const cleanCode = await runCli(['cleanup', '--journal-dir', 'journal'], atStaging);

    expect(refusedCode).toBe(3);
    expect(atProd.err.join('')).toMatch(/refused: it was written on the cluster at http:\/\/127\.0\.0\.1:\d+ \(context "meshdrill-sim", kube-system uid [\w-]+\), and the cluster at http:\/\/127\.0\.0\.1:\d+ \(context "prod"\) is another one .*nothing was changed/);
    expect(await snapshot(prod.kube)).toEqual(prodBefore);
    expect(ambiguousCode).toBe(3);
    expect(ambiguous.err.join('')).toContain('both.kubeconfig holds 2 contexts (prod, staging); name the cluster the run changed with --context');
    expect(dryCode).toBe(0);
    expect(dry.out.join('')).toMatch(/would replay[\s\S]*would scale Deployment\/istio-system\/istiod back to 1/);
    expect(stagingDuringDryRun).toMatchObject({ spec: { replicas: 0 } });
    expect(cleanCode).toBe(0);
    expect(await snapshot(staging.kube)).toEqual(stagingBefore);
    expect(await snapshot(prod.kube)).toEqual(prodBefore);
  });

  it('an undo deletes only what its run made: a namespace of that name that was there before is left alone, and said so', async () => {
    const cluster = await served();
    await cluster.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    await cluster.kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'orders-db', namespace: 'web' }, data: { url: 'postgres://orders' } });
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-harm-'));
    await writeFile(join(dir, 'kubeconfig'), cluster.sim.kubeconfig);
    const uid = (await cluster.kube.get('v1', 'Namespace', undefined, 'kube-system'))!.metadata.uid;
    // A journal whose run "created" web (it did not exist when the run journalled it): an hour
    // later, after the journal, someone else's web is there, with data.
    const header = { runId: 'gameday-old', cluster: { server: cluster.sim.url, kubeSystemUid: uid, context: 'meshdrill-sim' }, kubeconfigPath: join(dir, 'kubeconfig'), host: 'h', pid: 1, startedAt: '2026-01-01T00:00:00Z', what: 'game day old' };
    const later = new Date(cluster.sim.clock.now() + 3_600_000).toISOString();
    await writeFile(join(dir, 'gameday-old.jsonl'), [{ header }, { seq: 1, at: later, fault: 'deploy small', description: 'apply Namespace/web', undo: { type: 'restore', ref: { apiVersion: 'v1', kind: 'Namespace', name: 'web' }, createdAfter: later } }].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const before = await snapshot(cluster.kube);

    const io = captureIO(dir);
    const code = await runCli(['cleanup', '--journal-dir', '.'], io);
    const again = captureIO(dir);
    await runCli(['cleanup', '--journal-dir', '.'], again);

    expect(code).toBe(0);
    expect(io.out.join('')).toMatch(/gameday-old: 0 undos replayed, 1 left alone\n {2}left alone: deploy small: Namespace\/web carries no meshdrill.dev\/run-id label and was there before this run \(created [^)]+\), so this run did not make it; left alone\n/);
    expect(await snapshot(cluster.kube)).toEqual(before);
    expect(again.out.join('')).toContain('nothing to clean up');
  });

  it('--discard retires a journal whose cluster is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-harm-'));
    await writeFile(join(dir, 'gameday-gone.jsonl'), `${JSON.stringify({ header: { runId: 'gameday-gone', cluster: { server: 'https://gone.invalid', kubeSystemUid: 'x', context: 'gone' }, host: 'h', pid: 1, startedAt: '', what: 'game day' } })}\n${JSON.stringify({ seq: 1, at: '', fault: 'f', description: 'd', undo: { type: 'none', reason: 'r' } })}\n`);

    const io = captureIO(dir);
    const code = await runCli(['cleanup', '--journal-dir', '.', '--discard', 'gameday-gone'], io);
    const after = captureIO(dir);
    await runCli(['cleanup', '--journal-dir', '.'], after);

    expect(code).toBe(0);
    expect(io.out.join('')).toBe('gameday-gone: journal retired; its 1 pending undo will not be replayed\n');
    expect(after.out.join('')).toContain('nothing to clean up');
  });
});

describe('one run per cluster', () => {
  it('refuses a second game day on a cluster a live one holds, naming it; after the first ends the cluster is as before', async () => {
    const cluster = await served();
    const dir = await repo([{ type: 'control-plane-partition', namespaces: ['web'], duration: '20m' }], { wait: '30m' });
    await writeFile(join(dir, 'kubeconfig'), cluster.sim.kubeconfig);
    const before = await snapshot(cluster.kube);

    const first = spawnCli(['gameday', 'run', 'gameday.yaml', '--kubeconfig', 'kubeconfig', '--journal-dir', 'journal', '--out', 'first'], { cwd: dir });
    await first.waitForStderr('step 2/');
    const second = captureIO(dir);
    const secondCode = await runCli(['gameday', 'run', 'gameday.yaml', '--kubeconfig', 'kubeconfig', '--journal-dir', 'journal', '--out', 'second'], second);
    const firstStillRunning = first.child.exitCode === null;
    const firstCode = await first.exited;

    expect(secondCode).toBe(3);
    expect(second.err.join('') + second.out.join('')).toMatch(/the cluster is in use by run gameday-\S+ \(game day harm, on host \S+, pid \d+, since [\d-]+T[\d:.]+Z\)/);
    expect(firstStillRunning).toBe(true);
    expect(firstCode).toBe(0);
    expect(await snapshot(cluster.kube)).toEqual(before);
    expect(await readdir(join(dir, 'journal'))).toEqual([]);
  });

  it('--keep releases the lease and keeps the mesh; cleanup leaves kept installs alone unless asked', async () => {
    const cluster = await served();
    const dir = await repo([]);
    await writeFile(join(dir, 'kubeconfig'), cluster.sim.kubeconfig);
    const before = await snapshot(cluster.kube);

    const kept = captureIO(dir);
    expect(await runCli(['gameday', 'run', 'gameday.yaml', '--kubeconfig', 'kubeconfig', '--journal-dir', 'journal', '--out', 'out', '--keep'], kept)).toBe(0);
    const routine = captureIO(dir);
    await runCli(['cleanup', '--journal-dir', 'journal'], routine);
    const afterRoutine = await cluster.kube.get('apps/v1', 'Deployment', 'istio-system', 'istiod');
    const lease = await cluster.kube.get('coordination.k8s.io/v1', 'Lease', 'kube-system', 'meshdrill');
    const asked = captureIO(dir);
    const askedCode = await runCli(['cleanup', '--journal-dir', 'journal', '--include-kept'], asked);

    expect(kept.err.join('')).toContain('kept: the mesh and topology stay');
    expect(lease).toBeUndefined();
    expect(routine.out.join('')).toMatch(/kept on purpose \(--keep\): \d+ changes stay; add --include-kept to take them back/);
    expect(afterRoutine).toBeDefined();
    expect(askedCode).toBe(0);
    expect(await snapshot(cluster.kube)).toEqual(before);
  });
});

/** Istio and the small topology, meshed, on a cluster in real time: ready once every pod is. */
async function meshedWorkloads(sim: SimCluster, kube: KubeClient): Promise<void> {
  const adapter = meshAdapter('istio', 'sidecar');
  for (const object of await adapter.installManifests({ now: new Date(sim.clock.now()) })) await kube.apply(object);
  for (const ns of ['web', 'api']) await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const ns of ['web', 'api']) await adapter.meshNamespace(kube, ns, { now: new Date(sim.clock.now()) });
  for (const object of topologyWorkloads(Topology.parse({ apiVersion: 'meshdrill.dev/v1alpha1', kind: 'Topology', metadata: { name: 'small' }, spec: SMALL }))) await kube.apply(object);
}

describe('signals stop a run within seconds, in real time, with every fault reverted', () => {
  // Each fault kind once, the three signals taking turns: every kind and every signal is covered.
  const cases: Array<[string, NodeJS.Signals, unknown, number]> = [
    ['ca-loss', 'SIGINT', { type: 'ca-loss', variant: 'signer-unavailable', duration: '10m' }, 130],
    ['control-plane-partition', 'SIGTERM', { type: 'control-plane-partition', namespaces: ['web'], duration: '10m' }, 143],
    ['control-plane-crash', 'SIGHUP', { type: 'control-plane-crash', method: 'scale-to-zero', duration: '10m' }, 129],
    ['injector-outage', 'SIGINT', { type: 'injector-outage', duration: '10m' }, 130],
    ['proxy-crash', 'SIGTERM', { type: 'proxy-crash', namespaces: ['web'], share: '50%', duration: '10m' }, 143],
    ['http-fault', 'SIGHUP', { type: 'http-fault', destination: 'api/orders', abort: { httpStatus: 503, percentage: '10%' }, duration: '10m' }, 129],
    ['node-loss', 'SIGINT', { type: 'node-loss', nodes: 1, duration: '10m' }, 130],
    ['cert-expiry', 'SIGTERM', { type: 'cert-expiry', lifetime: '1h', duration: '10m' }, 143],
  ];

  it.each(cases)('%s, stopped by %s', async (type, signal, fault, exitCode) => {
    // The mesh and workloads are there before the run (real time is slow to install into): the
    // run takes the cluster, injects, and is stopped.
    const cluster = await served('real');
    await meshedWorkloads(cluster.sim, cluster.kube);
    const dir = await repo([fault], { only: true });
    await writeFile(join(dir, 'kubeconfig'), cluster.sim.kubeconfig);
    const before = await snapshot(cluster.kube);
    const run = spawnCli(['gameday', 'run', 'gameday.yaml', '--kubeconfig', 'kubeconfig', '--journal-dir', 'journal', '--out', 'out'], { cwd: dir });
    await run.waitForStderr(`injected ${type}`);

    const sent = Date.now();
    run.child.kill(signal);
    const code = await run.exited;
    const stoppedMs = Date.now() - sent;
    const record = JSON.parse(await readFile(join(dir, 'out', 'run.json'), 'utf8')) as { outcome: { verdict: string; reasons: string[] } };

    expect(code).toBe(exitCode);
    expect(stoppedMs).toBeLessThan(5_000);
    expect(record.outcome.verdict).toBe('aborted');
    expect(record.outcome.reasons).toContain(`interrupted (${signal})`);
    expect(await snapshot(cluster.kube)).toEqual(before);
    expect(await readdir(join(dir, 'journal'))).toEqual([]);
  });
});

describe('a long load in virtual time', () => {
  it('stops on SIGTERM between evaluation intervals, not at the end of the load', async () => {
    const dir = await repo([]);
    const game = parse(await readFile(join(dir, 'gameday.yaml'), 'utf8')) as { spec: { steps: unknown[] } };
    game.spec.steps.push({ load: { duration: '20h' } });
    await writeFile(join(dir, 'gameday.yaml'), stringify(game));
    const run = spawnCli(['gameday', 'run', 'gameday.yaml', '--out', 'out'], { cwd: dir });
    await run.waitForStderr('step 5/5: load 20h');

    run.child.kill('SIGTERM');
    const code = await run.exited;
    const record = JSON.parse(await readFile(join(dir, 'out', 'run.json'), 'utf8')) as { outcome: { verdict: string }; steps: Array<{ status: string; finishedAt: string; startedAt: string }> };

    expect(code).toBe(143);
    expect(record.outcome.verdict).toBe('aborted');
    expect(record.steps.at(-1)!.status).toBe('aborted');
  });
});

describe('the kubeconfig', () => {
  it('is read, never copied: no run folder holds a kubeconfig or its token', async () => {
    const prod = await served();
    const staging = await served();
    const dir = await repo([]);
    await writeFile(join(dir, 'both.kubeconfig'), twoContexts(prod.sim, staging.sim));
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--kubeconfig', 'both.kubeconfig', '--context', 'staging', '--out', 'out'], io);

    const files = await readdir(join(dir, 'out'), { recursive: true });
    expect(files.filter((f) => f.includes('kubeconfig'))).toEqual([]);
    for (const file of files) {
      const text = await readFile(join(dir, 'out', file), 'utf8').catch(() => '');
      expect(text).not.toContain(staging.sim.auth.adminToken);
    }
    expect((parse(await readFile(join(dir, 'both.kubeconfig'), 'utf8')) as { 'current-context': string })['current-context']).toBe('prod');
    // The run reached staging with the token (it stops at install: no mesh there) and wrote its record.
    expect(io.err.join('')).toContain('istio is not running in istio-system on this cluster');
    expect(io.err.join('')).not.toContain('Unauthorized');
    expect(code).toBe(3);
  });
});
