import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient, startSimCluster, type SimCluster } from '../../clusters/index.js';
import { TWO_ENTRYPOINTS_2500_RPS } from '../../test/helpers/topologies.js';
import { kubectlAvailable, kubectlFor } from '../../test/helpers/kubectl.js';
import { planLoad } from '../plan.js';
import { executionSegments, k6TestRunManifests, ratesPerRunner, runnersFor } from './distributed.js';

// Load beyond one pod on the k6-operator: a TestRun of N runners, k6 splitting every arrival rate
// across them by execution segment; its manifest held to the TestRun CRD's schema by the
// embedded API server, as kubectl apply --validate=strict sends it.
const CRD = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'k6-operator', 'testruns-crd.yaml');
const hasKubectl = await kubectlAvailable();
const sims: SimCluster[] = [];
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
});

const TOPOLOGY = TWO_ENTRYPOINTS_2500_RPS;

describe('load/k6: distributed runs on the k6-operator', () => {
  it('sizes the runners by rate and by VUs, splits each rate by execution segment, and refuses more than the limit', () => {
    const big = planLoad('big', { duration: '10m' }, TOPOLOGY);
    const small = planLoad('small', { duration: '10m', rps: 100 }, TOPOLOGY);

    const three = runnersFor(big);
    const one = runnersFor(small);
    const byVus = runnersFor(big, { maxRpsPerRunner: 10_000, maxVusPerRunner: 300, maxRunners: 50 });
    const tooMany = (() => {
      try {
        return runnersFor(big, { maxRpsPerRunner: 100, maxVusPerRunner: 10_000, maxRunners: 10 });
      } catch (error) {
        return (error as Error).message;
      }
    })();
    const split = ratesPerRunner(big, 4);

    expect(three).toEqual({ parallelism: 3, why: '2500 rps at most 1000 per runner' });
    expect(one).toEqual({ parallelism: 1, why: '100 rps and up to 52 VUs fit one runner' });
    expect(byVus).toEqual({ parallelism: 4, why: 'up to 1000 VUs at most 300 per runner' });
    expect(tooMany).toBe('load plan "big" needs 25 k6 runners (2500 rps, up to 1000 VUs) but at most 10 are allowed; lower the rate or raise the limit');
    expect(executionSegments(4)).toEqual(['0:1/4', '1/4:2/4', '2/4:3/4', '3/4:1']);
    expect(split).toEqual([[500, 125], [500, 125], [500, 125], [500, 125]]);
    expect(split.reduce((n, r) => n + r[0]! + r[1]!, 0)).toBe(2_500);
  });

  it.skipIf(!hasKubectl)('a TestRun the embedded API server accepts under the CRD\'s schema, strictly, with k6 remote-writing to Prometheus', async () => {
    const sim = await startSimCluster();
    sims.push(sim);
    const kubectl = await kubectlFor(sim.kubeconfig);
    await kubectl(['apply', '-f', CRD]);
    await kubectl(['create', 'namespace', 'meshdrill-load']);
    const manifests = k6TestRunManifests(planLoad('big', { duration: '10m' }, TOPOLOGY), { namespace: 'meshdrill-load', parallelism: 3, runId: 'gameday-1', meshed: false, remoteWrite: { url: 'http://prometheus.meshdrill-monitoring.svc:9090/api/v1/write' } });
    const wrong = { ...manifests[1]!, spec: { ...(manifests[1]!['spec'] as object), parallelism: 'three', runners: 3 } };

    const applied = await kubectl(['apply', '--validate=strict', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }));
    const refused = await kubectl(['apply', '--validate=strict', '-f', '-'], JSON.stringify(wrong));
    const stored = await createKubeClient(sim.kubeconfig).get('k6.io/v1alpha1', 'TestRun', 'meshdrill-load', 'meshdrill-load-big');

    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('testrun.k6.io/meshdrill-load-big created');
    expect(refused.stderr).toContain('spec.parallelism');
    expect(stored?.['spec']).toMatchObject({ parallelism: 3, script: { configMap: { name: 'meshdrill-load-big', file: 'script.js' } }, arguments: '--quiet --tag testid=gameday-1 --out experimental-prometheus-rw', cleanup: 'post' });
    const env = ((stored?.['spec'] as { runner: { env: Array<{ name: string; value: string }> } }).runner.env);
    expect(env.map((e) => `${e.name}=${e.value}`)).toEqual(['MESHDRILL_SUMMARY=/dev/stdout', 'K6_PROMETHEUS_RW_SERVER_URL=http://prometheus.meshdrill-monitoring.svc:9090/api/v1/write', 'K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true', 'K6_PROMETHEUS_RW_PUSH_INTERVAL=5s']);
  });
});
