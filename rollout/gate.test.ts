import { afterEach, describe, expect, it } from 'vitest';
import { MICRO } from '../test/helpers/twin-lab.js';
import { startMeshLab, type MeshLab } from '../test/helpers/mesh-lab.js';
import { TrafficModel } from '../clusters/index.js';
import { Slo, ClientViewSource, EmbeddedSource } from '../slo/index.js';
import { runGate, type GateEnvironment } from './gate.js';
import { RolloutPlan } from './schema.js';
import { checkRequirements } from './requirements.js';
import { planStage } from './stage.js';

const labs: MeshLab[] = [];
afterEach(async () => {
  for (const lab of labs.splice(0)) await lab.close();
});

function plan(mesh: 'istio' | 'linkerd', stage: number, options: { strictRequires?: boolean } = {}): RolloutPlan {
  return RolloutPlan.parse({
    apiVersion: 'meshdrill.dev/v1alpha1',
    kind: 'RolloutPlan',
    metadata: { name: 'micro' },
    spec: {
      mesh: { name: mesh },
      baseline: { window: '5m' },
      coolDown: '1h',
      stages: [
        { name: 'server', namespaces: ['server'], mtls: 'PERMISSIVE', bake: '10m', gates: [{ sli: 'latency-p99', scope: { namespace: 'server' }, objective: '<= baseline + 10ms' }, { slo: 'legacy-calls', key: true }] },
        { name: 'client', namespaces: ['client'], bake: '10m', gates: [{ sli: 'success-rate', scope: { namespace: 'server' }, objective: '>= 99%' }] },
        { name: 'strict', mtls: 'STRICT', bake: '10m', requires: options.strictRequires === false ? [] : ['all-callers-meshed', 'control-plane-ready'], gates: [{ slo: 'legacy-calls', key: true }] },
      ],
    },
    status: { stage },
  });
}

const SLOS = [Slo.parse({ apiVersion: 'meshdrill.dev/v1alpha1', kind: 'SLO', metadata: { name: 'legacy-calls' }, spec: { sli: 'success-rate', scope: { edge: { from: 'legacy/batch', to: 'server/api' } }, objective: '>= 99%', source: 'client', minSamples: 20 } })];

async function environment(mesh: 'istio' | 'linkerd'): Promise<GateEnvironment & { lab: MeshLab }> {
  const lab = await startMeshLab({ mesh, topology: MICRO, seed: 3 });
  labs.push(lab);
  new TrafficModel(lab.twin, MICRO, { tickMs: 5_000 }).start();
  return {
    lab,
    kube: lab.kube,
    adapter: lab.adapter,
    sources: { mesh: new EmbeddedSource(lab.twin.metrics, mesh), client: new ClientViewSource(lab.twin.metrics) },
    now: () => lab.cluster.clock.now(),
    wait: (ms) => lab.cluster.advance(ms),
    wallClock: () => 1_000_000,
  };
}

describe.each(['istio', 'linkerd'] as const)('rollout gate engine on %s', (mesh) => {
  it('takes an unmeshed baseline from the callers\' view, bakes the stage, and advances on passing gates', async () => {
    const env = await environment(mesh);

    const run = await runGate({ plan: plan(mesh, 1), topology: MICRO, slos: SLOS, measurements: 4 }, env);

    expect(run.decision.verdict).toBe('advance');
    expect(run.targetStage).toBe(2);
    const latency = run.gates.find((g) => g.name === 'latency-p99 server')!;
    expect(latency.baseline?.source).toBe('client-view');
    expect(latency.measurements.map((m) => m.verdict)).toEqual(['Successful', 'Successful', 'Successful', 'Successful']);
    expect(latency.measurements[0]!.source).toBe('embedded');
    expect(run.changes.map((c) => `${c.action} ${c.target}`)).toContain('mesh Namespace/server');
    expect(run.events.map((e) => e.type)).toEqual(['baseline', 'stage-applied', 'measurement', 'measurement', 'measurement', 'measurement', 'decision']);
  });

  it('holds the advance to STRICT while a legacy caller speaks plaintext, naming the namespace and share', async () => {
    const env = await environment(mesh);

    const run = await runGate({ plan: plan(mesh, 2), topology: MICRO, slos: SLOS }, env);

    expect(run.decision.verdict).toBe('hold');
    expect(run.requirements.map((r) => [r.requirement, r.holds])).toEqual([['all-callers-meshed', false], ['control-plane-ready', true]]);
    // The entry service takes the load generator's plaintext too: STRICT there would cut it off.
    expect(run.requirements[0]!.reason).toMatch(/^client: 100% of requests arrived in plaintext; server: [\d.]+% of requests arrived in plaintext$/);
    expect(run.decision.reasons.at(-1)).toMatch(/^stage 3 \(strict\) requires all-callers-meshed, which does not hold: client: /);
  });

  it('reverts a live STRICT stage whose key gate sees the legacy caller reset, however quiet the proxies are', async () => {
    const env = await environment(mesh);

    const run = await runGate({ plan: plan(mesh, 3, { strictRequires: false }), topology: MICRO, slos: SLOS }, env);

    expect(run.decision.verdict).toBe('revert');
    expect(run.targetStage).toBe(2);
    expect(run.gates[0]!.measurements.every((m) => m.verdict === 'Failed' && m.value === 0 && m.source === 'client-view')).toBe(true);
  });

  it('holds instead of advancing during the cool-down after a revert', async () => {
    const env = await environment(mesh);

    const run = await runGate({ plan: plan(mesh, 1), topology: MICRO, slos: SLOS, coolDownUntil: 2_000_000 }, env);

    expect(run.decision.verdict).toBe('hold');
    expect(run.decision.reasons).toEqual(['every gate passed, but the plan is cooling down after a revert until 1970-01-01T00:33:20.000Z']);
  });
});

describe('stage requirements', () => {
  it('finds no evidence in silence, and an unready control plane', async () => {
    const env = await environment('istio');
    const next = planStage(plan('istio', 3), MICRO, 3, env.adapter);
    const quiet = { from: env.now() - 1, to: env.now() };
    await env.lab.kube.mergePatch('apps/v1', 'Deployment', env.adapter.controlPlane.namespace, 'istiod', { spec: { replicas: 0 } });
    await env.wait(60_000);

    const checks = await checkRequirements(['all-callers-meshed', 'control-plane-ready'], { next, sources: env.sources, window: quiet, kube: env.kube, adapter: env.adapter });

    expect(checks[0]).toEqual({ requirement: 'all-callers-meshed', holds: false, reason: 'client: no requests measured, so no evidence that every caller is meshed; server: no requests measured, so no evidence that every caller is meshed' });
    expect(checks[1]).toMatchObject({ requirement: 'control-plane-ready', holds: false });
  });
});
