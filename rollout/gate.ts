import type { KubeClient } from '../clusters/index.js';
import type { MeshAdapter } from '../meshes/index.js';
import { parseDuration, type Topology } from '../model/index.js';
import { evaluate, isRelative, measureWithCallersFallback, measureGate, resolveGate, type GateSources, type ResolvedGate, type Slo, type Measurement, type Window } from '../slo/index.js';
import { controlNamespace, controlScope } from './control-copy.js';
import { decideStage, type GateHistory, type RolloutDecision } from './decide.js';
import { enactStage, type EnactedChange } from './enact.js';
import { checkRequirements, type RequirementCheck } from './requirements.js';
import type { RolloutPlan } from './schema.js';
import { planStage, type StagePlan } from './stage.js';

/** Where a gate runs: the cluster, the mesh, the SLI sources and time. */
export interface GateEnvironment {
  kube: KubeClient;
  adapter: MeshAdapter;
  sources: GateSources;
  /** The cluster's time (virtual on the embedded cluster). */
  now(): number;
  /** Lets time pass with the traffic flowing. */
  wait(ms: number): Promise<void>;
  /** Wall-clock time, for cool-downs recorded in git. */
  wallClock(): number;
  progress?(message: string): void;
}

export interface GateInput {
  plan: RolloutPlan;
  topology: Topology;
  slos: Slo[];
  /** When a revert's cool-down ends (wall clock), if one is running. */
  coolDownUntil?: number;
  /** Measurements taken over a stage's bake (Argo Rollouts' count); default 5. */
  measurements?: number;
  /** Time left for restarts and proxies to settle after a change, excluded from statistics; default 2 min. */
  settleMs?: number;
}

export interface GateEvent {
  at: number;
  type: 'stage-applied' | 'baseline' | 'measurement' | 'requirement' | 'decision';
  message: string;
}

export interface GateHistoryRecord extends GateHistory {
  gate: ResolvedGate;
  baseline?: Measurement;
}

/** Everything a gate run found: the evidence behind its verdict. */
export interface GateRun {
  plan: string;
  /** The stage the plan's status says is live, which this run measured. */
  liveStage: number;
  /** The stage the verdict moves the plan to; undefined on hold. */
  targetStage?: number;
  baselineWindow: Window;
  bakeWindow?: Window;
  gates: GateHistoryRecord[];
  requirements: RequirementCheck[];
  decision: RolloutDecision;
  changes: EnactedChange[];
  events: GateEvent[];
}

/**
 * One rollout gate, Keptn- and Argo-style: bring the cluster to the stage before the live one,
 * measure the baseline, apply the live stage, bake it under load taking measurements, decide —
 * and before proposing the next stage, check its preconditions on what was measured. Stage 0
 * (unmeshed) has no gates: its run measures the baseline and checks stage 1's preconditions.
 */
