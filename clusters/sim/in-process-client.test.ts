import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient, type KubeObject } from '../kube/index.js';
import { startSimCluster, type SimCluster } from './cluster.js';
import { inProcessKubeClient } from './in-process-client.js';

const started: SimCluster[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.close()));
});

/** Timestamps as instants: client-node turns them into Dates and back (".000Z"), the server sends seconds. */
function normalised(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null), (_key, v: unknown) => (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v) ? new Date(v).toISOString() : v));
}

async function outcome<T>(work: () => Promise<T>): Promise<unknown> {
  try {
    return { ok: normalised(await work()) };
  } catch (error) {
    return { error: (error as Error).message, status: (error as { status?: number }).status };
  }
}

const namespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } };
const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'cart', namespace: 'shop', labels: { app: 'cart' } },
  spec: { replicas: 2, selector: { matchLabels: { app: 'cart' } }, template: { metadata: { labels: { app: 'cart' } }, spec: { containers: [{ name: 'app', image: 'cart:1', ports: [{ containerPort: 8080 }] }] } } },
};
// client-node once dropped a rule's "from" (its model calls it _from): both must keep it.
const policy: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'only-web', namespace: 'shop' },
  spec: { podSelector: { matchLabels: { app: 'cart' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }], policyTypes: ['Ingress'] },
};
const crd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
};

/** The same requests, one after another, as a tool would make them; every answer and refusal recorded. */
async function script(kube: KubeClient, cluster: SimCluster): Promise<unknown[]> {
  const out: unknown[] = [];
  out.push(await outcome(() => kube.apply(namespace)));
  out.push(await outcome(() => kube.apply(deployment)));
  out.push(await outcome(() => kube.apply(policy)));
  out.push(await outcome(() => kube.apply({ ...deployment, spec: { ...(deployment.spec as object), replicas: 3, unknownField: true } })));
  out.push(await outcome(() => kube.apply(crd)));
  out.push(await outcome(() => kube.apply({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'shop' }, spec: { size: 3 } })));
  await cluster.advance(5_000);
  out.push(await outcome(() => kube.get('apps/v1', 'Deployment', 'shop', 'cart')));
  out.push(await outcome(() => kube.get('apps/v1', 'Deployment', 'shop', 'missing')));
  out.push(await outcome(() => kube.list('v1', 'Pod', { namespace: 'shop', labelSelector: 'app=cart' })));
  out.push(await outcome(() => kube.list('apps/v1', 'ReplicaSet')));
  out.push(await outcome(() => kube.create(namespace)));
  out.push(await outcome(() => kube.mergePatch('v1', 'Namespace', undefined, 'shop', { metadata: { labels: { team: 'b' } } })));
  out.push(await outcome(() => kube.mergePatch('v1', 'Namespace', undefined, 'shop', { metadata: { resourceVersion: '1', labels: { team: 'c' } } })));
  out.push(await outcome(() => kube.mergePatch('apps/v1', 'Deployment', 'shop', 'missing', { spec: { replicas: 1 } })));
  const pod = ((await kube.list('v1', 'Pod', { namespace: 'shop' }))[0]?.metadata.name) ?? '';
  out.push(await outcome(() => kube.logs('shop', pod)));
  out.push(await outcome(() => kube.logs('shop', 'missing')));
  out.push(await outcome(() => kube.delete('networking.k8s.io/v1', 'NetworkPolicy', 'shop', 'only-web')));
  out.push(await outcome(() => kube.delete('networking.k8s.io/v1', 'NetworkPolicy', 'shop', 'only-web')));
  out.push(await outcome(() => kube.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad name', namespace: 'shop' }, spec: { containers: [] } })));
  await cluster.advance(5_000);
  out.push(await outcome(() => kube.list('v1', 'Pod', { namespace: 'shop' })));
  return out;
}

describe('the in-process client', () => {
  it('answers every request as the HTTP client does: the same objects, the same refusals', async () => {
    const overHttp = await startSimCluster({ seed: 7 });
    const inProcess = await startSimCluster({ seed: 7 });
    started.push(overHttp, inProcess);
    const http = await script(createKubeClient(overHttp.kubeconfig), overHttp);
    const direct = await script(inProcessKubeClient(inProcess), inProcess);
    expect(direct).toEqual(http);
    // The script reached what it means to test: objects, a 404 as undefined, conflicts, logs.
    expect(JSON.stringify(http)).toContain('"from":[{"podSelector"');
    expect(http.filter((o) => (o as { status?: number }).status === 409)).toHaveLength(2);
    expect((http[14] as { ok?: string }).ok).toContain('started, serving');
  });

  it('hands out copies: changing what it returned changes nothing in the cluster', async () => {
    const cluster = await startSimCluster({ seed: 1 });
    started.push(cluster);
    const kube = inProcessKubeClient(cluster);
    const applied = await kube.apply(namespace);
    applied.metadata.labels!['team'] = 'changed';
    const read = await kube.get('v1', 'Namespace', undefined, 'shop');
    expect(read?.metadata.labels?.['team']).toBe('a');
    read!.metadata.labels!['team'] = 'changed';
    expect((await kube.list('v1', 'Namespace')).find((n) => n.metadata.name === 'shop')?.metadata.labels?.['team']).toBe('a');
  });
});
