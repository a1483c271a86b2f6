import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/** The RunRecord format version. Readers accept the same major version and refuse others. */
export const RUN_RECORD_VERSION = '1.4';

const Window = z.object({ from: z.string(), to: z.string() }).strict();

/** How a game day or suite ended. */
export const RunVerdict = z.enum(['pass', 'flaky', 'fail', 'aborted', 'error', 'inconclusive', 'steady-state-not-met', 'dry-run']);
export type RunVerdict = z.infer<typeof RunVerdict>;

const Measurement = z
  .object({
    at: z.string(),
    verdict: z.enum(['Successful', 'Failed', 'Inconclusive', 'Error']),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    samples: z.number(),
    window: Window,
    source: z.string(),
    reason: z.string(),
  })
  .strict();

const GateRecord = z
  .object({
    name: z.string(),
    key: z.boolean(),
    sli: z.string(),
    scope: z.record(z.string(), z.unknown()),
    objective: z.string(),
    source: z.enum(['mesh', 'client']),
    baseline: z.object({ value: z.number(), samples: z.number(), source: z.string(), window: Window }).strict().optional(),
    state: z.enum(['passed', 'failed', 'inconclusive', 'pending']),
    reason: z.string(),
    measurements: z.array(Measurement),
  })
  .strict();

const PullRequestRecord = z
  .object({
    forge: z.enum(['local', 'github']),
    action: z.enum(['created', 'updated', 'unchanged', 'adopted', 'skipped', 'dry-run', 'failed']),
    branch: z.string(),
    base: z.string(),
    commit: z.string().optional(),
    url: z.string().optional(),
    number: z.number().optional(),
    path: z.string().optional(),
    superseded: z.array(z.number()).default([]),
    note: z.string().optional(),
  })
  .strict();

const Evaluation = z
  .object({
    at: z.string(),
    gate: z.string(),
    verdict: z.enum(['Successful', 'Failed', 'Inconclusive', 'Error']),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    samples: z.number(),
    reason: z.string(),
  })
  .strict();

const StepRecord = z
  .object({
    index: z.number(),
    name: z.string(),
    verb: z.string(),
    startedAt: z.string(),
    finishedAt: z.string(),
    status: z.enum(['ok', 'failed', 'skipped', 'aborted', 'error', 'inconclusive']),
    attempts: z.number().optional(),
    detail: z.string(),
  })
  .strict();

const HypothesisRecord = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    holds: z.boolean(),
    /** 1.3: held, failed, or inconclusive (no evidence, counted as the document's onNoData says). */
    outcome: z.enum(['held', 'failed', 'inconclusive']).optional(),
    /** 1.3: why, in one line. */
    reason: z.string().optional(),
    evaluations: z.array(Evaluation.extend({ phase: z.enum(['before', 'during', 'after']) })),
  })
  .strict();

const AssertionRecord = z.object({ step: z.number(), evaluation: Evaluation }).strict();

const FaultRecord = z
  .object({
    name: z.string(),
    type: z.string(),
    summary: z.string(),
    notes: z.array(z.string()),
    changes: z.array(z.string()),
    injectedAt: z.string(),
    revertedAt: z.string().optional(),
    leftovers: z.array(z.string()),
    /** Time to first impact, compressed and scaled to the production certificate lifetime. */
    impact: z.string().optional(),
  })
  .strict();

const SeriesRecord = z
  .object({
    name: z.string(),
    sli: z.string(),
    scope: z.record(z.string(), z.unknown()),
    unit: z.string(),
    objective: z.string().optional(),
    threshold: z.number().nullable().optional(),
    /** [when, value]: null is no data (a gap), never zero. */
    points: z.array(z.tuple([z.string(), z.number().nullable()])),
    /** 1.3: each point is measured over the window ending at it, this long (ms). */
    windowMs: z.number().optional(),
  })
  .strict();

const StageRecord = z
  .object({
    at: z.string(),
    stage: z.number(),
    name: z.string().optional(),
    namespaces: z.array(z.object({ namespace: z.string(), meshed: z.boolean(), mtls: z.string().optional() }).strict()),
  })
  .strict();

