import { rm } from 'node:fs/promises';
import { Journal, replayJournal } from '../chaos/index.js';
import { namespacesGone } from './cluster-handle.js';
import { buildRecord } from './gameday-record.js';
import { GameDayRun } from './gameday-run.js';
import { describeStep, executeStep, verbOf, type StepResult } from './gameday-steps.js';
import type { GameDayDeps, GameDayInput, GameDayRecord, Program, ProgramHooks, ProgramInput } from './gameday-types.js';
import { Aborted, SteadyStateNotMet } from './hypothesis-watch.js';
import { stillPassing } from './run-log.js';

export type { GameDayDeps, GameDayInput, GameDayRecord, Program, ProgramHooks, ProgramInput } from './gameday-types.js';
export { describeStep };
export { isAbort } from './hypothesis-watch.js';

/** A game day: its steps in order; a failed check is recorded and the run goes on. */
export function runGameDay(input: GameDayInput, deps: GameDayDeps): Promise<GameDayRecord> {
  const { steps } = input.gameDay.spec;
  const program: Program = {
    async run(hooks) {
      for (const [index, step] of steps.entries()) await hooks.step(step, index, step.name ?? describeStep(step), steps.length);
    },
  };
  return runProgram({ ...input, kind: 'gameday', name: input.gameDay.metadata.name, seed: input.gameDay.spec.seed, allowLong: input.gameDay.spec.allowLong, steadyState: input.gameDay.spec.steadyState, hypotheses: input.gameDay.spec.hypotheses, abort: input.gameDay.spec.abort, program }, deps);
}

/**
 * Runs a game day: provision, install, deploy, then each step in order, with the steady-state
 * hypotheses evaluated before, during and after every fault and the abort conditions watched
 * throughout. Every fault is journalled before it is injected and reverted however the run ends.
 */
export async function runProgram(input: ProgramInput, deps: GameDayDeps): Promise<GameDayRecord> {
  const startedAt = deps.now();
  const run = new GameDayRun(input, deps);
  try {
    run.journal = await Journal.open(input.journalDir, input.runId, () => run.now());
    await input.program.run(hooksFor(run));
  } catch (error) {
    if (error instanceof SteadyStateNotMet) {
      run.log.end('steady-state-not-met', error.message);
      run.log.note('steady-state', error.message);
    } else if (error instanceof Aborted) {
      run.log.end('aborted', error.message);
      run.log.note('aborted', `aborting: ${error.message}; reverting every fault now`);
    } else {
      run.log.end('error', (error as Error).message);
      run.log.note('error', `error: ${(error as Error).message}; reverting every fault`);
    }
  } finally {
    await run.faults.revertAll(input.runId);
  }
  await collectDiagnostics(run);
  await tearDown(run);
  // However late the signal came, an interrupted run is never a pass.
  const why = deps.interrupted?.();
  if (why && stillPassing(run.log.verdict)) run.log.end('aborted', `interrupted (${why})`);
  const record = buildRecord(run, startedAt, deps.now());
  await run.cluster?.close();
  return record;
}

function hooksFor(run: GameDayRun): ProgramHooks {
  const { deps, log } = run;
  return {
    step: async (step, index, label, total) => {
      const title = `step ${index + 1}/${total}: ${label}`;
      log.note('step', title);
      deps.progress?.stepStarted(title);
      const startedAt = deps.now();
      let result: StepResult;
      try {
        result = await executeStep(run, step, index, label);
      } catch (error) {
        const status = error instanceof Aborted ? 'aborted' : 'error';
        run.steps.push({ index, name: label, verb: verbOf(step), startedAt: run.iso(startedAt), finishedAt: run.iso(deps.now()), status, detail: (error as Error).message });
        deps.progress?.stepFinished(title, status, (error as Error).message);
        throw error;
      }
      run.steps.push({ index, name: label, verb: verbOf(step), startedAt: run.iso(startedAt), finishedAt: run.iso(deps.now()), status: result.status, detail: result.detail });
      deps.progress?.stepFinished(title, result.status, result.detail);
      return result;
    },
    note: (type, message) => log.note(type, message),
    fail: (reason) => log.fail(reason),
    flaky: (reason) => log.flaky(reason),
    now: () => run.now(),
  };
}

/** After a run that did not pass, before the cluster goes: what a person needs. */
async function collectDiagnostics(run: GameDayRun): Promise<void> {
  const { cluster, deps } = run;
  if (!cluster || !deps.diagnostics || (stillPassing(run.log.verdict) && !run.watch.anyFailed())) return;
  // Asked to stop: revert and go, without minutes of log collection first.
  if (deps.interrupted?.()) return run.log.note('diagnostics', 'diagnostics skipped: the run was interrupted');
  const files = await deps.diagnostics(cluster, run.adapter, run.input.topology.spec.namespaces.map((n) => n.name)).catch((error: Error) => [`(diagnostics failed: ${error.message})`]);
  run.log.note('diagnostics', `collected ${files.length} diagnostic files`);
}

/**
 * An embedded cluster goes away with everything in it; a cluster that outlives the run gets every
 * journalled change taken back, the mesh and topology included, and its lease released last
 * (unless kept: then the lease goes and the journal says the rest was kept on purpose). A journal
 * with nothing left to undo is removed.
 */
async function tearDown(run: GameDayRun): Promise<void> {
  const { cluster, journal, input } = run;
  run.lease?.lease.stop();
  if (!journal) return;
  try {
    if (!cluster || cluster.ephemeral) return;
    if (run.deps.keep) {
      await run.keep();
      run.log.note('teardown', `kept: the mesh and topology stay; \`meshdrill cleanup --run-id ${input.runId} --include-kept\` removes them`);
      return;
    }
    run.deps.onReverting?.(['the run\'s own changes (teardown)']);
    const undone = await replayJournal(journal, run.executor());
    // Namespaces the run made are Terminating until emptied: the run ends when they are gone.
    const stuck = await namespacesGone(cluster.kube, input.runId, (ms) => cluster.advance(ms));
    run.log.note('teardown', `teardown: ${undone.made.length} changes taken back${undone.leftAlone.length ? `; left alone (not this run's): ${undone.leftAlone.join('; ')}` : ''}${stuck.length ? `; still terminating: ${stuck.join(', ')}` : ''}`);
  } catch (error) {
    run.log.end('error', `teardown failed: ${(error as Error).message}; run \`meshdrill cleanup --run-id ${input.runId}\``);
  } finally {
    await journal.close();
    // The embedded cluster took its changes with it; elsewhere only a journal with nothing to undo goes.
    const left = cluster && !cluster.ephemeral ? await journal.pending().catch(() => [{}]) : [];
    if (left.length === 0 && !(run.deps.keep && cluster && !cluster.ephemeral)) await rm(journal.path, { force: true });
  }
}
