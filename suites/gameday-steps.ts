import { describeChange, planFault, RUN_ID_LABEL, type FaultSpec, type ObjectRef } from '../chaos/index.js';
import { isPodReady, topologyWorkloads, type KubeObject } from '../clusters/index.js';
import { meshAdapter, type MeshAdapter } from '../meshes/index.js';
import { formatDuration, parseDuration } from '../model/index.js';
import { stageRecord } from '../reports/index.js';
import { enactStage, planStage, stageDiff, type RolloutPlan } from '../rollout/index.js';
import { resolveGate } from '../slo/index.js';
import { DAY, type GameDayRun } from './gameday-run.js';
import { impactOf } from './fault-lifecycle.js';
import { SteadyStateNotMet, toEvaluation } from './hypothesis-watch.js';
import { checkReachability } from './reachability.js';
import { relaxationsLeft } from './relaxation.js';
import type { Step } from './schema.js';

export type StepResult = { status: 'ok' | 'failed' | 'inconclusive'; detail: string };
type StepVerb = 'provision' | 'install' | 'deploy' | 'stage' | 'load' | 'fault' | 'revert' | 'assert' | 'wait';

export function verbOf(step: Step): StepVerb {
  for (const verb of ['provision', 'install', 'deploy', 'stage', 'load', 'fault', 'revert', 'assert', 'wait'] as const) if (step[verb] !== undefined) return verb;
  throw new Error('a step without an action');
}

export function describeStep(step: Step): string {
  if (step.assert?.reachability && step.assert.slo === undefined && step.assert.sli === undefined) return `assert reachability (${step.assert.reachability.length} pairs)`;
  if (step.assert?.mtlsAsPlanned && step.assert.slo === undefined && step.assert.sli === undefined) return 'assert mTLS as planned';
  if (step.stage) return `stage ${step.stage.to}`;
  if (step.load) return `load ${step.load.duration}`;
  if (step.fault) return 'use' in step.fault ? `fault ${step.fault.use}` : `fault ${step.fault.type}`;
  if (step.assert) return `assert ${step.assert.slo ?? step.assert.sli ?? ''}`;
  if (step.wait) return `wait ${step.wait}`;
  if (step.revert) return `revert ${step.revert}`;
  return verbOf(step);
}

/** Runs one step; a failed check is a result, an exception is an error (infrastructure or config). */
export async function executeStep(run: GameDayRun, step: Step, index: number, name: string): Promise<StepResult> {
  switch (verbOf(step)) {
    case 'provision':
      run.cluster = await run.deps.provision(run.input.seed);
      await run.claim();
      return { status: 'ok', detail: `${run.cluster.provider} cluster` };
    case 'install':
      return installStep(run, step.install!);
    case 'deploy':
      return deployStep(run);
    case 'stage':
      return stageStep(run, step.stage!);
    case 'load':
      return loadStep(run, step.load!);
    case 'fault':
      return faultStep(run, step.fault!, index);
    case 'revert': {
      run.need('revert');
      const entry = run.faults.active(step.revert!);
      if (!entry) throw new Error(`revert ${step.revert}: no fault of that name is in (it was never injected, or its duration already ended)`);
      await run.faults.revert(entry);
      return { status: 'ok', detail: `reverted ${step.revert}` };
    }
    case 'assert':
      return assertStep(run, step.assert!, index, name);
    case 'wait':
      run.need('wait');
      await run.pass(parseDuration(step.wait!) ?? 0);
      return { status: 'ok', detail: `waited ${step.wait}` };
  }
}

