import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient, startSimCluster, type KubeObject, type SimCluster } from '../clusters/index.js';
import { TWO_ENTRYPOINTS_2500_RPS } from '../test/helpers/topologies.js';
import { Topology } from '../model/index.js';

const OPERATOR_CRD = join(import.meta.dirname, '..', 'test', 'fixtures', 'k6-operator', 'testruns-crd.yaml');
const BIG = TWO_ENTRYPOINTS_2500_RPS;
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

  it('drives the topology with a TestRun where the k6-operator is installed, and with one Job where it is not', async () => {
    const log: string[] = [];
    const run = async (withOperator: boolean): Promise<KubeObject[]> => {
      const sim = await startSimCluster();
      sims.push(sim);
      const kube = createKubeClient(sim.kubeconfig);
      if (withOperator) for (const doc of parseAllDocuments(await readFile(OPERATOR_CRD, 'utf8'))) await kube.apply(doc.toJS() as KubeObject);
      const traffic = new InClusterTraffic(kube, { runId: 'gameday-1', logger: { info: (_m, message) => log.push(message) }, remoteWrite: { url: 'http://prometheus.monitoring:9090/api/v1/write' }, wait: async () => undefined });
      await traffic.start(BIG);
      return [...(await kube.list('k6.io/v1alpha1', 'TestRun', { namespace: 'meshdrill-load' }).catch(() => [])), ...(await kube.list('batch/v1', 'Job', { namespace: 'meshdrill-load' }))];
    };

    const operator = await run(true);
    const plain = await run(false);

    expect(operator.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['TestRun/meshdrill-load-traffic']);
    expect((operator[0]!['spec'] as { parallelism: number }).parallelism).toBe(3);
    expect(plain.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Job/meshdrill-load-traffic']);
    expect(JSON.stringify(plain[0])).toContain('experimental-prometheus-rw');
    expect(log).toEqual([
      'traffic: a k6-operator TestRun of 3 runners (2500 rps at most 1000 per runner) in meshdrill-load at 2000 rps into edge/gateway, 500 rps into edge/api',
      'traffic: k6 in meshdrill-load at 2000 rps into edge/gateway, 500 rps into edge/api',
    ]);
  });
});