/** One run of meshdrill, whatever kind: every report is rendered from this document. */
export const RunRecord = z
  .object({
    schemaVersion: z.string().regex(/^\d+\.\d+$/),
    runId: z.string(),
    kind: z.enum(['rollout-gate', 'gameday', 'suite', 'check']),
    /** 1.2: the game day's, suite's or plan's name: what runs again and again, where the runId is once. */
    name: z.string().optional(),
    startedAt: z.string(),
    finishedAt: z.string(),
    inputs: z
      .object({
        repo: z.string(),
        commit: z.string().optional(),
        files: z.array(z.object({ path: z.string(), sha256: z.string() }).strict()),
        plan: z.string().optional(),
        stage: z.number().optional(),
      })
      .strict(),
    cluster: z.object({ provider: z.string(), mesh: z.object({ name: z.string(), mode: z.string() }).strict() }).strict(),
    timeline: z.array(z.object({ at: z.string(), type: z.string(), message: z.string() }).strict()),
    gates: z.array(GateRecord),
    requirements: z.array(z.object({ requirement: z.string(), holds: z.boolean(), reason: z.string() }).strict()),
    decision: z
      .object({
        verdict: z.enum(['advance', 'hold', 'revert']),
        reasons: z.array(z.string()),
        fromStage: z.number(),
        toStage: z.number().optional(),
      })
      .strict()
      .optional(),
    pullRequest: PullRequestRecord.optional(),
    /** Game days and suites: the overall verdict. */
    /**
     * Game days and suites: the overall verdict. 1.3: inconclusive (evidence missing where the
     * document asked for it to count as such), steady-state-not-met (no fault was injected),
     * dry-run (faults planned, none injected: never a pass).
     */
    outcome: z.object({ verdict: RunVerdict, reasons: z.array(z.string()), warnings: z.array(z.string()).optional() }).strict().optional(),
    steps: z.array(StepRecord).optional(),
    hypotheses: z.array(HypothesisRecord).optional(),
    assertions: z.array(AssertionRecord).optional(),
    faults: z.array(FaultRecord).optional(),
    /** 1.1: SLI time series at the evaluation resolution, one per measured gate. */
    series: z.array(SeriesRecord).optional(),
    /** 1.4: what the embedded cluster's twin read but does not model (kinds, fields, annotations, policy parts met by traffic). */
    notModelled: z.array(z.string()).optional(),
    /** 1.1: the mesh state per namespace at each stage the run went through. */
    stages: z.array(StageRecord).optional(),
  })
  .strict();
export type RunRecord = z.infer<typeof RunRecord>;
export type PullRequestRecord = z.infer<typeof PullRequestRecord>;
export type SeriesRecord = z.infer<typeof SeriesRecord>;
export type StageRecord = z.infer<typeof StageRecord>;
export type StepRecord = z.infer<typeof StepRecord>;
export type EvaluationRecord = z.infer<typeof Evaluation>;
export type HypothesisRecord = z.infer<typeof HypothesisRecord>;
export type AssertionRecord = z.infer<typeof AssertionRecord>;
export type FaultRecord = z.infer<typeof FaultRecord>;

/** A stage as the record keeps it: which namespaces were meshed and in which mTLS mode, from when. */
export function stageRecord(plan: { stage: number; current?: { name: string } | undefined; namespaces: ReadonlyArray<{ namespace: string; meshed: boolean; mtls?: string | undefined }> }, at: string): StageRecord {
  return { at, stage: plan.stage, ...(plan.current ? { name: plan.current.name } : {}), namespaces: plan.namespaces.map((n) => ({ namespace: n.namespace, meshed: n.meshed, ...(n.mtls ? { mtls: n.mtls } : {}) })) };
}

/** Reads a RunRecord, refusing a major version this meshdrill does not know. */
export async function readRunRecord(path: string): Promise<RunRecord> {
  const data: unknown = JSON.parse(await readFile(path, 'utf8'));
  return parseRunRecord(data, path);
}

export function parseRunRecord(data: unknown, path = 'run record'): RunRecord {
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version !== 'string') throw new Error(`${path}: not a meshdrill RunRecord (no schemaVersion)`);
  const [major] = version.split('.');
  const [known] = RUN_RECORD_VERSION.split('.');
  if (major !== known) throw new Error(`${path}: RunRecord schemaVersion ${version} is not supported; this meshdrill reads ${known}.x`);
  const parsed = RunRecord.safeParse(data);
  if (!parsed.success) throw new Error(`${path}: invalid RunRecord: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