async function installStep(run: GameDayRun, install: NonNullable<Step['install']>): Promise<StepResult> {
  const c = run.need('install');
  if (install.mesh) run.adapter = meshAdapter(install.mesh.name, install.mesh.mode, install.mesh.revision);
  const adapter = run.adapter;
  run.certLifetimeMs = install.certLifetime ? (parseDuration(install.certLifetime) ?? DAY) : DAY;
  if (c.existing) {
    // An existing cluster's mesh belongs to its owners: meshdrill checks it is there and ready.
    const pods = await c.kube.list('v1', 'Pod', { namespace: adapter.controlPlane.namespace });
    const ready = pods.filter(isPodReady);
    if (ready.length === 0) throw new Error(`${adapter.name} is not running in ${adapter.controlPlane.namespace} on this cluster; meshdrill does not install onto existing clusters — install it first`);
    run.watch.sources = c.sources(adapter.name, adapter.mode);
    return { status: 'ok', detail: `${adapter.name} found: ${ready.length} ready control-plane pods` };
  }
  if (c.installMesh) await c.installMesh(adapter, run.certLifetimeMs);
  else await run.apply(await adapter.installManifests({ now: new Date(c.now()), certLifetimeMs: run.certLifetimeMs }), `install ${adapter.name}`);
  const replicas = install.controlPlaneReplicas;
  if (replicas !== undefined && replicas > 1) {
    const why = `${adapter.name} control plane at ${replicas} replicas`;
    const ns = adapter.controlPlane.namespace;
    for (const component of adapter.controlPlane.components) await run.patch({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: component.name }, { spec: { replicas } }, why);
    await run.apply(disruptionBudgets(adapter), why);
  }
  await c.advance(5_000);
  run.watch.sources = c.sources(adapter.name, adapter.mode);
  return { status: 'ok', detail: `${adapter.name} ${adapter.mode}, certificates live ${formatDuration(run.certLifetimeMs)}${replicas && replicas > 1 ? `, control plane at ${replicas} replicas with PodDisruptionBudgets` : ''}` };
}

/**
 * A PodDisruptionBudget per control-plane component keeping one replica available through
 * voluntary disruptions (node drains), as istiod's chart does (pdb.minAvailable 1) and Linkerd's
 * HA values do (enablePodDisruptionBudget). The embedded cluster stores them; nothing drains there.
 */
function disruptionBudgets(adapter: MeshAdapter): KubeObject[] {
  const ns = adapter.controlPlane.namespace;
  return adapter.controlPlane.components.map((component): KubeObject => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: component.name, namespace: ns }, spec: { minAvailable: 1, selector: { matchLabels: component.labels } } }));
}

async function deployStep(run: GameDayRun): Promise<StepResult> {
  const c = run.need('deploy');
  const { topology } = run.input;
  const objects = topologyWorkloads(topology);
  await run.apply(objects, `deploy ${topology.metadata.name}`);
  await c.advance(10_000);
  await c.startTraffic(topology);
  run.stage = planStage(run.input.plan ?? emptyPlan(), topology, 0, run.adapter);
  run.stageLog.push(stageRecord(run.stage, run.iso(c.now())));
  return { status: 'ok', detail: `${topology.metadata.name}: ${objects.length} objects, traffic started` };
}

async function stageStep(run: GameDayRun, stage: NonNullable<Step['stage']>): Promise<StepResult> {
  const c = run.need('stage');
  const { plan, topology } = run.input;
  if (!plan) throw new Error('a stage step needs the game day\'s rollout plan (spec.plan)');
  const from = run.stage ?? planStage(plan, topology, 0, run.adapter);
  const to = stage.to === 'next' ? Math.min(from.stage + 1, plan.spec.stages.length) : stage.to === 'current' ? plan.status.stage : stage.to;
  if (to > plan.spec.stages.length) throw new Error(`stage ${to} does not exist; the plan has ${plan.spec.stages.length}`);
  const target = planStage(plan, topology, to, run.adapter);
  const moved = new Set(stageDiff(from, target).map((d) => d.namespace));
  const deployments = (await Promise.all([...moved].map((ns) => c.kube.list('apps/v1', 'Deployment', { namespace: ns })))).flat();
  await run.track(
    [
      ...[...moved].map((ns): ObjectRef => ({ apiVersion: 'v1', kind: 'Namespace', name: ns })),
      ...[...from.policies, ...target.policies, ...target.removedPolicies].map((o): ObjectRef => ({ apiVersion: o.apiVersion, kind: o.kind, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name })),
      ...deployments.map((d): ObjectRef => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: d.metadata.namespace!, name: d.metadata.name })),
    ],
    `stage ${to}`,
  );
  const changes = await enactStage(c.kube, run.adapter, from, target, new Date(c.now()), { labels: { [RUN_ID_LABEL]: run.input.runId } });
  run.stage = target;
  run.stageLog.push(stageRecord(target, run.iso(c.now())));
  await run.pass(60_000);
  return { status: 'ok', detail: `stage ${to}${target.current ? ` (${target.current.name})` : ''}: ${changes.map((x) => `${x.action} ${x.target}`).join(', ') || 'no change'}` };
}

