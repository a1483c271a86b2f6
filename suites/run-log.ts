import type { Progress } from '../core/index.js';
import type { RunRecord, RunVerdict } from '../reports/index.js';

export type { RunVerdict };

type Logger = { info(meta: Record<string, unknown>, message: string): void; warn(meta: Record<string, unknown>, message: string): void };

/** Whether the run has not failed yet. */
export const stillPassing = (v: RunVerdict) => v === 'pass' || v === 'flaky';

// How bad each verdict is: a worse one replaces a better one, never the other way round.
const RANK: Record<RunVerdict, number> = { pass: 0, flaky: 1, 'dry-run': 1, inconclusive: 2, fail: 3, 'steady-state-not-met': 4, aborted: 5, error: 6 };

/**
 * What a run has said so far: its timeline, its verdict and the reasons for it. Events before the
 * cluster exists have no cluster time yet; they take the time of the first event that has one.
 */
export class RunLog {
  readonly timeline: RunRecord['timeline'] = [];
  readonly reasons: string[] = [];
  /** What did not fail the run but a person should know (evidence ignored with onNoData: ignore). */
  readonly warnings: string[] = [];
  verdict: RunVerdict = 'pass';

  constructor(
    private readonly clusterNow: () => number | undefined,
    private readonly logger: Logger,
    private readonly progress?: Progress,
  ) {}

  note(type: string, message: string): void {
    const now = this.clusterNow();
    this.timeline.push({ at: now === undefined ? '' : new Date(now).toISOString(), type, message });
    this.logger.info({}, message);
    // The live list shows steps itself; what happens inside a step goes under it.
    if (type !== 'step') this.progress?.note(message);
  }

  /** A failed check: the run fails unless it has already ended worse. */
  fail(reason: string): void {
    this.raise('fail', reason);
  }

  /** The verdict becomes `verdict` if that is worse than it is now; the reason is kept either way. */
  raise(verdict: RunVerdict, reason: string): void {
    if (RANK[verdict] > RANK[this.verdict]) this.verdict = verdict;
    this.reasons.push(reason);
  }

  flaky(reason: string): void {
    if (this.verdict === 'pass') this.verdict = 'flaky';
    this.reasons.push(reason);
  }

  /** Sets the verdict whatever it was, with the reason. */
  end(verdict: RunVerdict, reason: string): void {
    this.verdict = verdict;
    this.reasons.push(reason);
  }

  /** Events logged before the cluster had a clock take the first cluster time, or the start. */
  settleTimes(startedAt: string): void {
    const first = this.timeline.find((e) => e.at !== '')?.at ?? startedAt;
    for (const e of this.timeline) if (e.at === '') e.at = first;
  }
}
