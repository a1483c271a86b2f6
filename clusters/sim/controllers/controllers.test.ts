import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../api/status.js';
import type { KubeObject } from '../api/types.js';
import { startSimCluster, type SimCluster } from '../cluster.js';

const clusters: SimCluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.close();
});

async function start(options: Parameters<typeof startSimCluster>[0] = {}): Promise<SimCluster> {
  const cluster = await startSimCluster(options);
  clusters.push(cluster);
  return cluster;
}

function type(cluster: SimCluster, resource: string) {
  const found = cluster.api.types.all().find((t) => t.resource === resource);
  if (!found) throw new Error(resource);
  return found;
}

function workload(kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', name: string, replicas?: number): Record<string, unknown> {
  return {
    metadata: { name, namespace: 'default' },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }] } },
      ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
    },
  };
}

const ready = (pod: KubeObject) => ((pod.status as { conditions?: Array<{ type: string; status: string }> }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function pods(cluster: SimCluster, app: string): KubeObject[] {
  return cluster.api.list(type(cluster, 'pods'), 'default').filter((p) => p.metadata.labels?.['app'] === app);
}

describe('controllers in virtual time', () => {
  it('rolls a deployment within maxSurge and maxUnavailable at every step', async () => {
    const cluster = await start();
    cluster.api.create(type(cluster, 'deployments'), 'default', workload('Deployment', 'web', 8));
    await cluster.advance(5_000);
    const deployment = structuredClone(cluster.api.get(type(cluster, 'deployments'), 'default', 'web'));
    const template = (deployment.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template;
    template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' };

    cluster.api.update(type(cluster, 'deployments'), 'default', 'web', deployment);
    const observed: Array<{ total: number; ready: number }> = [];
    for (let step = 0; step < 30; step++) {
      await cluster.advance(1_000);
      const current = pods(cluster, 'web');
      observed.push({ total: current.length, ready: current.filter(ready).length });
    }

    // 8 replicas with 25 % / 25 %: at most 8 + 2 pods, at least 8 - 2 ready.
    expect(Math.max(...observed.map((o) => o.total))).toBeLessThanOrEqual(10);
    expect(Math.min(...observed.map((o) => o.ready))).toBeGreaterThanOrEqual(6);
    expect(observed.at(-1)).toEqual({ total: 8, ready: 8 });
    const status = cluster.api.get(type(cluster, 'deployments'), 'default', 'web').status as Record<string, unknown>;
    expect(status).toMatchObject({ observedGeneration: 2, updatedReplicas: 8, availableReplicas: 8, replicas: 8 });
  });

  it('starts StatefulSet pods one by one in ordinal order and removes from the top', async () => {
    const cluster = await start({ podStartDelayMs: 1_000 });
    cluster.api.create(type(cluster, 'statefulsets'), 'default', workload('StatefulSet', 'db', 3));
    cluster.settle();

    const seen: string[][] = [];
    for (let step = 0; step < 4; step++) {
      seen.push(pods(cluster, 'db').map((p) => `${p.metadata.name}:${ready(p) ? 'ready' : 'starting'}`).sort());
      await cluster.advance(1_000);
    }
    const set = cluster.api.get(type(cluster, 'statefulsets'), 'default', 'db');
    cluster.api.update(type(cluster, 'statefulsets'), 'default', 'db', { ...set, spec: { ...(set.spec as object), replicas: 1 } });
    await cluster.advance(1_000);

    expect(seen).toEqual([['db-0:starting'], ['db-0:ready', 'db-1:starting'], ['db-0:ready', 'db-1:ready', 'db-2:starting'], ['db-0:ready', 'db-1:ready', 'db-2:ready']]);
    expect(pods(cluster, 'db').map((p) => p.metadata.name)).toEqual(['db-0']);
  });

  it('runs a DaemonSet pod on every schedulable worker, not on the control plane', async () => {
    const cluster = await start({ nodes: 4 });
    cluster.api.create(type(cluster, 'daemonsets'), 'default', workload('DaemonSet', 'ztunnel'));

    await cluster.advance(5_000);

    const nodes = pods(cluster, 'ztunnel').map((p) => (p.spec as { nodeName: string }).nodeName).sort();
    expect(nodes).toEqual(['sim-worker', 'sim-worker2', 'sim-worker3', 'sim-worker4']);
    expect(cluster.api.get(type(cluster, 'daemonsets'), 'default', 'ztunnel').status).toMatchObject({ desiredNumberScheduled: 4, numberReady: 4, updatedNumberScheduled: 4 });
  });

  it('marks pods on a lost node NotReady at once and replaces them after the eviction delay', async () => {
    const cluster = await start({ nodes: 3 });
    cluster.api.create(type(cluster, 'deployments'), 'default', workload('Deployment', 'api', 3));
    cluster.api.create(type(cluster, 'services'), 'default', { metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ port: 80 }] } });
    await cluster.advance(5_000);
    const victim = pods(cluster, 'api').find((p) => (p.spec as { nodeName: string }).nodeName === 'sim-worker2')!;

    cluster.controllers.setNodeReady('sim-worker2', false);
    const taints = (cluster.api.get(type(cluster, 'nodes'), undefined, 'sim-worker2').spec as { taints?: Array<{ key: string; effect: string }> }).taints;
    const justAfter = cluster.api.get(type(cluster, 'pods'), 'default', victim.metadata.name);
    const endpoints = cluster.api.get(type(cluster, 'endpoints'), 'default', 'api') as unknown as { subsets: Array<{ addresses?: unknown[]; notReadyAddresses?: unknown[] }> };
    await cluster.advance(299_000);
    const stillThere = cluster.api.find(type(cluster, 'pods'), 'default', victim.metadata.name);
    await cluster.advance(10_000);

    expect(ready(justAfter)).toBe(false);
    expect(taints?.map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
    expect(endpoints.subsets[0]?.addresses).toHaveLength(2);
    expect(endpoints.subsets[0]?.notReadyAddresses).toHaveLength(1);
    expect(stillThere).toBeDefined();
    expect(cluster.api.find(type(cluster, 'pods'), 'default', victim.metadata.name)).toBeUndefined();
    const now = pods(cluster, 'api');
    expect(now.filter(ready)).toHaveLength(3);
    expect(now.map((p) => (p.spec as { nodeName: string }).nodeName)).not.toContain('sim-worker2');
    cluster.controllers.setNodeReady('sim-worker2', true);
    expect(cluster.api.get(type(cluster, 'nodes'), undefined, 'sim-worker2').spec).not.toHaveProperty('taints');
  });

  it('lets an admission hook reject pods; the ReplicaSet records FailedCreate and creates none', async () => {
    const cluster = await start();
    cluster.api.addAdmissionHook(({ type: t, object }) => {
      if (t.kind === 'Pod') throw new ApiError(500, 'InternalError', 'Internal error occurred: failed calling webhook "sidecar-injector.istio.io": connection refused');
      return object;
    });

    cluster.api.create(type(cluster, 'deployments'), 'default', workload('Deployment', 'web', 2));
    await cluster.advance(5_000);

    expect(pods(cluster, 'web')).toEqual([]);
    const events = cluster.api.list(type(cluster, 'events'), 'default').filter((e) => e['reason'] === 'FailedCreate');
    expect(String(events[0]?.['message'])).toContain('failed calling webhook "sidecar-injector.istio.io"');
  });

  it('holds readiness while a readiness check vetoes it', async () => {
    const cluster = await start();
    let allowed = false;
    cluster.controllers.addReadinessCheck(() => (allowed ? { ready: true } : { ready: false, reason: 'ProxyNotReady', message: 'config not received from XDS server' }));
    cluster.api.create(type(cluster, 'deployments'), 'default', workload('Deployment', 'web', 2));
    await cluster.advance(5_000);
    const blocked = pods(cluster, 'web').filter(ready).length;

    allowed = true;
    cluster.controllers.pods.recheckAll();
    await cluster.advance(1);

    expect(blocked).toBe(0);
    expect(pods(cluster, 'web').filter(ready)).toHaveLength(2);
  });

  it('orphans dependents when asked, and deletes them by default', async () => {
    const cluster = await start();
    cluster.api.create(type(cluster, 'deployments'), 'default', workload('Deployment', 'a', 1));
    cluster.api.create(type(cluster, 'deployments'), 'default', workload('Deployment', 'b', 1));
    await cluster.advance(5_000);

    cluster.api.delete(type(cluster, 'deployments'), 'default', 'a', { propagationPolicy: 'Orphan' });
    cluster.api.delete(type(cluster, 'deployments'), 'default', 'b');
    await cluster.advance(1_000);

    const sets = cluster.api.list(type(cluster, 'replicasets'), 'default').map((rs) => [rs.metadata.labels?.['app'], rs.metadata.ownerReferences ?? []]);
    expect(sets).toEqual([['a', []]]);
    expect(pods(cluster, 'a')).toHaveLength(1);
    expect(pods(cluster, 'b')).toHaveLength(0);
  });

  it('hands out frozen objects, so a reader cannot change the store behind its back', async () => {
    const cluster = await start();
    cluster.api.create(type(cluster, 'configmaps'), 'default', { metadata: { name: 'c' }, data: { a: '1' } });

    const read = cluster.api.get(type(cluster, 'configmaps'), 'default', 'c');

    expect(() => {
      (read['data'] as Record<string, string>)['a'] = '2';
    }).toThrow(TypeError);
    expect(cluster.api.get(type(cluster, 'configmaps'), 'default', 'c')['data']).toEqual({ a: '1' });
  });

  it('is deterministic for a seed', async () => {
    const names = async () => {
      const cluster = await start({ seed: 7 });
      cluster.api.create(type(cluster, 'deployments'), 'default', workload('Deployment', 'web', 3));
      await cluster.advance(5_000);
      return pods(cluster, 'web').map((p) => `${p.metadata.name} ${p.metadata.uid} ${(p.spec as { nodeName: string }).nodeName}`).sort();
    };

    expect(await names()).toEqual(await names());
  });
});

describe('sim state file', () => {
  it('restores every object after a restart, written atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-state-'));
    const statePath = join(dir, 'sim.json');
    const first = await startSimCluster({ statePath });
    first.api.create(type(first, 'deployments'), 'default', workload('Deployment', 'web', 2));
    first.api.create(type(first, 'configmaps'), 'default', { metadata: { name: 'settings' }, data: { a: 'b' } });
    await first.advance(5_000);
    const before = first.snapshot().store.objects.map((o) => `${o.key} ${o.object.metadata.namespace ?? ''}/${o.object.metadata.name} ${o.object.metadata.resourceVersion ?? ''}`).sort();
    await first.close();

    const second = await start({ statePath });
    const after = second.snapshot().store.objects.map((o) => `${o.key} ${o.object.metadata.namespace ?? ''}/${o.object.metadata.name} ${o.object.metadata.resourceVersion ?? ''}`).sort();
    const created = second.api.create(type(second, 'configmaps'), 'default', { metadata: { name: 'later' } }).object;

    expect(after).toEqual(before);
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(Math.max(...before.map((line) => Number(line.split(' ').at(-1)))));
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
