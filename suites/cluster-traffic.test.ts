import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient, startSimCluster, type SimCluster } from '../clusters/index.js';
import { Topology } from '../model/index.js';
import { InClusterTraffic, TRAFFIC_DEADLINE_SECONDS } from './cluster-traffic.js';

const TOPOLOGY = Topology.parse({
  apiVersion: 'meshdrill.dev/v1alpha1',
  kind: 'Topology',
  metadata: { name: 't' },
  spec: {
    entrypoints: [
      { service: 'shop/web', rps: 30 },
      { service: 'legacy/batch', rps: 10 },
    ],
    namespaces: [
      { name: 'shop', services: [{ name: 'web', calls: [{ to: 'pay/api' }] }] },
      { name: 'pay', services: [{ name: 'api' }] },
      { name: 'legacy', meshable: false, services: [{ name: 'batch', calls: [{ to: 'pay/api' }] }] },
    ],
  },
});

const sims: SimCluster[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
});

describe('traffic on a real cluster (k6 in the cluster), against the embedded API server', () => {
  it('runs k6 outside the mesh at the entrypoints\' rates, replaces it at a new rate, and takes it all away', async () => {
    const sim = await startSimCluster({ time: 'virtual' });
    sims.push(sim);
    const kube = createKubeClient(sim.kubeconfig);
    const logs: string[] = [];
    const traffic = new InClusterTraffic(kube, { runId: 'run-7', logger: { info: (_m, msg) => void logs.push(msg) }, wait: (ms) => sim.advance(ms) });
    const script = async () => String(((await kube.get('v1', 'ConfigMap', 'meshdrill-load', 'meshdrill-load-traffic'))?.['data'] as Record<string, string>)['script.js']);
    const rates = (text: string) => [...text.matchAll(/"executor": "constant-arrival-rate",\s+"rate": (\d+)/g)].map((m) => Number(m[1]));

    await traffic.start(TOPOLOGY);
    const job = await kube.get('batch/v1', 'Job', 'meshdrill-load', 'meshdrill-load-traffic');
    const declared = rates(await script());
    await traffic.setRate(80);
    const doubled = rates(await script());
    await traffic.stop();

    expect(declared).toEqual([30, 10]);
    expect(doubled).toEqual([60, 20]);
    expect(job?.['spec']).toMatchObject({ activeDeadlineSeconds: TRAFFIC_DEADLINE_SECONDS, template: { metadata: { labels: { 'sidecar.istio.io/inject': 'false', 'meshdrill.dev/run-id': 'run-7' }, annotations: { 'linkerd.io/inject': 'disabled' } } } });
    expect(logs[0]).toBe('traffic: k6 in meshdrill-load at 30 rps into shop/web, 10 rps into legacy/batch');
    expect(await kube.get('batch/v1', 'Job', 'meshdrill-load', 'meshdrill-load-traffic')).toBeUndefined();
    expect(await kube.get('v1', 'Namespace', undefined, 'meshdrill-load')).toBeUndefined();
  });
});
