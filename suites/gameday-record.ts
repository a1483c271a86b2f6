import { RUN_RECORD_VERSION } from '../reports/index.js';
import type { GameDayRun } from './gameday-run.js';
import type { GameDayRecord } from './gameday-types.js';
import { stillPassing } from './run-log.js';

/** The run's verdict from its hypotheses, and the record every report is rendered from. */
export function buildRecord(run: GameDayRun, startedAt: number, finishedAt: number): GameDayRecord {
  const { log, input } = run;
  const holds = run.watch.results();
  for (const h of holds.filter((x) => !x.holds)) {
    const first = h.evaluations.find((e) => e.verdict === 'Failed') ?? h.evaluations.find((e) => e.verdict === 'Error');
    log.fail(first ? `hypothesis ${h.name} ${first.verdict === 'Failed' ? 'failed' : 'could not be measured'} ${first.phase} the faults: ${first.gate} ${first.reason} at ${first.at}` : `hypothesis ${h.name} has no successful evaluation: no evidence it holds`);
  }
  const faults = run.faults.records;
  if (stillPassing(log.verdict) && (input.kind === 'gameday' || holds.length > 0)) log.reasons.push(`${holds.length} hypothes${holds.length === 1 ? 'is' : 'es'} held through ${faults.length} fault${faults.length === 1 ? '' : 's'}`);
  log.settleTimes(run.iso(startedAt));
  return {
    schemaVersion: RUN_RECORD_VERSION,
    runId: input.runId,
    kind: input.kind,
    name: input.name,
    startedAt: run.iso(startedAt),
    finishedAt: run.iso(finishedAt),
    inputs: { repo: '', files: [], ...(input.plan ? { plan: input.plan.metadata.name, stage: input.plan.status.stage } : {}) },
    cluster: { provider: run.cluster?.provider ?? 'none', mesh: { name: run.adapter.name, mode: run.adapter.mode } },
    timeline: log.timeline,
    gates: [],
    requirements: [],
    outcome: { verdict: log.verdict, reasons: log.reasons },
    steps: run.steps,
    hypotheses: holds,
    assertions: run.assertions,
    faults,
    series: run.watch.series(),
    stages: run.stageLog,
  };
}
