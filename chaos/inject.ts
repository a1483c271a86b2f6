import { ClusterError } from '../core/index.js';
import { comparable, describeChange, describeRef, refOf, type ChangeExecutor, type ObjectRef } from './changes.js';
import type { FaultPlan } from './faults.js';
import type { Journal } from './journal.js';

export interface InjectedFault {
  plan: FaultPlan;
  injectedAt: number;
  /** Takes the fault back in reverse order, then checks that what it touched is as before. */
  revert(): Promise<RevertResult>;
}

export interface RevertResult {
  revertedAt: number;
  /** Objects that differ from before the fault; empty when the revert restored everything. */
  leftovers: string[];
}

/**
 * Injects a fault: each change's undo is journalled (fsync) before the change is made. A failure
 * part-way takes back what was done and rethrows: nothing is left half-injected.
 */
export async function injectFault(plan: FaultPlan, deps: { executor: ChangeExecutor; journal: Journal; now: () => number }): Promise<InjectedFault> {
  const { executor, journal } = deps;
  const touched = new Map<string, { ref: ObjectRef; before: string }>();
  const done: number[] = [];
  const undos: Array<{ seq: number; undo: Awaited<ReturnType<ChangeExecutor['undoFor']>> }> = [];
  const revertDone = async () => {
    for (const { seq, undo } of [...undos].reverse()) {
      if (done.includes(seq)) continue;
      await executor.undo(undo);
      await journal.done(seq);
      done.push(seq);
    }
  };
  try {
    for (const change of plan.changes) {
      const ref = change.type === 'apply' ? refOf(change.object) : change.type === 'node-ready' ? undefined : change.ref;
      // Pods deleted by a fault come back as new pods: there is nothing to compare them with.
      if (ref && ref.kind !== 'Pod' && !touched.has(describeRef(ref))) touched.set(describeRef(ref), { ref, before: comparable(await executor.get(ref)) });
      const undo = await executor.undoFor(change);
      const seq = await journal.record(plan.name, describeChange(change), undo);
      undos.push({ seq, undo });
      await executor.perform(change);
    }
  } catch (error) {
    await revertDone();
    throw error;
  }
  return {
    plan,
    injectedAt: deps.now(),
    async revert() {
      await revertDone();
      const leftovers: string[] = [];
      for (const { ref, before } of touched.values()) {
        const after = comparable(await executor.get(ref));
        if (after !== before) leftovers.push(`${describeRef(ref)} differs from before the fault`);
      }
      return { revertedAt: deps.now(), leftovers };
    },
  };
}

export interface ReplayResult {
  /** What was taken back. */
  made: string[];
  /** What was not this run's to touch: reported, left as it is. */
  leftAlone: string[];
}

/**
 * Replays every pending undo of a journal, newest first: what teardown and `meshdrill cleanup` do.
 * An undo that cannot be made does not stop the others; it stays pending, so replaying again is
 * safe. With `dryRun` it reads the cluster and says what it would do, writing nothing.
 */
export async function replayJournal(journal: Journal, executor: ChangeExecutor, options: { dryRun?: boolean } = {}): Promise<ReplayResult> {
  const result: ReplayResult = { made: [], leftAlone: [] };
  const failed: string[] = [];
  for (const entry of await journal.pending()) {
    let outcome: Awaited<ReturnType<ChangeExecutor['undo']>>;
    try {
      outcome = await executor.undo(entry.undo, options);
    } catch (error) {
      failed.push(`${entry.fault}: could not undo ${entry.description}: ${(error as Error).message}`);
      continue;
    }
    if ('left' in outcome) result.leftAlone.push(`${entry.fault}: ${outcome.left}`);
    else result.made.push(`${entry.fault}: ${options.dryRun ? outcome.made : `undid ${entry.description}`}`);
    if (!options.dryRun) await journal.done(entry.seq, 'left' in outcome ? outcome.left : undefined);
  }
  if (failed.length > 0) throw new ClusterError(`${failed.length} undo${failed.length === 1 ? '' : 's'} failed (${result.made.length} made); each stays in the journal for the next \`meshdrill cleanup\`:\n  ${failed.join('\n  ')}`);
  return result;
}
