import { describe, expect, it } from 'vitest';
import { Topology } from '../../model/index.js';
import { behaviourOf } from './behaviour.js';
import { manifestsOfText } from './manifests.js';

// What check plays is what the repo says: the topology's own Service objects must not wipe the
// annotations the repo puts on its Services (here Linkerd's retry policy).
const TOPOLOGY = Topology.parse({
  apiVersion: 'meshdrill.dev/v1alpha1',
  kind: 'Topology',
  metadata: { name: 't' },
  spec: {
    entrypoints: [{ service: 'shop/web', rps: 50 }],
    namespaces: [{ name: 'shop', services: [{ name: 'web', calls: [{ to: 'shop/api' }] }, { name: 'api', errorRate: '20%' }] }],
  },
});
const NAMESPACE = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n    linkerd.io/inject: enabled\n';
const SERVICE = (annotations: string) => `---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\n${annotations}spec:\n  selector: {app: api}\n  ports: [{name: http, port: 8080}]\n`;

describe('behaviourOf', () => {
  it('keeps the repo\'s Service annotations under the topology\'s Service: Linkerd retries lift the caller\'s success', async () => {
    const run = (annotations: string) => behaviourOf({ manifests: manifestsOfText('repo.yaml', NAMESPACE + SERVICE(annotations)).manifests, topology: TOPOLOGY, mesh: { name: 'linkerd', mode: 'sidecar' }, windowMs: 120_000 });

    const plain = (await run('')).edges.find((e) => e.to === 'shop/api')!;
    const retried = (await run('  annotations:\n    retry.linkerd.io/http: 5xx\n    retry.linkerd.io/limit: "2"\n')).edges.find((e) => e.to === 'shop/api')!;

    expect(plain.success).toBeCloseTo(80, 0);
    // Three tries at 20% failure each: 1 - 0.2^3 = 99.2%.
    expect(retried.success).toBeGreaterThan(99);
  });

  it('gives the pods the repo Deployment\'s container port names: a Linkerd Server selecting the port by that name applies', async () => {
    const deployment = `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers: [{name: api, image: shop/api:1, ports: [{name: api-http, containerPort: 8080}]}]\n`;
    // A Server with no authorization denies every caller, once it selects the port.
    const server = (port: string) => `---\napiVersion: policy.linkerd.io/v1beta3\nkind: Server\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  podSelector: {matchLabels: {app: api}}\n  port: ${port}\n`;
    const run = (yaml: string) => behaviourOf({ manifests: manifestsOfText('repo.yaml', NAMESPACE + yaml).manifests, topology: TOPOLOGY, mesh: { name: 'linkerd', mode: 'sidecar' }, windowMs: 120_000 });

    const byRepoName = (await run(deployment + server('api-http'))).edges.find((e) => e.to === 'shop/api')!;
    const byOtherName = (await run(deployment + server('metrics'))).edges.find((e) => e.to === 'shop/api')!;

    expect(byRepoName.success).toBe(0);
    expect(byOtherName.success).toBeCloseTo(80, 0);
  });
});
