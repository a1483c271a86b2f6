import { ChangeExecutor, describeChange, Journal, planFault, injectFault, replayJournal, RUN_ID_LABEL, type Change, type FaultPlan, type InjectedFault, type ObjectRef, type FaultSpec } from '../chaos/index.js';
import { isPodReady, topologyWorkloads, type KubeObject } from '../clusters/index.js';
import { rm } from 'node:fs/promises';
import type { Progress } from '../core/index.js';
import { meshAdapter, type MeshAdapter } from '../meshes/index.js';
import { formatDuration, parseDuration, SLI_UNITS, type Topology } from '../model/index.js';
import { RUN_RECORD_VERSION, stageRecord, type RunRecord, type StageRecord } from '../reports/index.js';
import { enactStage, planStage, stageDiff, type RolloutPlan, type StagePlan } from '../rollout/index.js';
import { evaluate, measureWithCallersFallback, resolveGate, isRelative, type GateSources, type ResolvedGate, type Slo, type Evaluation, type Measurement, type Window } from '../slo/index.js';
import type { ClusterHandle } from './cluster-handle.js';
import { checkReachability } from './reachability.js';
import type { GameDay, Step } from './schema.js';

type Logger = { info(meta: Record<string, unknown>, message: string): void; warn(meta: Record<string, unknown>, message: string): void };

/** What a game day and a suite share: the config they run against. */
interface RunInputs {
  plan?: RolloutPlan;
  topology: Topology;
  slos: Slo[];
  /** Fault documents by name, for `fault: {use: …}`. */
  faults: Map<string, FaultSpec>;
  runId: string;
  journalDir: string;
}

export interface GameDayInput extends RunInputs {
  gameDay: GameDay;
}

/** How a run walks its steps; the runner supplies `step` and the verdict hooks. */
export interface Program {
  run(hooks: ProgramHooks): Promise<void>;
}

export interface ProgramHooks {
  step(step: Step, index: number, label: string, total: number): Promise<{ status: 'ok' | 'failed'; detail: string }>;
  note(type: string, message: string): void;
  fail(reason: string): void;
  flaky(reason: string): void;
  now(): number;
}

interface ProgramInput extends RunInputs {
  kind: 'gameday' | 'suite';
  /** The game day's or suite's name, for the record. */
  name: string;
  seed: number;
  hypotheses: GameDay['spec']['hypotheses'];
  abort: GameDay['spec']['abort'];
  program: Program;
}

export interface GameDayDeps {
  provision(seed: number): Promise<ClusterHandle>;
  /** Wall clock, for the record. */
  now(): number;
  logger: Logger;
  /** A live step list (on a terminal); plain log lines otherwise. */
  progress?: Progress;
  /** Set when the run must stop (Ctrl-C): faults are reverted and the run ends as aborted. */
  interrupted?: () => string | undefined;
  /** How often hypotheses and abort conditions are evaluated in cluster time; default 1 min. */
  evaluationIntervalMs?: number;
  /** Print the plan only; inject nothing. */
  dryRun?: boolean;
  /** Leave the mesh and topology on a cluster that outlives the run. */
  keep?: boolean;
  /** After a run that did not pass, before the cluster goes: collect what a person needs. */
  diagnostics?: (cluster: ClusterHandle, adapter: MeshAdapter, namespaces: string[]) => Promise<string[]>;
}

export type GameDayRecord = RunRecord & { outcome: NonNullable<RunRecord['outcome']> };

/** A game day: its steps in order; a failed check is recorded and the run goes on. */
export function runGameDay(input: GameDayInput, deps: GameDayDeps): Promise<GameDayRecord> {
  const { steps } = input.gameDay.spec;
  const program: Program = {
    async run(hooks) {
      for (const [index, step] of steps.entries()) await hooks.step(step, index, step.name ?? describeStep(step), steps.length);
    },
  };
  return runProgram({ ...input, kind: 'gameday', name: input.gameDay.metadata.name, seed: input.gameDay.spec.seed, hypotheses: input.gameDay.spec.hypotheses, abort: input.gameDay.spec.abort, program }, deps);
}

type Phase = 'before' | 'during' | 'after';
type RunVerdict = 'pass' | 'flaky' | 'fail' | 'aborted' | 'error';
/** Whether the run has not failed yet (the compiler cannot see verdicts changed inside callbacks). */
const stillPassing = (v: RunVerdict) => v === 'pass' || v === 'flaky';
const DAY = 86_400_000;

