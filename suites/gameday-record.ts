import { RUN_RECORD_VERSION } from '../reports/index.js';
import type { GameDayRun } from './gameday-run.js';
import type { GameDayRecord } from './gameday-types.js';
import { stillPassing } from './run-log.js';

/** The run's verdict from its hypotheses, and the record every report is rendered from. */
export function buildRecord(run: GameDayRun, startedAt: number, finishedAt: number): GameDayRecord {
  const { log, input } = run;
  // A run that stopped before measuring anything has one cause; unmeasured hypotheses add none.
  const stoppedEarly = ['error', 'aborted', 'steady-state-not-met'].includes(log.verdict);
  const judged = run.watch.results().map((h) => (stoppedEarly && h.evaluations.length === 0 ? { ...h, holds: false, outcome: 'inconclusive' as const, reason: 'not evaluated: the run stopped before measuring it', warnings: [] } : h));
  for (const h of judged) {
    if (stoppedEarly && h.evaluations.length === 0) continue;
    log.warnings.push(...h.warnings.map((w) => `hypothesis ${h.name}: ${w}`));
    if (h.outcome === 'failed') {
      const first = h.evaluations.find((e) => e.verdict === 'Failed') ?? h.evaluations.find((e) => e.verdict === 'Error');
      log.fail(first ? `hypothesis ${h.name} ${first.verdict === 'Failed' ? 'failed' : 'could not be measured'} ${first.phase} the faults: ${first.gate} ${first.reason} at ${first.at}` : `hypothesis ${h.name}: ${h.reason}`);
    } else if (h.outcome === 'inconclusive') {
      log.raise('inconclusive', `hypothesis ${h.name} is inconclusive (onNoData: inconclusive): ${h.reason}`);
    }
  }
  const holds = judged.map(({ warnings: _w, ...h }) => h);
  const faults = run.faults.records;
  if (stillPassing(log.verdict) && (input.kind === 'gameday' || holds.length > 0)) log.reasons.push(`${holds.length} hypothes${holds.length === 1 ? 'is' : 'es'} held through ${faults.length} fault${faults.length === 1 ? '' : 's'}`);
  // A dry run injected nothing: whatever its hypotheses did, it is not a pass (nor a failure of the mesh).
  if (run.deps.dryRun && !['aborted', 'error'].includes(log.verdict)) log.verdict = 'dry-run';
  log.settleTimes(run.iso(startedAt));
  return {
    schemaVersion: RUN_RECORD_VERSION,
    runId: input.runId,
    kind: input.kind,
    name: input.name,
    startedAt: run.iso(startedAt),
    finishedAt: run.iso(finishedAt),
    inputs: { repo: '', files: [], ...(input.plan ? { plan: input.plan.metadata.name, stage: input.plan.status.stage } : {}) },
    cluster: { provider: run.cluster?.provider ?? `${run.deps.provider ?? 'no'} (not provisioned)`, mesh: { name: run.adapter.name, mode: run.adapter.mode } },
    timeline: log.timeline,
    gates: [],
    requirements: [],
    outcome: { verdict: log.verdict, reasons: log.reasons, ...(log.warnings.length ? { warnings: log.warnings } : {}) },
    steps: run.steps,
    hypotheses: holds,
    assertions: run.assertions,
    faults,
    series: run.watch.series(),
    stages: run.stageLog,
    ...notModelledOf(run),
  };
}

function notModelledOf(run: GameDayRun): { notModelled?: string[] } {
  const found = run.cluster?.notModelled?.() ?? [];
  return found.length ? { notModelled: found } : {};
}
