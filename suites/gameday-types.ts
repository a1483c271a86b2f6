import type { FaultSpec } from '../chaos/index.js';
import type { Progress } from '../core/index.js';
import type { MeshAdapter } from '../meshes/index.js';
import type { Topology } from '../model/index.js';
import type { RunRecord } from '../reports/index.js';
import type { RolloutPlan } from '../rollout/index.js';
import type { Slo } from '../slo/index.js';
import type { ClusterHandle } from './cluster-handle.js';
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
  step(step: Step, index: number, label: string, total: number): Promise<{ status: 'ok' | 'failed' | 'inconclusive'; detail: string }>;
  note(type: string, message: string): void;
  fail(reason: string): void;
  flaky(reason: string): void;
  now(): number;
}

export interface ProgramInput extends RunInputs {
  /** Over how long the hypotheses must hold before the first fault (GameDay spec.steadyState). */
  steadyState?: { window?: string };
  /** The document allows more than 24 hours of cluster time (`allowLong: true`). */
  allowLong?: boolean;
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
  /** What provision will make ("kind", "embedded"), for the record when it fails to. */
  provider?: string;
  /** Wall clock, for the record. */
  now(): number;
  logger: Logger;
  /** A live step list (on a terminal); plain log lines otherwise. */
  progress?: Progress;
  /** Set when the run must stop (Ctrl-C, SIGTERM, SIGHUP): faults are reverted and the run ends as aborted. */
  interrupted?: () => string | undefined;
  /** Aborts with the interruption: real-time waits end at once instead of at their end. */
  signal?: AbortSignal;
  /** Told what is still being taken back, for a person who presses Ctrl-C again. */
  onReverting?: (what: string[]) => void;
  /** Cluster time the whole run may take before it is stopped (default 26 h, unbounded with allowLong). */
  clusterTimeBudgetMs?: number;
  /** The cluster lease's duration (default 60 s); how long a killed run holds the cluster. */
  leaseDurationSeconds?: number;
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
