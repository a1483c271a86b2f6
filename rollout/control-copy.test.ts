import { afterEach, describe, expect, it } from 'vitest';
import { MICRO } from '../test/helpers/twin-lab.js';
import { startMeshLab, type MeshLab } from '../test/helpers/mesh-lab.js';
import { TrafficModel, topologyWorkloads } from '../clusters/index.js';
import { Topology } from '../model/index.js';
import { ClientViewSource, EmbeddedSource } from '../slo/index.js';
import { controlScope, inboundRates, withControlCopy } from './control-copy.js';
import { runGate } from './gate.js';
import { RolloutPlan } from './schema.js';

const labs: MeshLab[] = [];
afterEach(async () => {
  for (const lab of labs.splice(0)) await lab.close();
});

describe('the control copy of a stage', () => {
  it('propagates entry rates along the call graph', () => {
    expect(Object.fromEntries(inboundRates(MICRO))).toEqual({ 'client/caller': 20, 'client/rare': 0.1, 'server/api': 30.1, 'legacy/batch': 10 });
  });

  it('copies the stage\'s namespaces unmeshed, keeps calls inside the copy, and feeds each copy what its original gets from outside', () => {
    const copy = withControlCopy(MICRO, ['client', 'server']);

    expect(() => Topology.parse(copy)).not.toThrow();
    const added = copy.spec.namespaces.filter((n) => n.name.endsWith('-control'));
    expect(added.map((n) => [n.name, n.meshable, n.services.map((s) => `${s.name} → ${s.calls.map((c) => c.to).join(',') || '-'}`)])).toEqual([
      ['client-control', false, ['caller → server-control/api', 'rare → server-control/api']],
      ['server-control', false, ['api → -']],
    ]);
    // server/api's 30.1 rps: 20.1 from the copied callers (reproduced inside the copy), 10 from legacy.
    expect(copy.spec.entrypoints.filter((e) => e.service.includes('-control'))).toEqual([
      { service: 'client-control/caller', rps: 20 },
      { service: 'client-control/rare', rps: 0.1 },
      { service: 'server-control/api', rps: 10 },
    ]);
    expect(withControlCopy(MICRO, ['server']).spec.entrypoints.at(-1)).toEqual({ service: 'server-control/api', rps: 30.1 });
    // The original is untouched.
    expect(MICRO.spec.namespaces.map((n) => n.name)).toEqual(['client', 'server', 'legacy']);
  });

  it.each([
    [{ namespace: 'server' }, { namespace: 'server-control' }],
    [{ namespace: 'legacy' }, undefined],
    [{ service: 'server/api' }, { service: 'server-control/api' }],
    [{ edge: { from: 'legacy/batch', to: 'server/api' } }, { service: 'server-control/api' }],
    [{ edge: { from: 'client/caller', to: 'server/api' } }, { edge: { from: 'client-control/caller', to: 'server-control/api' } }],
    [{}, undefined],
  ])('measures %j in the copy as %j', (scope, expected) => {
    expect(controlScope(scope, ['client', 'server'])).toEqual(expected);
  });

  it('judges a stage against the copy measured over the same windows (ChAP control and experiment)', async () => {
    const served = withControlCopy(MICRO, ['server']);
    const lab = await startMeshLab({ mesh: 'istio', topology: MICRO, seed: 3 });
    labs.push(lab);
    for (const object of topologyWorkloads(served)) await lab.kube.apply(object);
    await lab.cluster.advance(10_000);
    new TrafficModel(lab.twin, served, { tickMs: 5_000 }).start();
    const plan = RolloutPlan.parse({
      apiVersion: 'meshdrill.dev/v1alpha1',
      kind: 'RolloutPlan',
      metadata: { name: 'micro' },
      spec: {
        mesh: { name: 'istio' },
        baseline: { mode: 'control' },
        stages: [{ name: 'server', namespaces: ['server'], bake: '10m', gates: [{ sli: 'latency-p99', scope: { namespace: 'server' }, objective: '<= baseline + 10ms' }, { sli: 'success-rate', scope: { service: 'server/api' }, objective: '>= baseline - 0.5%' }] }, { name: 'strict', mtls: 'STRICT', bake: '10m' }],
      },
      status: { stage: 1 },
    });

    const run = await runGate(
      { plan, topology: MICRO, slos: [], measurements: 4 },
      { kube: lab.kube, adapter: lab.adapter, sources: { mesh: new EmbeddedSource(lab.twin.metrics, 'istio'), client: new ClientViewSource(lab.twin.metrics) }, now: () => lab.cluster.clock.now(), wait: (ms) => lab.cluster.advance(ms), wallClock: () => 1_000_000 },
    );

    expect(run.decision, JSON.stringify(run.gates.map((g) => g.measurements.map((m) => `${m.verdict} ${m.reason}`)))).toMatchObject({ verdict: 'advance' });
    // No baseline window before the stage: the events go straight from the baseline note to the stage.
    expect(run.baselineWindow.to - run.baselineWindow.from).toBe(0);
    expect(run.events[0]!.message).toBe('baseline: the unmeshed control copy (server-control), measured over the same windows as stage 1');
    const latency = run.gates.find((g) => g.name === 'latency-p99 server')!;
    // Each measurement has its own baseline: the copy over the same window, from the callers' view (no proxy there).
    expect(latency.baseline?.source).toBe('client-view');
    expect(latency.baseline?.window).toEqual(latency.measurements.at(-1)!.window);
    expect(latency.baseline!.samples).toBeGreaterThan(1000);
    expect(latency.measurements.every((m) => m.baseline !== undefined && m.baseline > 20)).toBe(true);
    expect(latency.measurements.every((m) => m.verdict === 'Successful' && m.threshold === m.baseline! + 10)).toBe(true);
    // The meshed server and its unmeshed copy serve alike: within a proxy hop or two.
    expect(Math.abs(latency.measurements.at(-1)!.value - latency.measurements.at(-1)!.baseline!)).toBeLessThan(10);
  });
});
