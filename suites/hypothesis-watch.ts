import { formatDuration, SLI_UNITS } from '../model/index.js';
import type { EvaluationRecord, HypothesisRecord, SeriesRecord } from '../reports/index.js';
import { evaluate, formatValue, isRelative, judgeEvidence, measureWithCallersFallback, resolveGate, type Evaluation, type GateSources, type Measurement, type OnNoData, type ResolvedGate, type Slo, type Window } from '../slo/index.js';
import type { GameDay } from './schema.js';

export type Phase = 'before' | 'during' | 'after';

/** An abort condition fired or the run was interrupted: not a step failure, the run stops. */
export class Aborted extends Error {}

/** No steady state, no experiment: the hypotheses did not hold before the first fault. */
export class SteadyStateNotMet extends Aborted {}

export function isAbort(error: unknown): boolean {
  return error instanceof Aborted;
}

interface WatchedHypothesis {
  name: string;
  description?: string;
  gates: ResolvedGate[];
  onNoData: OnNoData;
  evaluations: HypothesisRecord['evaluations'];
}

export function toEvaluation(gate: ResolvedGate, e: Evaluation): EvaluationRecord {
  return { at: new Date(e.window.to).toISOString(), gate: gate.name, verdict: e.verdict, value: Number.isFinite(e.value) ? e.value : null, threshold: Number.isFinite(e.threshold) ? e.threshold : null, samples: e.samples, reason: e.reason };
}

/**
 * A game day's steady-state hypotheses and abort conditions: each evaluation round records every
 * hypothesis gate and counts abort failures in a row; relative objectives compare with the
 * baseline window once it has run (each gate's baseline measured once).
 */
export class HypothesisWatch {
  readonly hypotheses: WatchedHypothesis[];
  private readonly aborts: Array<{ gate: ResolvedGate; consecutive: number; failedInARow: number }>;
  private baselineWindow: Window | undefined;
  private readonly baselines = new Map<string, Measurement>();
  /** Where SLIs come from; none until the mesh is installed. */
  sources: GateSources | undefined;

  constructor(spec: Pick<GameDay['spec'], 'hypotheses' | 'abort'>, slos: Slo[]) {
    this.hypotheses = spec.hypotheses.map((h) => ({ name: h.name, ...(h.description ? { description: h.description } : {}), gates: h.gates.map((g) => resolveGate(g, slos)), onNoData: h.onNoData ?? 'fail', evaluations: [] }));
    this.aborts = spec.abort.map((a) => ({ gate: resolveGate(a, slos), consecutive: a.consecutive, failedInARow: 0 }));
  }

  /** The window of the load step marked `baseline: true`, once it has run. */
  setBaseline(window: Window): void {
    this.baselineWindow = window;
    this.baselines.clear();
  }

  async judgeOver(gate: ResolvedGate, window: Window, minSamples: number): Promise<Evaluation> {
    // Namespaces not meshed yet have no mesh telemetry: their callers' view stands in.
    const measurement = await measureWithCallersFallback(gate, this.sources!, window);
    if (!isRelative(gate.objective)) return evaluate(gate.sli, gate.scope, gate.objective, measurement, { minSamples });
    if (!this.baselineWindow) return { ...evaluate(gate.sli, gate.scope, gate.objective, measurement, { minSamples }), verdict: 'Inconclusive', reason: 'the baseline window (the load step with baseline: true) has not run yet' };
    const key = `${gate.name}|${gate.sli}|${JSON.stringify(gate.scope)}|${gate.source}`;
    let baseline = this.baselines.get(key);
    if (!baseline) {
      baseline = await measureWithCallersFallback(gate, this.sources!, this.baselineWindow);
      this.baselines.set(key, baseline);
    }
    return evaluate(gate.sli, gate.scope, gate.objective, measurement, { minSamples, baseline });
  }

  /** A gate over its own window, ending now. */
  judge(gate: ResolvedGate, now: number): Promise<Evaluation> {
    return this.judgeOver(gate, { from: now - gate.windowMs, to: now }, gate.minSamples);
  }

  private rounds = 0;

