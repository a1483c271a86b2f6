import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, makeInformer, PatchStrategy, Watch, type V1ConfigMap, type V1Deployment } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimCluster, type SimCluster } from './index.js';

// @kubernetes/client-node against the embedded cluster in virtual time: nothing happens to pods
// until the test advances the clock.

let cluster: SimCluster;
let kc: KubeConfig;

beforeEach(async () => {
  cluster = await startSimCluster({ nodes: 2 });
  kc = new KubeConfig();
  kc.loadFromString(cluster.kubeconfig);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'shop' } } });
});
afterEach(async () => {
  await cluster.close();
});

function deployment(name: string, replicas: number): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `shop/${name}:1` }] } },
    },
  };
}

describe('embedded cluster with @kubernetes/client-node', () => {
  it('serves the typed APIs: create, list with selectors, read, JSON-patch, delete', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'a', labels: { tier: 'web' } }, data: { k: 'v' } } });
    await core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'b', labels: { tier: 'db' } } } });

    const web = await core.listNamespacedConfigMap({ namespace: 'shop', labelSelector: 'tier in (web)' });
    const byName = await core.listNamespacedConfigMap({ namespace: 'shop', fieldSelector: 'metadata.name=b' });
    // Typed patch* calls send JSON Patch by default.
    const patched = await core.patchNamespacedConfigMap({ namespace: 'shop', name: 'a', body: [{ op: 'replace', path: '/data/k', value: 'w' }] });
    await core.deleteNamespacedConfigMap({ namespace: 'shop', name: 'b' });
    const after = await core.listNamespacedConfigMap({ namespace: 'shop' });

    expect(web.items.map((c) => c.metadata?.name)).toEqual(['a']);
    expect(byName.items.map((c) => c.metadata?.name)).toEqual(['b']);
    expect(patched.data).toEqual({ k: 'w' });
    expect(after.items.map((c) => c.metadata?.name)).toEqual(['a']);
  });

  it('rolls a deployment out as virtual time advances', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('cart', 3) });

    const before = await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' });
    await cluster.advance(5_000);
    const after = await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' });

    expect(before.status?.availableReplicas ?? 0).toBe(0);
    expect(after.status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, observedGeneration: 1 });
  });

  it('reports API errors with the real status codes and reasons', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const created = await core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'c' } } });
    await core.replaceNamespacedConfigMap({ namespace: 'shop', name: 'c', body: { ...created, data: { x: '1' } } });

    const failures = await Promise.all([
      core.readNamespacedConfigMap({ namespace: 'shop', name: 'missing' }).catch((e: unknown) => e),
      core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'c' } } }).catch((e: unknown) => e),
      core.replaceNamespacedConfigMap({ namespace: 'shop', name: 'c', body: { ...created, data: { x: 'stale' } } }).catch((e: unknown) => e),
      core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'd' } } }).catch((e: unknown) => e),
    ]);

    const summary = failures.map((e) => {
      const body = JSON.parse(String((e as ApiException<string>).body)) as { reason: string; code: number };
      return [(e as ApiException<string>).code, body.reason];
    });
    expect(summary).toEqual([
      [404, 'NotFound'],
      [409, 'AlreadyExists'],
      [409, 'Conflict'],
      [404, 'NotFound'],
    ]);
  });

  it('applies generically with KubernetesObjectApi; strategic merge is refused for custom resources with 415', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    await objects.create(deployment('web', 1));
    // client-node serializes a CRD by its model's names: the schema's preserve-unknown-fields is
    // x_kubernetes_preserve_unknown_fields here (the JSON spelling would be dropped on the way out,
    // and the server would prune the Server's spec as a real one does).
    await objects.create({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'servers.policy.linkerd.io' },
      spec: { group: 'policy.linkerd.io', scope: 'Namespaced', names: { kind: 'Server', plural: 'servers', singular: 'server' }, versions: [{ name: 'v1beta3', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }] },
    } as never);
    const server = { apiVersion: 'policy.linkerd.io/v1beta3', kind: 'Server', metadata: { name: 'api', namespace: 'shop' }, spec: { port: 8080 } };
    await objects.create(server);

    // KubernetesObjectApi.patch defaults to strategic merge patch.
    const scaled = await objects.patch({ ...deployment('web', 2), spec: { replicas: 2 } } as V1Deployment);
    const refused = (await objects.patch({ ...server, spec: { port: 9090 } }).catch((e: unknown) => e)) as ApiException<string>;
    const merged = await objects.patch({ ...server, spec: { port: 9090 } }, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    const applied = await objects.patch({ ...server, spec: { port: 9191 } }, undefined, undefined, 'meshdrill', true, PatchStrategy.ServerSideApply);

    expect((scaled as V1Deployment).spec?.replicas).toBe(2);
    expect((scaled as V1Deployment).spec?.template.spec?.containers[0]?.name).toBe('web');
    expect(refused.code).toBe(415);
    expect((merged as unknown as { spec: { port: number } }).spec.port).toBe(9090);
    expect((applied as unknown as { spec: { port: number } }).spec.port).toBe(9191);
  });

  it('delivers watch events in order and informer callbacks', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const events: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const controller = await new Watch(kc).watch(
      '/api/v1/namespaces/shop/configmaps',
      {},
      (phase: string, object: V1ConfigMap) => {
        events.push(`${phase} ${object.metadata?.name ?? ''}`);
        if (phase === 'DELETED') done();
      },
      () => undefined,
    );
    const informer = makeInformer(kc, '/api/v1/namespaces/shop/configmaps', () => core.listNamespacedConfigMap({ namespace: 'shop' }));
    const informed: string[] = [];
    informer.on('add', (o) => informed.push(`add ${o.metadata?.name ?? ''}`));
    await informer.start();

    await core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'w' } } });
    await core.patchNamespacedConfigMap({ namespace: 'shop', name: 'w', body: [{ op: 'add', path: '/data', value: { a: 'b' } }] });
    await core.deleteNamespacedConfigMap({ namespace: 'shop', name: 'w' });
    await finished;
    await informer.stop();
    controller.abort();

    expect(events).toEqual(['ADDED w', 'MODIFIED w', 'DELETED w']);
    expect(informed).toContain('add w');
  });
});