export async function runGate(input: GateInput, env: GateEnvironment): Promise<GateRun> {
  const { plan, topology } = input;
  const live = plan.status.stage;
  const stages = plan.spec.stages.length;
  if (live > stages) throw new Error(`status.stage is ${live}, but the plan has ${stages} stages`);
  const events: GateEvent[] = [];
  const note = (type: GateEvent['type'], message: string) => {
    events.push({ at: env.now(), type, message });
    env.progress?.(message);
  };
  const settleMs = input.settleMs ?? 120_000;
  const unmeshed = planStage(plan, topology, 0, env.adapter);
  const before = planStage(plan, topology, Math.max(0, live - 1), env.adapter);
  const current = planStage(plan, topology, live, env.adapter);
  const changes: EnactedChange[] = [];

  changes.push(...(await enactStage(env.kube, env.adapter, unmeshed, before, new Date(env.now()))));
  if (before.stage > 0) note('stage-applied', `cluster brought to stage ${before.stage} (${before.current?.name}) for the baseline`);
  await env.wait(settleMs);

  // With a control copy (deployed with the topology, see withControlCopy) the baseline is measured
  // beside each measurement of the stage, over the same window; stage 0 has no gates to compare.
  const control = plan.spec.baseline.mode === 'control' && live > 0 ? (current.current?.namespaces ?? []) : undefined;
  const baselineMs = control ? 0 : (parseDuration(plan.spec.baseline.window) ?? 600_000);
  const baselineFrom = env.now();
  await env.wait(baselineMs);
  const baselineWindow = { from: baselineFrom, to: env.now() };
  const gates: GateHistoryRecord[] = [];
  for (const gate of (current.current?.gates ?? []).map((g) => resolveGate(g, input.slos))) {
    const baseline = control ? undefined : await measureWithCallersFallback(gate, env.sources, baselineWindow);
    gates.push({ name: gate.name, gate, limits: gate, measurements: [], ...(baseline && Number.isFinite(baseline.value) ? { baseline } : {}) });
  }
  if (control) note('baseline', `baseline: the unmeshed control copy (${control.map(controlNamespace).join(', ')}), measured over the same windows as stage ${live}`);
  else note('baseline', `baseline measured over ${plan.spec.baseline.window} at stage ${before.stage}${gates.length ? `: ${gates.map((g) => `${g.name} ${g.baseline ? `${round(g.baseline.value)} (${g.baseline.source})` : 'no data'}`).join(', ')}` : ''}`);

  let bakeWindow: Window | undefined;
  let evidenceWindow = baselineWindow;
  if (live > 0) {
    const applied = await enactStage(env.kube, env.adapter, before, current, new Date(env.now()));
    changes.push(...applied);
    note('stage-applied', `stage ${live} (${current.current!.name}) applied: ${applied.length ? applied.map((c) => `${c.action} ${c.target}`).join(', ') : 'no change'}`);
    await env.wait(settleMs);
    const bakeMs = parseDuration(current.current!.bake) ?? 1_800_000;
    const count = Math.max(1, input.measurements ?? 5);
    const start = env.now();
    for (let i = 1; i <= count; i++) {
      await env.wait(bakeMs / count);
      const to = env.now();
      for (const record of gates) {
        const window = { from: Math.max(start, to - Math.max(record.gate.windowMs, bakeMs / count)), to };
        const measurement = await measureGate(record.gate, env.sources, window);
        if (control && isRelative(record.gate.objective)) {
          const scope = controlScope(record.gate.scope, control);
          const baseline = scope ? await measureWithCallersFallback({ ...record.gate, scope }, env.sources, window) : undefined;
          if (baseline && Number.isFinite(baseline.value)) record.baseline = baseline;
          else delete record.baseline;
        }
        const evaluation = evaluate(record.gate.sli, record.gate.scope, record.gate.objective, measurement, { minSamples: record.gate.minSamples, ...(record.baseline ? { baseline: record.baseline } : {}) });
        record.measurements.push(evaluation);
      }
      note('measurement', `measurement ${i}/${count}: ${gates.map((g) => `${g.name} ${g.measurements.at(-1)!.verdict}`).join(', ') || 'no gates'}`);
    }
    bakeWindow = { from: start, to: env.now() };
    evidenceWindow = bakeWindow;
  }

  let decision = decideStage(gates, { now: env.wallClock(), ...(input.coolDownUntil !== undefined ? { coolDownUntil: input.coolDownUntil } : {}), lastStage: live === stages });
  if (live === 0 && decision.verdict === 'advance') decision = { ...decision, reasons: ['stage 0 is the unmeshed baseline; stage 1\'s gates are judged once it is live'] };
  let requirements: RequirementCheck[] = [];
  if (decision.verdict === 'advance') {
    const next = planStage(plan, topology, live + 1, env.adapter);
    requirements = await checkRequirements(next.current!.requires, { next, sources: env.sources, window: evidenceWindow, kube: env.kube, adapter: env.adapter, topology });
    for (const r of requirements) note('requirement', `stage ${live + 1} requires ${r.requirement}: ${r.holds ? 'holds' : 'does not hold'} (${r.reason})`);
    const unmet = requirements.filter((r) => !r.holds);
    if (unmet.length > 0) decision = { ...decision, verdict: 'hold', reasons: [...decision.reasons, ...unmet.map((r) => `stage ${live + 1} (${next.current!.name}) requires ${r.requirement}, which does not hold: ${r.reason}`)] };
  }
  const targetStage = decision.verdict === 'advance' ? live + 1 : decision.verdict === 'revert' ? Math.max(0, live - 1) : undefined;
  note('decision', `${decision.verdict}${targetStage !== undefined ? ` to stage ${targetStage}` : ''}: ${decision.reasons.join('; ')}`);
  return {
    plan: plan.metadata.name,
    liveStage: live,
    ...(targetStage !== undefined ? { targetStage } : {}),
    baselineWindow,
    ...(bakeWindow ? { bakeWindow } : {}),
    gates,
    requirements,
    decision,
    changes,
    events,
  };
}

function round(value: number): string {
  return String(Number(value.toFixed(3)));
}

export type { StagePlan };