async function loadStep(run: GameDayRun, load: NonNullable<Step['load']>): Promise<StepResult> {
  const c = run.need('load');
  await c.setTrafficRate(load.rps);
  await run.pass(parseDuration(load.warmUp) ?? 30_000);
  const measuredFrom = c.now();
  await run.pass(parseDuration(load.duration) ?? 0);
  await c.setTrafficRate(undefined);
  if (load.baseline) {
    run.watch.setBaseline({ from: measuredFrom, to: c.now() });
    run.log.note('baseline', `baseline window: ${run.iso(measuredFrom)} to ${run.iso(c.now())}`);
  }
  return { status: 'ok', detail: `${load.duration}${load.rps ? ` at ${load.rps} rps` : ''}${load.baseline ? ' (the baseline)' : ''}` };
}

async function faultStep(run: GameDayRun, fault: NonNullable<Step['fault']>, index: number): Promise<StepResult> {
  const c = run.need('fault');
  const faultSpec = resolveFault(fault, run.input.faults);
  const plan = await planFault(faultSpec, { adapter: run.adapter, kube: c.kube, runId: run.input.runId, now: new Date(c.now()), ...(c.nodes ? { nodes: c.nodes.nodes() } : {}), random: seeded(run.input.seed + index) });
  run.log.note('fault-plan', `plan for ${plan.name}: ${plan.summary}; ${plan.changes.map(describeChange).join('; ')}${plan.notes.length ? ` (${plan.notes.join(' ')})` : ''}`);
  // No steady state, no experiment: before the first fault, the hypotheses must hold.
  if (run.faults.records.length === 0 && !run.steadyStateProven) {
    const problems = await run.watch.steadyStateProblems(c.now(), run.steadyStateWindowMs);
    if (problems.length > 0 && !run.deps.dryRun) throw new SteadyStateNotMet(`the steady state does not hold before the first fault, so no fault was injected: ${problems.join('; ')}`);
    if (problems.length > 0) run.log.note('steady-state', `DRY-RUN: the steady state does not hold (${problems.join('; ')}); a real run would inject nothing`);
    else run.log.note('steady-state', `steady state holds: ${run.watch.hypotheses.length} hypothes${run.watch.hypotheses.length === 1 ? 'is' : 'es'} over the window before the first fault`);
    run.steadyStateProven = true;
  }
  if (run.deps.dryRun) return { status: 'ok', detail: `DRY-RUN: would inject ${plan.summary}` };
  const entry = await run.faults.inject(plan, { executor: run.executor(), journal: run.journal!, now: () => c.now() });
  const duration = faultSpec.duration ? parseDuration(faultSpec.duration) : undefined;
  let status: StepResult['status'] = 'ok';
  if (duration !== undefined) {
    await run.pass(duration);
    const margin = await run.watch.sources?.mesh.measure('cert-min-remaining', {}, { from: c.now() - run.interval, to: c.now() });
    entry.record.impact = impactOf(run.watch.hypotheses, entry.fault.injectedAt, c.now(), run.certLifetimeMs, margin && Number.isFinite(margin.value) ? margin.value : undefined);
    await run.faults.revert(entry);
    // The steady state must come back: a revert that does not restore it fails the run.
    // Judged over the second half of a settle period, a window wholly after the revert.
    // Without hypotheses there is no steady state to wait for.
    const settle = run.watch.hypotheses.length === 0 ? 0 : Math.min(5 * 60_000, Math.max(2 * run.interval, duration));
    await run.pass(settle);
    const to = c.now();
    const after = await run.watch.failingOver({ from: to - settle / 2, to }, 10);
    if (after.length) {
      status = 'failed';
      run.log.end('fail', `the steady state did not return after reverting ${plan.name}: ${after[0]}`);
    }
  }
  return { status, detail: `${plan.summary}${duration !== undefined ? ` for ${faultSpec.duration}` : ' until the end of the run'}${entry.record.impact ? `; ${entry.record.impact}` : ''}` };
}

