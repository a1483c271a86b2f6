import { hostname } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ChangeExecutor, describeChange, RUN_ID_LABEL, type Change, type Journal, type ObjectRef } from '../chaos/index.js';
import { acquireRunLease, LEASE_NAME, LEASE_NAMESPACE, type KubeObject, type RunLease } from '../clusters/index.js';
import { meshAdapter, type MeshAdapter } from '../meshes/index.js';
import { formatDuration, parseDuration } from '../model/index.js';
import type { AssertionRecord, StageRecord, StepRecord } from '../reports/index.js';
import type { StagePlan } from '../rollout/index.js';
import type { ClusterHandle } from './cluster-handle.js';
import { FaultLifecycle } from './fault-lifecycle.js';
import type { GameDayDeps, ProgramInput } from './gameday-types.js';
import { Aborted, HypothesisWatch } from './hypothesis-watch.js';
import { RunLog } from './run-log.js';

export const DAY = 86_400_000;

/**
 * One run of a game day or suite while it goes: the cluster and mesh it has reached, what it has
 * recorded, and the ways it lets time pass and changes the cluster (always journalled first).
 */
export class GameDayRun {
  cluster: ClusterHandle | undefined;
  adapter: MeshAdapter;
  stage: StagePlan | undefined;
  certLifetimeMs = DAY;
  journal: Journal | undefined;
  /** The hypotheses were shown to hold before the first fault. */
  steadyStateProven = false;
  /** The steady-state window of the document, if it names one. */
  readonly steadyStateWindowMs: number | undefined;
  /** This run's hold on a cluster that others can reach; none on the in-process embedded cluster. */
  lease: { lease: RunLease; seq: number } | undefined;
  readonly stageLog: StageRecord[] = [];
  readonly assertions: AssertionRecord[] = [];
  readonly steps: StepRecord[] = [];
  readonly log: RunLog;
  readonly watch: HypothesisWatch;
  readonly faults: FaultLifecycle;
  /** How often hypotheses and abort conditions are evaluated, in cluster time. */
  readonly interval: number;
  /** Cluster time at provisioning, and how much of it the run may use. */
  private clusterStart: number | undefined;
  private readonly budgetMs: number;

  constructor(
    readonly input: ProgramInput,
    readonly deps: GameDayDeps,
  ) {
    const mesh = input.plan?.spec.mesh ?? { name: 'istio' as const, mode: 'sidecar' as const };
    this.adapter = meshAdapter(mesh.name, mesh.mode, mesh.revision);
    this.interval = deps.evaluationIntervalMs ?? 60_000;
    // Validation refuses more than 24 h of steps without allowLong; settles and stages add a little.
    this.budgetMs = deps.clusterTimeBudgetMs ?? (input.allowLong ? Number.POSITIVE_INFINITY : 26 * 3_600_000);
    this.log = new RunLog(() => this.cluster?.now(), deps.logger, deps.progress);
    this.watch = new HypothesisWatch(input, input.slos);
    this.faults = new FaultLifecycle(this.log, deps.onReverting);
    this.steadyStateWindowMs = input.steadyState?.window ? parseDuration(input.steadyState.window) : undefined;
  }

  /** What this run is, for the lease and the journal: "game day weekly-mesh-resilience". */
  get what(): string {
    return `${this.input.kind === 'gameday' ? 'game day' : 'suite'} ${this.input.name}`;
  }

