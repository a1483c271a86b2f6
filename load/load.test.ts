import { afterEach, describe, expect, it } from 'vitest';
import { Lab, MICRO } from '../test/helpers/twin-lab.js';
import { Slo } from '../slo/index.js';
import { planLoad } from './plan.js';
import { SimLoadRunner } from './sim-runner.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

const slo = (name: string, sli: string, objective: string, scope: Record<string, unknown> = {}) =>
  Slo.parse({ apiVersion: 'meshdrill.dev/v1alpha1', kind: 'SLO', metadata: { name }, spec: { sli, objective, scope } });

describe('load', () => {
  it('plans load from the entrypoints, scaled to the spec\'s rate, with k6 thresholds from SLOs it can see', () => {
    const plan = planLoad('micro', { duration: '5m', rps: 60.2 }, MICRO, [
      slo('mesh-availability', 'success-rate', '>= 99.9%'),
      slo('caller-latency', 'latency-p99', '<= 250ms', { service: 'client/caller' }),
      slo('inner', 'latency-p99', '<= 100ms', { service: 'server/api' }),
      slo('relative', 'latency-p99', '<= baseline + 5ms'),
    ]);

    expect(plan.targets.map((t) => [t.service, t.rps])).toEqual([
      ['client/caller', 40],
      ['legacy/batch', 20],
      ['client/rare', 0.2],
    ]);
    expect(plan).toMatchObject({ durationMs: 300_000, warmUpMs: 30_000 });
    expect(plan.thresholds).toEqual([
      { from: 'mesh-availability', metric: 'http_req_failed', expression: 'rate<=0.001' },
      { from: 'caller-latency', service: 'client/caller', metric: 'http_req_duration', expression: 'p(99)<=250' },
    ]);
  });

  it('drives the embedded traffic at the plan\'s rate in virtual time, warm-up excluded', async () => {
    lab = await Lab.start('istio');
    await lab.mesh('client');
    lab.traffic.stop();
    const runner = new SimLoadRunner(lab.lab.cluster, lab.lab.twin, lab.traffic);

    const result = await runner.run(planLoad('steady', { duration: '2m', warmUp: '30s', rps: 100 }, MICRO, [slo('availability', 'success-rate', '>= 99%')]));

    // 100 rps for 120 s after the warm-up.
    expect(result.requests).toBeCloseTo(12_000, 0);
    expect(result.window.to - result.window.from).toBe(120_000);
    expect(result.successRate).toBe(100);
    expect(result.latency.p99).toBeGreaterThan(0);
    expect(result.thresholds.map((t) => t.passed)).toEqual([true]);
    expect(result.infrastructureProblem).toBeUndefined();
  });

  it('reports a broken environment as an infrastructure problem, not as a latency result', async () => {
    lab = await Lab.start('istio');
    await lab.mesh('client');
    // The load generator is outside the mesh: STRICT on its entry namespace resets every connection.
    await lab.mtls('client', 'STRICT');
    lab.traffic.stop();
    const runner = new SimLoadRunner(lab.lab.cluster, lab.lab.twin, lab.traffic);

    const result = await runner.run(planLoad('broken', { duration: '1m', warmUp: '30s' }, MICRO));

    expect(result.infrastructureProblem).toMatch(/^\d+\.\d% of warm-up requests got no response \(connection errors\); the environment is broken, not slow$/);
    expect(result.connectionErrors).toBeGreaterThan(0);
  });
});
