import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient, startSimCluster, type SimCluster } from '../../clusters/index.js';
import { ClusterError } from '../../core/index.js';
import type { LoadPlan } from '../types.js';
import { K6JobRunner } from './job-runner.js';

const SUMMARY = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'k6', 'handle-summary.json');
const PLAN: LoadPlan = {
  name: 'in-cluster',
  targets: [{ service: 'ingress/gateway', url: 'http://gateway.ingress.svc.cluster.local:8080/', rps: 200 }],
  durationMs: 60_000,
  rampUpMs: 0,
  warmUpMs: 10_000,
  thresholds: [{ metric: 'http_req_failed', expression: 'rate<=0.001', service: 'ingress/gateway', from: 'availability' }],
  extensions: [],
  k6Version: 'v1.3.0',
};

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** Plays the k6 process on the embedded cluster: once the Job's pod runs, it ends with `exitCode` and `output`. */
async function finishJobPod(sim: SimCluster, exitCode: number, output: string): Promise<void> {
  const kube = createKubeClient(sim.kubeconfig);
  for (;;) {
    const pods = await kube.list('v1', 'Pod', { namespace: 'default', labelSelector: 'job-name=meshdrill-load-in-cluster' });
    const running = pods.find((p) => (p['status'] as { phase?: string } | undefined)?.phase === 'Running');
    if (running) {
      await fetch(`${sim.url}/sim/v1/pods/default/${running.metadata.name}/terminate?exitCode=${exitCode}`, { method: 'POST', body: output });
      return;
    }
    await sim.clock.sleep(50);
  }
}

describe('load/k6 in-cluster Job', () => {
  it.each([
    [0, false],
    [99, true],
  ])('applies the Job, reads exit %i and the summary from the pod\'s log, and cleans up', async (exit) => {
    cluster = await startSimCluster({ time: 'real', podStartDelayMs: 20 });
    const sim = cluster;
    const kube = createKubeClient(sim.kubeconfig);
    const runner = new K6JobRunner(kube, { namespace: 'default', meshed: false, runId: 'r1', sleep: (ms) => sim.clock.sleep(ms), now: () => sim.clock.now(), pollMs: 50 });
    const summary = (await readFile(SUMMARY, 'utf8')).replace(/\n\s*/g, '');

    const [result] = await Promise.all([runner.run(PLAN), finishJobPod(sim, exit, `${summary}\nmeshdrill: k6 summary written\n`)]);

    expect(result).toMatchObject({ runner: 'k6-job', requests: 12000, thresholdsFailed: true });
    expect(result.thresholds.map((t) => t.passed)).toEqual([false]);
    expect(await kube.get('batch/v1', 'Job', 'default', 'meshdrill-load-in-cluster')).toBeUndefined();
    expect(await kube.get('v1', 'ConfigMap', 'default', 'meshdrill-load-in-cluster')).toBeUndefined();
  });

  it('reports another exit as an infrastructure error with the pod\'s last words', async () => {
    cluster = await startSimCluster({ time: 'real', podStartDelayMs: 20 });
    const sim = cluster;
    const runner = new K6JobRunner(createKubeClient(sim.kubeconfig), { namespace: 'default', meshed: true, runId: 'r2', sleep: (ms) => sim.clock.sleep(ms), now: () => sim.clock.now(), pollMs: 50 });

    const outcome = await Promise.all([runner.run(PLAN).catch((e: unknown) => e), finishJobPod(sim, 107, 'TypeError: http.get is not a function\n')]);

    expect(outcome[0]).toEqual(new ClusterError('k6 Job default/meshdrill-load-in-cluster failed: script exception: TypeError: http.get is not a function'));
  });
});