  /**
   * Before the first change: the journal records which cluster this is (so cleanup can refuse any
   * other), and a cluster others can reach is leased to this run (a second run is refused).
   */
  async claim(): Promise<void> {
    const cluster = this.cluster!;
    this.clusterStart = cluster.now();
    const holder = { runId: this.input.runId, host: hostname(), pid: process.pid, startedAt: new Date(this.deps.now()).toISOString(), what: this.what };
    await this.journal!.bind({ ...holder, cluster: await cluster.identity(), ...(cluster.kubeconfigPath ? { kubeconfigPath: cluster.kubeconfigPath } : {}) });
    if (cluster.ephemeral) return;
    // The lease's undo is journalled first, so a killed run's lease goes with its cleanup.
    const seq = await this.journal!.record('lease', `take the cluster's lease ${LEASE_NAMESPACE}/${LEASE_NAME}`, { type: 'release-lease', namespace: LEASE_NAMESPACE, name: LEASE_NAME, holder: holder.runId });
    try {
      this.lease = { lease: await acquireRunLease(cluster.kube, holder, { logger: this.deps.logger, ...(this.deps.leaseDurationSeconds ? { durationSeconds: this.deps.leaseDurationSeconds } : {}) }), seq };
    } catch (error) {
      await this.journal!.done(seq, 'not taken');
      throw error;
    }
  }

  /** The run's changes stay (--keep): the lease goes, the journal says what was kept. */
  async keep(): Promise<void> {
    if (this.lease) {
      await this.lease.lease.release();
      await this.journal!.done(this.lease.seq);
    }
    await this.journal!.keep();
  }

  /** Cluster time once there is a cluster, the wall clock before. */
  now(): number {
    return this.cluster ? this.cluster.now() : this.deps.now();
  }

  iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  /** Lets time pass in evaluation intervals, judging hypotheses and abort conditions after each. */
  async pass(ms: number): Promise<void> {
    let left = ms;
    while (left > 0) {
      const step = Math.min(this.interval, left);
      await this.cluster!.advance(step, this.deps.signal);
      left -= step;
      // Virtual time runs without waiting: let signal handlers in between intervals.
      await yieldToEventLoop();
      this.stopIfInterrupted();
      const used = this.cluster!.now() - (this.clusterStart ?? this.cluster!.now());
      if (used > this.budgetMs) throw new Aborted(`the run has used ${formatDuration(used)} of cluster time, over its budget of ${formatDuration(this.budgetMs)} (allowLong: true lifts it)`);
      await this.watch.check(this.faults.phase(), this.cluster!.now());
    }
  }

  stopIfInterrupted(): void {
    const why = this.deps.interrupted?.();
    if (why) throw new Aborted(`interrupted (${why})`);
  }

  executor(): ChangeExecutor {
    return new ChangeExecutor(this.cluster!.kube, this.cluster!.nodes, this.input.runId, () => this.cluster!.now());
  }

  /** Writes objects the run owns: each undo journalled first, each object labelled with the run id. */
  async apply(objects: KubeObject[], why: string): Promise<void> {
    const executor = this.executor();
    for (const object of objects) {
      const change: Change = { type: 'apply', object: { ...object, metadata: { ...object.metadata, labels: { ...(object.metadata.labels ?? {}), [RUN_ID_LABEL]: this.input.runId } } }, why };
      await this.journal!.record(why, describeChange(change), await executor.undoFor(change));
      await executor.perform(change);
    }
  }

  /** Merge-patches an object someone else made (the control plane's Deployments), its undo journalled first. */
  async patch(ref: ObjectRef, patch: Record<string, unknown>, why: string): Promise<void> {
    const executor = this.executor();
    const change: Change = { type: 'patch', ref, patch, why };
    await this.journal!.record(why, describeChange(change), await executor.undoFor(change));
    await executor.perform(change);
  }

  /** Journals how to put objects back as they are now, before something else changes them. */
  async track(refs: ObjectRef[], why: string): Promise<void> {
    const executor = this.executor();
    for (const ref of refs) {
      const change: Change = { type: 'track', ref, why };
      await this.journal!.record(why, describeChange(change), await executor.undoFor(change));
    }
  }

  need(verb: string): ClusterHandle {
    if (!this.cluster) throw new Error(`a ${verb} step needs a cluster: put a provision step first`);
    return this.cluster;
  }
}
