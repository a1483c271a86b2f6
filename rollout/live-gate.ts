import type { KubeClient } from '../clusters/index.js';
import { ConfigError } from '../core/index.js';
import type { MeshAdapter } from '../meshes/index.js';
import { formatDuration, parseDuration } from '../model/index.js';
import { evaluate, isRelative, measureGate, measureWithCallersFallback, resolveGate, type GateSources, type SliSource, type Window } from '../slo/index.js';
import { decideStage } from './decide.js';
import type { GateEvent, GateHistoryRecord, GateInput, GateRun } from './gate.js';
import { stageDrift } from './observe.js';
import { checkRequirements, type RequirementCheck } from './requirements.js';
import { planStage } from './stage.js';

/** A live cluster the GitOps engine keeps at the plan's stage: read, never written. */
export interface LiveGateEnvironment {
  kube: KubeClient;
  adapter: MeshAdapter;
  /** The mesh's metrics in a Prometheus that keeps history: the windows lie in the past. */
  sources: GateSources;
  /**
   * What meshed callers in these namespaces report about their requests: the baseline of a
   * namespace not meshed yet, and what a relative objective is compared with after (the same
   * callers, the same requests).
   */
  callersView?(namespaces: string[]): SliSource;
  /** Wall-clock time. */
  now(): number;
  /**
   * When the live stage went live: the merge that set status.stage, or later when its GitOps
   * engine reported the sync. Undefined when the history does not say (a shallow clone).
   */
  since?: number;
  progress?(message: string): void;
}

/**
 * A gate on a cluster someone else's GitOps engine runs (Flagger and Argo Rollouts judge a
 * rollout the same way: from the metrics of the live system, after it changed). Nothing is
 * applied: the cluster must already show the live stage (namespace marks, proxies, policies),
 * else the verdict is hold. The baseline is the window before the stage went live; the bake is
 * measured in slices from two minutes after it, as far as time has got. A gate that fails reverts
 * at once; advancing waits for the whole bake.
 */
export async function runLiveGate(input: GateInput, env: LiveGateEnvironment): Promise<GateRun> {
  const { plan, topology } = input;
  if (plan.spec.baseline.mode === 'control') throw new ConfigError(`rollout plan "${plan.metadata.name}": baseline mode "control" compares against an unmeshed copy meshdrill deploys; a gate on a live cluster deploys nothing, so use baseline: {window: …} there`);
  const live = plan.status.stage;
  const stages = plan.spec.stages.length;
  if (live > stages) throw new ConfigError(`status.stage is ${live}, but the plan has ${stages} stages`);
  const events: GateEvent[] = [];
  const note = (type: GateEvent['type'], message: string) => {
    events.push({ at: env.now(), type, message });
    env.progress?.(message);
  };
  const now = env.now();
  const current = planStage(plan, topology, live, env.adapter);
  const baselineMs = parseDuration(plan.spec.baseline.window) ?? 600_000;
  const settleMs = input.settleMs ?? 120_000;
  const hold = (reasons: string[], windows: { baselineWindow: Window; bakeWindow?: Window }, gates: GateHistoryRecord[] = []): GateRun => {
    note('decision', `hold: ${reasons.join('; ')}`);
    return { plan: plan.metadata.name, liveStage: live, ...windows, gates, requirements: [], decision: { verdict: 'hold', reasons, gates: [] }, changes: [], events };
  };

  const drift = await stageDrift(env.kube, env.adapter, current);
  if (drift.length > 0) return hold([`the cluster does not show stage ${live} yet: ${drift.join('; ')}`], { baselineWindow: { from: now, to: now } });
  note('stage-applied', `the cluster shows stage ${live}${current.current ? ` (${current.current.name})` : ''}`);

  if (live === 0) {
    // Nothing is live to judge: stage 1's preconditions, over the last baseline window.
    const window = { from: now - baselineMs, to: now };
    const next = planStage(plan, topology, 1, env.adapter);
    const requirements = stages > 0 ? await checkRequirements(next.current!.requires, { next, sources: env.sources, window, kube: env.kube, adapter: env.adapter, topology }) : [];
    return decided(input, env, { gates: [], requirements, baselineWindow: window, events, note, live });
  }
  if (env.since === undefined) return hold([`cannot tell when stage ${live} went live: no commit in the plan's history sets status.stage to ${live} (a shallow clone? check out the whole history, e.g. fetch-depth: 0)`], { baselineWindow: { from: now, to: now } });

  const baselineWindow = { from: env.since - baselineMs, to: env.since };
  const callers = planStage(plan, topology, live - 1, env.adapter).namespaces.filter((n) => n.meshed).map((n) => n.namespace);
  const sources: GateSources = env.callersView && callers.length > 0 ? { ...env.sources, client: env.callersView(callers) } : { mesh: env.sources.mesh };
  const gates: GateHistoryRecord[] = [];
  for (const gate of current.current!.gates.map((g) => resolveGate(g, input.slos))) {
    const baseline = await measureWithCallersFallback(gate, sources, baselineWindow);
    gates.push({ name: gate.name, gate, limits: gate, measurements: [], ...(Number.isFinite(baseline.value) ? { baseline } : {}) });
  }
  note('baseline', `baseline: the ${plan.spec.baseline.window} before stage ${live} went live (${new Date(env.since).toISOString()})`);

  const bakeMs = parseDuration(current.current!.bake) ?? 1_800_000;
  const count = Math.max(1, input.measurements ?? 5);
  const start = env.since + settleMs;
  const slice = bakeMs / count;
  let taken = 0;
  for (let i = 1; i <= count && start + i * slice <= now; i++, taken++) {
    const to = start + i * slice;
    for (const record of gates) {
      const window = { from: Math.max(start, to - Math.max(record.gate.windowMs, slice)), to };
      // Like with like: a baseline the meshed callers reported (the namespace was not meshed yet)
      // is compared with what the same callers report now, not with the namespace's own proxies,
      // which see every caller's requests, the unmeshed ones too.
      const sameView = record.baseline && sources.client && record.baseline.source === sources.client.name && isRelative(record.gate.objective);
      const measurement = await measureGate(sameView ? { ...record.gate, source: 'client' } : record.gate, sources, window);
      record.measurements.push(evaluate(record.gate.sli, record.gate.scope, record.gate.objective, measurement, { minSamples: record.gate.minSamples, ...(record.baseline ? { baseline: record.baseline } : {}) }));
    }
    note('measurement', `measurement ${i}/${count}: ${gates.map((g) => `${g.name} ${g.measurements.at(-1)!.verdict}`).join(', ') || 'no gates'}`);
  }
  const bakeWindow = { from: start, to: Math.max(start, start + taken * slice) };
  const run = await decided(input, env, { gates, requirements: [], baselineWindow, bakeWindow, events, note, live, ...(taken < count ? { baking: `stage ${live} has baked ${formatDuration(Math.max(0, now - start))} of ${current.current!.bake} (${taken} of ${count} measurements); a failing gate would revert it now, advancing waits for the whole bake` } : {}) });
  return run;
}

