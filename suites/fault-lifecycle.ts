import { describeChange, injectFault, type ChangeExecutor, type FaultPlan, type InjectedFault, type Journal } from '../chaos/index.js';
import type { FaultRecord } from '../reports/index.js';
import type { Phase } from './hypothesis-watch.js';
import type { RunLog } from './run-log.js';

const DAY = 86_400_000;

export interface ActiveFault {
  fault: InjectedFault;
  record: FaultRecord;
}

/**
 * The faults of a run, from injection to revert: each one journalled before it goes in, recorded,
 * and taken back either when its duration ends or, however the run ends, newest first.
 */
export class FaultLifecycle {
  readonly records: FaultRecord[] = [];
  private readonly active_: ActiveFault[] = [];

  constructor(
    private readonly log: RunLog,
    private readonly onReverting?: (what: string[]) => void,
  ) {}

  /** Whether faults are in, have been, or have not yet been: the phase hypotheses are judged in. */
  phase(): Phase {
    return this.active_.length > 0 ? 'during' : this.records.length > 0 ? 'after' : 'before';
  }

  async inject(plan: FaultPlan, deps: { executor: ChangeExecutor; journal: Journal; now: () => number }): Promise<ActiveFault> {
    const injected = await injectFault(plan, deps);
    const record: FaultRecord = { name: plan.name, type: plan.type, summary: plan.summary, notes: plan.notes, changes: plan.changes.map(describeChange), injectedAt: new Date(injected.injectedAt).toISOString(), leftovers: [] };
    this.records.push(record);
    const entry = { fault: injected, record };
    this.active_.push(entry);
    this.log.note('fault-injected', `injected ${plan.name}: ${plan.summary}`);
    return entry;
  }

  /** A fault still in, by its name. */
  active(name: string): ActiveFault | undefined {
    return this.active_.find((a) => a.record.name === name);
  }

  /** Takes one fault back; what it leaves behind fails the run. */
  async revert(entry: ActiveFault): Promise<void> {
    const result = await entry.fault.revert();
    this.active_.splice(this.active_.indexOf(entry), 1);
    entry.record.revertedAt = new Date(result.revertedAt).toISOString();
    entry.record.leftovers = result.leftovers;
    this.log.note('fault-reverted', `reverted ${entry.record.name}${result.leftovers.length ? `; leftovers: ${result.leftovers.join(', ')}` : ''}`);
    if (result.leftovers.length) this.log.end('fail', `the revert of ${entry.record.name} left changes behind: ${result.leftovers.join(', ')}`);
  }

  /** However the run ended: every fault still in is taken back, newest first. */
  async revertAll(runId: string): Promise<void> {
    for (const entry of [...this.active_].reverse()) {
      this.onReverting?.(this.active_.map((a) => a.record.name).reverse());
      try {
        await this.revert(entry);
      } catch (error) {
        this.log.end('error', `reverting ${entry.record.name} failed: ${(error as Error).message}; run \`meshdrill cleanup --run-id ${runId}\``);
      }
    }
  }
}

/**
 * Time to the first failed hypothesis evaluation after a fault went in, and what it means at a
 * 24 h certificate lifetime when the game day compressed lifetimes.
 */
export function impactOf(hypotheses: Array<{ evaluations: Array<{ at: string; verdict: string }> }>, injectedAt: number, until: number, certLifetimeMs: number, certLeftMs?: number): string {
  const first = hypotheses
    .flatMap((h) => h.evaluations)
    .filter((e) => e.verdict === 'Failed' && Date.parse(e.at) > injectedAt && Date.parse(e.at) <= until)
    .map((e) => Date.parse(e.at))
    .sort((a, b) => a - b)[0];
  const minutes = (ms: number) => (ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${(ms / 60_000).toFixed(1)} min`);
  const scaled = (ms: number) => (certLifetimeMs >= DAY ? minutes(ms) : `${minutes(ms)} compressed (≈ ${minutes((ms * DAY) / certLifetimeMs)} at a 24 h certificate lifetime)`);
  if (first === undefined) return `no hypothesis failed while the fault was in${certLeftMs !== undefined ? `; the shortest certificate had ${scaled(Math.max(0, certLeftMs))} left at its end` : ''}`;
  return `first failures after ${scaled(first - injectedAt)}`;
}