class Aborted extends Error {}

/** An abort condition fired or the run was interrupted: not a step failure, the run stops. */
export function isAbort(error: unknown): boolean {
  return error instanceof Aborted;
}

/**
 * Runs a game day: provision, install, deploy, then each step in order, with the steady-state
 * hypotheses evaluated before, during and after every fault and the abort conditions watched
 * throughout. Every fault is journalled before it is injected and reverted however the run ends.
 */
export async function runProgram(input: ProgramInput, deps: GameDayDeps): Promise<GameDayRecord> {
  const { topology } = input;
  const spec = input;
  const startedAt = deps.now();
  const interval = deps.evaluationIntervalMs ?? 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const mesh = input.plan?.spec.mesh ?? { name: 'istio' as const, mode: 'sidecar' as const };
  let adapter: MeshAdapter = meshAdapter(mesh.name, mesh.mode, mesh.revision);
  const hypotheses = spec.hypotheses.map((h) => ({ name: h.name, ...(h.description ? { description: h.description } : {}), gates: h.gates.map((g) => resolveGate(g, input.slos)), evaluations: [] as Array<NonNullable<RunRecord['hypotheses']>[number]['evaluations'][number]> }));
  const aborts = spec.abort.map((a) => ({ gate: resolveGate(a, input.slos), consecutive: a.consecutive, failedInARow: 0 }));
  const timeline: RunRecord['timeline'] = [];
  const steps: NonNullable<RunRecord['steps']> = [];
  const assertions: NonNullable<RunRecord['assertions']> = [];
  const faults: NonNullable<RunRecord['faults']> = [];
  const stageLog: StageRecord[] = [];
  const reasons: string[] = [];
  let verdict = 'pass' as RunVerdict;
  let cluster: ClusterHandle | undefined;
  let sources: GateSources | undefined;
  let stage: StagePlan | undefined;
  let certLifetimeMs = DAY;
  const active: Array<{ fault: InjectedFault; record: NonNullable<RunRecord['faults']>[number] }> = [];
  let journal: Journal | undefined;
  const note = (type: string, message: string) => {
    // Before the cluster exists there is no cluster time yet: filled in from the first event that has one.
    timeline.push({ at: cluster ? iso(cluster.now()) : '', type, message });
    deps.logger.info({}, message);
    // The live list shows steps itself; what happens inside a step goes under it.
    if (type !== 'step') deps.progress?.note(message);
  };

  const phase = (): Phase => (active.length > 0 ? 'during' : faults.length > 0 ? 'after' : 'before');
  const toEvaluation = (gate: ResolvedGate, e: Evaluation) => ({ at: iso(e.window.to), gate: gate.name, verdict: e.verdict, value: Number.isFinite(e.value) ? e.value : null, threshold: Number.isFinite(e.threshold) ? e.threshold : null, samples: e.samples, reason: e.reason });
  // The window of the load step marked `baseline: true`, once it has run; relative objectives
  // compare with the same SLI measured over it (each gate's baseline measured once).
  let baselineWindow: Window | undefined;
  const baselines = new Map<string, Measurement>();
  const judgeOver = async (gate: ResolvedGate, window: Window, minSamples: number): Promise<Evaluation> => {
    // Namespaces not meshed yet have no mesh telemetry: their callers' view stands in.
    const measurement = await measureWithCallersFallback(gate, sources!, window);
    if (!isRelative(gate.objective)) return evaluate(gate.sli, gate.scope, gate.objective, measurement, { minSamples });
    if (!baselineWindow) return { ...evaluate(gate.sli, gate.scope, gate.objective, measurement, { minSamples }), verdict: 'Inconclusive', reason: 'the baseline window (the load step with baseline: true) has not run yet' };
    const key = `${gate.name}|${gate.sli}|${JSON.stringify(gate.scope)}|${gate.source}`;
    let baseline = baselines.get(key);
    if (!baseline) {
      baseline = await measureWithCallersFallback(gate, sources!, baselineWindow);
      baselines.set(key, baseline);
    }
    return evaluate(gate.sli, gate.scope, gate.objective, measurement, { minSamples, baseline });
  };
  const judge = async (gate: ResolvedGate): Promise<Evaluation> => {
    const to = cluster!.now();
    return judgeOver(gate, { from: to - gate.windowMs, to }, gate.minSamples);
  };
  /** One evaluation round: hypotheses recorded, abort conditions counted. */
  const check = async () => {
    if (!sources) return;
    const current = phase();
    for (const h of hypotheses) for (const gate of h.gates) h.evaluations.push({ ...toEvaluation(gate, await judge(gate)), phase: current });
    for (const a of aborts) {
      const e = await judge(a.gate);
      a.failedInARow = e.verdict === 'Failed' ? a.failedInARow + 1 : 0;
      if (a.failedInARow >= a.consecutive) throw new Aborted(`abort condition ${a.gate.name} ${a.gate.objective} failed ${a.failedInARow} evaluations in a row (${e.reason})`);
    }
    const why = deps.interrupted?.();
    if (why) throw new Aborted(`interrupted (${why})`);
  };
  /** Lets time pass in evaluation intervals. */
  const pass = async (ms: number) => {
    let left = ms;
    while (left > 0) {
      const step = Math.min(interval, left);
      await cluster!.advance(step);
      left -= step;
      await check();
    }
  };
  const revertFault = async (entry: (typeof active)[number]) => {
    const result = await entry.fault.revert();
    active.splice(active.indexOf(entry), 1);
    entry.record.revertedAt = iso(result.revertedAt);
    entry.record.leftovers = result.leftovers;
    note('fault-reverted', `reverted ${entry.record.name}${result.leftovers.length ? `; leftovers: ${result.leftovers.join(', ')}` : ''}`);
    if (result.leftovers.length) {
      verdict = 'fail';
      reasons.push(`the revert of ${entry.record.name} left changes behind: ${result.leftovers.join(', ')}`);
    }
  };

  /** Writes objects the run owns: each undo journalled first, each object labelled with the run id. */
  const journaledApply = async (objects: KubeObject[], why: string) => {
    const executor = new ChangeExecutor(cluster!.kube, cluster!.nodes);
    for (const object of objects) {
      const change: Change = { type: 'apply', object: { ...object, metadata: { ...object.metadata, labels: { ...(object.metadata.labels ?? {}), [RUN_ID_LABEL]: input.runId } } }, why };
      await journal!.record(why, describeChange(change), await executor.undoFor(change));
      await executor.perform(change);
    }
  };
  /** Journals how to put objects back as they are now, before something else changes them. */
  const track = async (refs: ObjectRef[], why: string) => {
    const executor = new ChangeExecutor(cluster!.kube, cluster!.nodes);
    for (const ref of refs) {
      const change: Change = { type: 'track', ref, why };
      await journal!.record(why, describeChange(change), await executor.undoFor(change));
    }
  };

  /** Runs one step; a failed check is a result, an exception is an error (infrastructure or config). */
  const executeStep = async (step: Step, index: number, name: string): Promise<{ status: 'ok' | 'failed'; detail: string }> => {
    const verb = verbOf(step);
    let detail = '';
    let status: 'ok' | 'failed' = 'ok';
    switch (verb) {
      case 'provision':
        cluster = await deps.provision(spec.seed);
        detail = `${cluster.provider} cluster`;
        break;
      case 'install': {
        const c = need(cluster, 'install');
        if (step.install!.mesh) adapter = meshAdapter(step.install!.mesh.name, step.install!.mesh.mode, step.install!.mesh.revision);
        certLifetimeMs = step.install!.certLifetime ? (parseDuration(step.install!.certLifetime) ?? DAY) : DAY;
        if (c.existing) {
          // An existing cluster's mesh belongs to its owners: meshdrill checks it is there and ready.
          const pods = await c.kube.list('v1', 'Pod', { namespace: adapter.controlPlane.namespace });
          const ready = pods.filter(isPodReady);
          if (ready.length === 0) throw new Error(`${adapter.name} is not running in ${adapter.controlPlane.namespace} on this cluster; meshdrill does not install onto existing clusters — install it first`);
          sources = c.sources(adapter.name, adapter.mode);
          detail = `${adapter.name} found: ${ready.length} ready control-plane pods`;
          break;
        }
        if (c.installMesh) await c.installMesh(adapter, certLifetimeMs);
        else await journaledApply(await adapter.installManifests({ now: new Date(c.now()), certLifetimeMs }), `install ${adapter.name}`);
        await c.advance(5_000);
        sources = c.sources(adapter.name, adapter.mode);
        detail = `${adapter.name} ${adapter.mode}, certificates live ${formatDuration(certLifetimeMs)}`;
        break;
      }
      case 'deploy': {
        const c = need(cluster, 'deploy');
        const objects = topologyWorkloads(topology);
        await journaledApply(objects, `deploy ${topology.metadata.name}`);
        await c.advance(10_000);
        await c.startTraffic(topology);
        stage = planStage(input.plan ?? emptyPlan(), topology, 0, adapter);
        stageLog.push(stageRecord(stage, iso(c.now())));
        detail = `${topology.metadata.name}: ${objects.length} objects, traffic started`;
        break;
      }
      case 'stage': {
        const c = need(cluster, 'stage');
        if (!input.plan) throw new Error('a stage step needs the game day\'s rollout plan (spec.plan)');
        const from = stage ?? planStage(input.plan, topology, 0, adapter);
        const to = step.stage!.to === 'next' ? Math.min(from.stage + 1, input.plan.spec.stages.length) : step.stage!.to === 'current' ? input.plan.status.stage : step.stage!.to;
        if (to > input.plan.spec.stages.length) throw new Error(`stage ${to} does not exist; the plan has ${input.plan.spec.stages.length}`);
        const target = planStage(input.plan, topology, to, adapter);
        const moved = new Set(stageDiff(from, target).map((d) => d.namespace));
        const deployments = (await Promise.all([...moved].map((ns) => c.kube.list('apps/v1', 'Deployment', { namespace: ns })))).flat();
        await track(
          [
            ...[...moved].map((ns): ObjectRef => ({ apiVersion: 'v1', kind: 'Namespace', name: ns })),
            ...[...from.policies, ...target.policies, ...target.removedPolicies].map((o): ObjectRef => ({ apiVersion: o.apiVersion, kind: o.kind, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name })),
            ...deployments.map((d): ObjectRef => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: d.metadata.namespace!, name: d.metadata.name })),
          ],
          `stage ${to}`,
        );
        const changes = await enactStage(c.kube, adapter, from, target, new Date(c.now()));
        stage = target;
        stageLog.push(stageRecord(target, iso(c.now())));
        await pass(60_000);
        detail = `stage ${to}${target.current ? ` (${target.current.name})` : ''}: ${changes.map((x) => `${x.action} ${x.target}`).join(', ') || 'no change'}`;
        break;
      }
      case 'load': {
        const c = need(cluster, 'load');
        const load = step.load!;
        await c.setTrafficRate(load.rps);
        await pass(parseDuration(load.warmUp) ?? 30_000);
        const measuredFrom = c.now();
        await pass(parseDuration(load.duration) ?? 0);
        await c.setTrafficRate(undefined);
        if (load.baseline) {
          baselineWindow = { from: measuredFrom, to: c.now() };
          baselines.clear();
          note('baseline', `baseline window: ${iso(measuredFrom)} to ${iso(c.now())}`);
        }
        detail = `${load.duration}${load.rps ? ` at ${load.rps} rps` : ''}${load.baseline ? ' (the baseline)' : ''}`;
        break;
      }
      case 'fault': {
        const c = need(cluster, 'fault');
        const faultSpec = resolveFault(step.fault!, input.faults);
        const plan = await planFault(faultSpec, { adapter, kube: c.kube, runId: input.runId, now: new Date(c.now()), ...(c.nodes ? { nodes: c.nodes.nodes() } : {}), random: seeded(spec.seed + index) });
        note('fault-plan', `plan for ${plan.name}: ${plan.summary}; ${plan.changes.map(describeChange).join('; ')}${plan.notes.length ? ` (${plan.notes.join(' ')})` : ''}`);
        if (deps.dryRun) {
          detail = `DRY-RUN: would inject ${plan.summary}`;
          break;
        }
        const injected = await injectFault(plan, { executor: new ChangeExecutor(c.kube, c.nodes), journal: journal!, now: () => c.now() });
        const record: NonNullable<RunRecord['faults']>[number] = { name: plan.name, type: plan.type, summary: plan.summary, notes: plan.notes, changes: plan.changes.map(describeChange), injectedAt: iso(injected.injectedAt), leftovers: [] };
        faults.push(record);
        const entry = { fault: injected, record };
        active.push(entry);
        note('fault-injected', `injected ${plan.name}: ${plan.summary}`);
        const duration = faultSpec.duration ? parseDuration(faultSpec.duration) : undefined;
        if (duration !== undefined) {
          await pass(duration);
          const margin = await sources?.mesh.measure('cert-min-remaining', {}, { from: c.now() - interval, to: c.now() });
          record.impact = impactOf(hypotheses, injected.injectedAt, c.now(), certLifetimeMs, margin && Number.isFinite(margin.value) ? margin.value : undefined);
          await revertFault(entry);
          // The steady state must come back: a revert that does not restore it fails the run.
          // Judged over the second half of a settle period, a window wholly after the revert.
          // Without hypotheses there is no steady state to wait for.
          const settle = hypotheses.length === 0 ? 0 : Math.min(5 * 60_000, Math.max(2 * interval, duration));
          await pass(settle);
          const after: string[] = [];
          for (const h of hypotheses) {
            for (const gate of h.gates) {
              const to = c.now();
              const e = await judgeOver(gate, { from: to - settle / 2, to }, Math.min(gate.minSamples, 10));
              if (e.verdict === 'Failed') after.push(`${h.name}: ${gate.name} ${e.reason}`);
            }
          }
          if (after.length) {
            status = 'failed';
            verdict = 'fail';
            reasons.push(`the steady state did not return after reverting ${plan.name}: ${after[0]}`);
          }
        }
        detail = `${plan.summary}${duration !== undefined ? ` for ${faultSpec.duration}` : ' until the end of the run'}${record.impact ? `; ${record.impact}` : ''}`;
        break;
      }
      case 'assert': {
        const c = need(cluster, 'assert');
        const expected = step.assert!.reachability ?? [];
        if (expected.length > 0) {
          const results = await checkReachability(expected, sources!, c.now());
          for (const r of results) {
            assertions.push({ step: index, evaluation: { at: iso(c.now()), gate: `reachability ${r.from} → ${r.to} ${r.expect}${r.mtls === undefined ? '' : r.mtls ? ' with mTLS' : ' in plaintext'}`, verdict: r.holds ? 'Successful' : 'Failed', value: null, threshold: null, samples: 0, reason: r.observed } });
          }
          const broken = results.filter((r) => !r.holds);
          detail = `reachability: ${results.length - broken.length} of ${results.length} pairs as expected`;
          if (broken.length) {
            status = 'failed';
            verdict = 'fail';
            reasons.push(...broken.map((r) => `step ${index + 1} (${name}): ${r.from} → ${r.to} expected ${r.expect}${r.mtls === undefined ? '' : r.mtls ? ' with mTLS' : ' in plaintext'}; observed ${r.observed}`));
          }
          if (step.assert!.slo === undefined && step.assert!.sli === undefined) break;
        }
        const gate = resolveGate(step.assert!, input.slos);
        const e = await judge(gate);
        assertions.push({ step: index, evaluation: toEvaluation(gate, e) });
        detail = `${detail ? `${detail}; ` : ''}${gate.name} ${gate.objective}: ${e.verdict} — ${e.reason}`;
        if (e.verdict !== 'Successful') {
          status = 'failed';
          verdict = 'fail';
          reasons.push(`step ${index + 1} (${name}): ${gate.name} ${e.verdict.toLowerCase()}: ${e.reason}`);
        }
        break;
      }
      case 'wait':
        need(cluster, 'wait');
        await pass(parseDuration(step.wait!) ?? 0);
        detail = `waited ${step.wait}`;
        break;
    }
    return { status, detail };
  };

  try {
    journal = await Journal.open(input.journalDir, input.runId, () => (cluster ? cluster.now() : deps.now()));
    await input.program.run({
      step: async (step, index, label, total) => {
        const title = `step ${index + 1}/${total}: ${label}`;
        note('step', title);
        deps.progress?.stepStarted(title);
        const startedAt = deps.now();
        let result: { status: 'ok' | 'failed'; detail: string };
        try {
          result = await executeStep(step, index, label);
        } catch (error) {
          const status = error instanceof Aborted ? 'aborted' : 'error';
          steps.push({ index, name: label, verb: verbOf(step), startedAt: iso(startedAt), finishedAt: iso(deps.now()), status, detail: (error as Error).message });
          deps.progress?.stepFinished(title, status, (error as Error).message);
          throw error;
        }
        steps.push({ index, name: label, verb: verbOf(step), startedAt: iso(startedAt), finishedAt: iso(deps.now()), status: result.status, detail: result.detail });
        deps.progress?.stepFinished(title, result.status, result.detail);
        return result;
      },
      note,
      fail: (reason) => {
        if (stillPassing(verdict)) verdict = 'fail';
        reasons.push(reason);
      },
      flaky: (reason) => {
        if (verdict === 'pass') verdict = 'flaky';
        reasons.push(reason);
      },
      now: () => (cluster ? cluster.now() : deps.now()),
    });
  } catch (error) {
    if (error instanceof Aborted) {
      verdict = 'aborted';
      reasons.push(error.message);
      note('aborted', `aborting: ${error.message}; reverting every fault now`);
    } else {
      verdict = 'error';
      reasons.push((error as Error).message);
      note('error', `error: ${(error as Error).message}; reverting every fault`);
    }
  } finally {
    // However the run ended: every fault still in is taken back, newest first.
    for (const entry of [...active].reverse()) {
      try {
        await revertFault(entry);
      } catch (error) {
        verdict = 'error';
        reasons.push(`reverting ${entry.record.name} failed: ${(error as Error).message}; run \`meshdrill cleanup --run-id ${input.runId}\``);
      }
    }
  }
  const hypothesisFailed = hypotheses.some((h) => h.evaluations.some((e) => e.verdict === 'Failed' || e.verdict === 'Error'));
  if (cluster && deps.diagnostics && (!stillPassing(verdict) || hypothesisFailed)) {
    const files = await deps.diagnostics(cluster, adapter, topology.spec.namespaces.map((n) => n.name)).catch((error: Error) => [`(diagnostics failed: ${error.message})`]);
    note('diagnostics', `collected ${files.length} diagnostic files`);
  }
  // Tear down: an embedded cluster goes away with everything in it; a cluster that outlives the
  // run gets every journalled change taken back, the mesh and topology included (unless kept).
  if (cluster && journal) {
    if (cluster.ephemeral) {
      await journal.close();
      await rm(journal.path, { force: true });
    } else if (!deps.keep) {
      try {
        const undone = await replayJournal(journal, new ChangeExecutor(cluster.kube, cluster.nodes));
        note('teardown', `teardown: ${undone.length} changes taken back`);
      } catch (error) {
        verdict = 'error';
        reasons.push(`teardown failed: ${(error as Error).message}; run \`meshdrill cleanup --run-id ${input.runId}\``);
      }
      await journal.close();
    } else {
      note('teardown', `kept: the mesh and topology stay; \`meshdrill cleanup --run-id ${input.runId}\` removes them`);
      await journal.close();
    }
  } else await journal?.close();
  // A hypothesis holds on evidence: some successful evaluation and none failed or in error.
  const holds = hypotheses.map((h) => ({ name: h.name, ...(h.description ? { description: h.description } : {}), holds: h.evaluations.some((e) => e.verdict === 'Successful') && !h.evaluations.some((e) => e.verdict === 'Failed' || e.verdict === 'Error'), evaluations: h.evaluations }));
  for (const h of holds.filter((x) => !x.holds)) {
    if (stillPassing(verdict)) verdict = 'fail';
    const first = h.evaluations.find((e) => e.verdict === 'Failed') ?? h.evaluations.find((e) => e.verdict === 'Error');
    reasons.push(first ? `hypothesis ${h.name} ${first.verdict === 'Failed' ? 'failed' : 'could not be measured'} ${first.phase} the faults: ${first.gate} ${first.reason} at ${first.at}` : `hypothesis ${h.name} has no successful evaluation: no evidence it holds`);
  }
  if (stillPassing(verdict) && (input.kind === 'gameday' || holds.length > 0)) reasons.push(`${holds.length} hypothes${holds.length === 1 ? 'is' : 'es'} held through ${faults.length} fault${faults.length === 1 ? '' : 's'}`);
  const firstAt = timeline.find((e) => e.at !== '')?.at ?? iso(startedAt);
  for (const e of timeline) if (e.at === '') e.at = firstAt;
  const record: GameDayRecord = {
    schemaVersion: RUN_RECORD_VERSION,
    runId: input.runId,
    kind: input.kind,
    name: input.name,
    startedAt: iso(startedAt),
    finishedAt: iso(deps.now()),
    inputs: { repo: '', files: [], ...(input.plan ? { plan: input.plan.metadata.name, stage: input.plan.status.stage } : {}) },
    cluster: { provider: cluster?.provider ?? 'none', mesh: { name: adapter.name, mode: adapter.mode } },
    timeline,
    gates: [],
    requirements: [],
    outcome: { verdict, reasons },
    steps,
    hypotheses: holds,
    assertions,
    faults,
    // One series per hypothesis gate, at the evaluation resolution.
    series: hypotheses.flatMap((h) =>
      h.gates.map((gate) => ({
        name: `${h.name}: ${gate.name}`,
        sli: gate.sli,
        scope: gate.scope,
        unit: SLI_UNITS[gate.sli],
        objective: gate.objective,
        threshold: h.evaluations.find((e) => e.gate === gate.name && e.threshold !== null)?.threshold ?? null,
        points: h.evaluations.filter((e) => e.gate === gate.name).map((e): [string, number | null] => [e.at, e.value]),
      })),
    ),
    stages: stageLog,
  };
  await cluster?.close();
  return record;
}