async function assertStep(run: GameDayRun, assert: NonNullable<Step['assert']>, index: number, name: string): Promise<StepResult> {
  const c = run.need('assert');
  let status: StepResult['status'] = 'ok';
  let detail = '';
  const expected = assert.reachability ?? [];
  if (expected.length > 0) {
    const results = await checkReachability(expected, run.watch.sources!, c.now());
    const transport = (mtls: boolean | undefined) => (mtls === undefined ? '' : mtls ? ' with mTLS' : ' in plaintext');
    for (const r of results) {
      run.assertions.push({ step: index, evaluation: { at: run.iso(c.now()), gate: `reachability ${r.from} → ${r.to} ${r.expect}${transport(r.mtls)}`, verdict: r.holds ? 'Successful' : 'Failed', value: null, threshold: null, samples: 0, reason: r.observed } });
    }
    const broken = results.filter((r) => !r.holds);
    detail = `reachability: ${results.length - broken.length} of ${results.length} pairs as expected`;
    if (broken.length) {
      status = 'failed';
      run.log.verdict = 'fail';
      run.log.reasons.push(...broken.map((r) => `step ${index + 1} (${name}): ${r.from} → ${r.to} expected ${r.expect}${transport(r.mtls)}; observed ${r.observed}`));
    }
    if (assert.slo === undefined && assert.sli === undefined && !assert.mtlsAsPlanned) return { status, detail };
  }
  if (assert.mtlsAsPlanned) {
    const left = await relaxationsLeft(c.kube, run.adapter, run.stage);
    run.assertions.push({ step: index, evaluation: { at: run.iso(c.now()), gate: 'mTLS as planned', verdict: left.length === 0 ? 'Successful' : 'Failed', value: null, threshold: null, samples: 0, reason: left.length === 0 ? `the mesh's mTLS policies are what stage ${run.stage?.stage ?? 0} renders` : left.join('; ') } });
    detail = `${detail ? `${detail}; ` : ''}mTLS as planned: ${left.length === 0 ? 'yes' : left.join('; ')}`;
    if (left.length > 0) {
      status = 'failed';
      run.log.end('fail', `step ${index + 1} (${name}): a relaxation outlived the incident: ${left.join('; ')}`);
    }
    if (assert.slo === undefined && assert.sli === undefined) return { status, detail };
  }
  const gate = resolveGate(assert, run.input.slos);
  const e = await run.watch.judge(gate, c.now());
  run.assertions.push({ step: index, evaluation: toEvaluation(gate, e) });
  detail = `${detail ? `${detail}; ` : ''}${gate.name} ${gate.objective}: ${e.verdict} — ${e.reason}`;
  const what = `step ${index + 1} (${name}): ${gate.name} ${e.verdict.toLowerCase()}: ${e.reason}`;
  // No data is not a pass: it fails the assertion unless the step says what else it means.
  const onNoData = e.verdict === 'Inconclusive' ? (assert.onNoData ?? 'fail') : 'fail';
  if (e.verdict === 'Successful') return { status, detail };
  if (onNoData === 'ignore') {
    run.log.warnings.push(`${what}; ignored (onNoData: ignore)`);
    return { status, detail: `${detail} (ignored: onNoData: ignore)` };
  }
  if (onNoData === 'inconclusive') {
    run.log.raise('inconclusive', `${what} (onNoData: inconclusive)`);
    return { status: 'inconclusive', detail };
  }
  run.log.end('fail', what);
  return { status: 'failed', detail };
}

function resolveFault(fault: NonNullable<Step['fault']>, documents: Map<string, FaultSpec>): FaultSpec {
  if (!('use' in fault)) return fault;
  const found = documents.get(fault.use);
  if (!found) throw new Error(`no Fault document "${fault.use}"`);
  return { ...found, name: found.name ?? fault.use, ...(fault.duration ? { duration: fault.duration } : {}) };
}

function emptyPlan(): RolloutPlan {
  return { apiVersion: 'meshdrill.dev/v1alpha1', kind: 'RolloutPlan', metadata: { name: 'none' }, spec: { mesh: { name: 'istio', mode: 'sidecar' }, baseline: { window: '10m' }, coolDown: '1h', stages: [] }, status: { stage: 0 } } as unknown as RolloutPlan;
}

/** A small deterministic generator (Park–Miller) for fault choices. */
function seeded(seed: number): () => number {
  let state = (seed % 2147483646) + 1;
  return () => {
    state = (state * 16807) % 2147483647;
    return (state - 1) / 2147483646;
  };
}