async function decided(input: GateInput, env: LiveGateEnvironment, run: { gates: GateHistoryRecord[]; requirements: RequirementCheck[]; baselineWindow: Window; bakeWindow?: Window; events: GateEvent[]; note: (type: GateEvent['type'], message: string) => void; live: number; baking?: string }): Promise<GateRun> {
  const { plan, topology } = input;
  const stages = plan.spec.stages.length;
  let decision = decideStage(run.gates, { now: env.now(), ...(input.coolDownUntil !== undefined ? { coolDownUntil: input.coolDownUntil } : {}), lastStage: run.live === stages });
  if (run.baking && decision.verdict === 'advance') decision = { ...decision, verdict: 'hold', reasons: [run.baking] };
  let requirements = run.requirements;
  if (decision.verdict === 'advance' || (run.live === 0 && requirements.length > 0)) {
    const next = planStage(plan, topology, run.live + 1, env.adapter);
    if (run.live > 0) requirements = await checkRequirements(next.current!.requires, { next, sources: env.sources, window: run.bakeWindow ?? run.baselineWindow, kube: env.kube, adapter: env.adapter, topology });
    for (const r of requirements) run.note('requirement', `stage ${run.live + 1} requires ${r.requirement}: ${r.holds ? 'holds' : 'does not hold'} (${r.reason})`);
    const unmet = requirements.filter((r) => !r.holds);
    if (unmet.length > 0 && decision.verdict === 'advance') decision = { ...decision, verdict: 'hold', reasons: [...decision.reasons, ...unmet.map((r) => `stage ${run.live + 1} (${next.current!.name}) requires ${r.requirement}, which does not hold: ${r.reason}`)] };
  }
  if (run.live === 0 && decision.verdict === 'advance') decision = { ...decision, reasons: ['stage 0 is the unmeshed baseline; stage 1\'s gates are judged once it is live', ...decision.reasons.slice(1)] };
  const targetStage = decision.verdict === 'advance' ? run.live + 1 : decision.verdict === 'revert' ? Math.max(0, run.live - 1) : undefined;
  run.note('decision', `${decision.verdict}${targetStage !== undefined ? ` to stage ${targetStage}` : ''}: ${decision.reasons.join('; ')}`);
  return {
    plan: plan.metadata.name,
    liveStage: run.live,
    ...(targetStage !== undefined ? { targetStage } : {}),
    baselineWindow: run.baselineWindow,
    ...(run.bakeWindow ? { bakeWindow: run.bakeWindow } : {}),
    gates: run.gates,
    requirements,
    decision,
    changes: [],
    events: run.events,
  };
}