function need(cluster: ClusterHandle | undefined, verb: string): ClusterHandle {
  if (!cluster) throw new Error(`a ${verb} step needs a cluster: put a provision step first`);
  return cluster;
}

function verbOf(step: Step): NonNullable<RunRecord['steps']>[number]['verb'] {
  for (const verb of ['provision', 'install', 'deploy', 'stage', 'load', 'fault', 'assert', 'wait'] as const) if (step[verb] !== undefined) return verb;
  throw new Error('a step without an action');
}

export function describeStep(step: Step): string {
  if (step.assert?.reachability && step.assert.slo === undefined && step.assert.sli === undefined) return `assert reachability (${step.assert.reachability.length} pairs)`;
  if (step.stage) return `stage ${step.stage.to}`;
  if (step.load) return `load ${step.load.duration}`;
  if (step.fault) return 'use' in step.fault ? `fault ${step.fault.use}` : `fault ${step.fault.type}`;
  if (step.assert) return `assert ${step.assert.slo ?? step.assert.sli ?? ''}`;
  if (step.wait) return `wait ${step.wait}`;
  return verbOf(step);
}

function resolveFault(fault: NonNullable<Step['fault']>, documents: Map<string, FaultSpec>): FaultSpec {
  if (!('use' in fault)) return fault;
  const found = documents.get(fault.use);
  if (!found) throw new Error(`no Fault document "${fault.use}"`);
  return { ...found, name: found.name ?? fault.use, ...(fault.duration ? { duration: fault.duration } : {}) };
}