  /**
   * One evaluation round: hypotheses recorded, abort conditions counted; throws Aborted when one
   * fires. When the very first round can measure none of them (the source cannot answer at all),
   * the run stops there with that reason, instead of running its full length to the same end.
   */
  async check(phase: Phase, now: number): Promise<void> {
    if (!this.sources) return;
    const round: Evaluation[] = [];
    for (const h of this.hypotheses) {
      for (const gate of h.gates) {
        const e = await this.judge(gate, now);
        round.push(e);
        h.evaluations.push({ ...toEvaluation(gate, e), phase });
      }
    }
    if (this.rounds++ === 0 && round.length > 0 && round.every((e) => e.verdict === 'Error')) {
      throw new Error(`none of the hypotheses' SLIs can be measured, so the run stops at its first evaluation: ${round[0]!.reason}`);
    }
    for (const a of this.aborts) {
      const e = await this.judge(a.gate, now);
      a.failedInARow = e.verdict === 'Failed' ? a.failedInARow + 1 : 0;
      if (a.failedInARow >= a.consecutive) throw new Aborted(`abort condition ${a.gate.name} ${a.gate.objective} failed ${a.failedInARow} evaluations in a row (${e.reason})`);
    }
  }

  /**
   * Chaos Toolkit's rule before the first fault: every hypothesis gate must hold over the
   * steady-state window ending now. Returns what does not, each with by how much.
   */
  async steadyStateProblems(now: number, windowMs: number | undefined): Promise<string[]> {
    const problems: string[] = [];
    const length = (gate: ResolvedGate) => windowMs ?? (this.baselineWindow ? this.baselineWindow.to - this.baselineWindow.from : gate.windowMs);
    for (const h of this.hypotheses) {
      for (const gate of h.gates) {
        const e = await this.judgeOver(gate, { from: now - length(gate), to: now }, gate.minSamples);
        if (e.verdict === 'Successful') continue;
        const by = e.verdict === 'Failed' && Number.isFinite(e.value) && Number.isFinite(e.threshold) ? ` by ${formatValue(gate.sli, Math.abs(e.value - e.threshold))}${SLI_UNITS[gate.sli] === 'percent' ? ' (percentage points)' : ''}` : '';
        problems.push(`hypothesis ${h.name}: ${gate.name} ${e.verdict === 'Failed' ? e.reason + by : `${e.verdict.toLowerCase()}: ${e.reason}`} over the ${formatDuration(length(gate))} before it`);
      }
    }
    return problems;
  }

  /** Gates of every hypothesis that failed over a window after a revert (the steady state did not return). */
  async failingOver(window: Window, minSamples: number): Promise<string[]> {
    const failing: string[] = [];
    for (const h of this.hypotheses) {
      for (const gate of h.gates) {
        const e = await this.judgeOver(gate, window, Math.min(gate.minSamples, minSamples));
        if (e.verdict === 'Failed') failing.push(`${h.name}: ${gate.name} ${e.reason}`);
      }
    }
    return failing;
  }

  /** Each hypothesis judged on its evidence (slo/evidence.ts), with the warnings it leaves. */
  results(): Array<HypothesisRecord & { warnings: string[] }> {
    return this.hypotheses.map((h) => {
      const judged = judgeEvidence(h.evaluations, h.onNoData);
      return { name: h.name, ...(h.description ? { description: h.description } : {}), holds: judged.outcome === 'held', outcome: judged.outcome, reason: judged.reason, evaluations: h.evaluations, warnings: judged.warnings };
    });
  }

  anyFailed(): boolean {
    return this.hypotheses.some((h) => h.evaluations.some((e) => e.verdict === 'Failed' || e.verdict === 'Error'));
  }

  /** One series per hypothesis gate, at the evaluation resolution. */
  series(): SeriesRecord[] {
    return this.hypotheses.flatMap((h) =>
      h.gates.map((gate) => ({
        name: `${h.name}: ${gate.name}`,
        sli: gate.sli,
        scope: gate.scope,
        unit: SLI_UNITS[gate.sli],
        objective: gate.objective,
        threshold: h.evaluations.find((e) => e.gate === gate.name && e.threshold !== null)?.threshold ?? null,
        points: h.evaluations.filter((e) => e.gate === gate.name).map((e): [string, number | null] => [e.at, e.value]),
        windowMs: gate.windowMs,
      })),
    );
  }
}