/**
 * Time to the first failed hypothesis evaluation after a fault went in, and what it means at a
 * 24 h certificate lifetime when the game day compressed lifetimes.
 */
function impactOf(hypotheses: Array<{ evaluations: Array<{ at: string; verdict: string }> }>, injectedAt: number, until: number, certLifetimeMs: number, certLeftMs?: number): string | undefined {
  const first = hypotheses
    .flatMap((h) => h.evaluations)
    .filter((e) => e.verdict === 'Failed' && Date.parse(e.at) > injectedAt && Date.parse(e.at) <= until)
    .map((e) => Date.parse(e.at))
    .sort((a, b) => a - b)[0];
  const minutes = (ms: number) => (ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${(ms / 60_000).toFixed(1)} min`);
  const scaled = (ms: number) => (certLifetimeMs >= DAY ? minutes(ms) : `${minutes(ms)} compressed (≈ ${minutes((ms * DAY) / certLifetimeMs)} at a 24 h certificate lifetime)`);
  if (first === undefined) return `no hypothesis failed while the fault was in${certLeftMs !== undefined ? `; the shortest certificate had ${scaled(Math.max(0, certLeftMs))} left at its end` : ''}`;
  const compressed = first - injectedAt;
  return `first failures after ${scaled(compressed)}`;
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

export type { FaultPlan };
