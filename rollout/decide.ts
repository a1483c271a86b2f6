import type { Evaluation } from '../slo/index.js';

export type RolloutVerdict = 'advance' | 'hold' | 'revert';

export interface GateLimits {
  /** A key gate fails the stage on its own. */
  key: boolean;
  /** Failed measurements tolerated (Argo Rollouts' failureLimit). */
  failureLimit: number;
  /** Inconclusive measurements tolerated before the verdict is hold (inconclusiveLimit). */
  inconclusiveLimit: number;
  /** Consecutive successful measurements needed to pass (consecutiveSuccessLimit). */
  consecutiveSuccessLimit: number;
}

export interface GateHistory {
  name: string;
  limits: GateLimits;
  /** Measurements in time order. */
  measurements: Evaluation[];
}

export type GateState = 'passed' | 'failed' | 'inconclusive' | 'pending';

export interface GateOutcome {
  name: string;
  state: GateState;
  key: boolean;
  failures: number;
  inconclusives: number;
  consecutiveSuccesses: number;
  last?: Evaluation;
  reason: string;
}

export interface RolloutDecision {
  verdict: RolloutVerdict;
  reasons: string[];
  gates: GateOutcome[];
}

/** Argo Rollouts' measurement counting, per gate; Error measurements count as inconclusive. */
export function gateOutcome(history: GateHistory): GateOutcome {
  const { limits, measurements } = history;
  const failures = measurements.filter((m) => m.verdict === 'Failed').length;
  const inconclusives = measurements.filter((m) => m.verdict === 'Inconclusive' || m.verdict === 'Error').length;
  let consecutiveSuccesses = 0;
  for (const m of [...measurements].reverse()) {
    if (m.verdict !== 'Successful') break;
    consecutiveSuccesses++;
  }
  const last = measurements.at(-1);
  const base = { name: history.name, key: limits.key, failures, inconclusives, consecutiveSuccesses, ...(last ? { last } : {}) };
  if (failures > limits.failureLimit) return { ...base, state: 'failed', reason: `${failures} failed measurement${failures === 1 ? '' : 's'} (limit ${limits.failureLimit})${last ? `; last: ${last.reason}` : ''}` };
  if (consecutiveSuccesses >= limits.consecutiveSuccessLimit) return { ...base, state: 'passed', reason: `${consecutiveSuccesses} consecutive successful measurement${consecutiveSuccesses === 1 ? '' : 's'}${last ? `; last: ${last.reason}` : ''}` };
  if (inconclusives > limits.inconclusiveLimit) return { ...base, state: 'inconclusive', reason: `${inconclusives} inconclusive measurement${inconclusives === 1 ? '' : 's'} (limit ${limits.inconclusiveLimit})${last ? `; last: ${last.reason}` : ''}` };
  return { ...base, state: 'pending', reason: measurements.length === 0 ? 'no measurement yet' : `${consecutiveSuccesses} of ${limits.consecutiveSuccessLimit} consecutive successes so far` };
}

/**
 * The stage's verdict from its gates: revert when a gate failed beyond its tolerance (a key gate
 * alone suffices), advance when every gate passed, hold otherwise — and hold, not advance,
 * during the cool-down after a revert, so the plan does not flap.
 */
export function decideStage(histories: GateHistory[], context: { now: number; coolDownUntil?: number; lastStage: boolean }): RolloutDecision {
  const gates = histories.map(gateOutcome);
  const failed = gates.filter((g) => g.state === 'failed');
  if (failed.length > 0) {
    const key = failed.filter((g) => g.key);
    return { verdict: 'revert', gates, reasons: (key.length > 0 ? key : failed).map((g) => `${g.key ? 'key gate' : 'gate'} ${g.name} failed: ${g.reason}`) };
  }
  const open = gates.filter((g) => g.state !== 'passed');
  if (open.length > 0) return { verdict: 'hold', gates, reasons: open.map((g) => `gate ${g.name} is ${g.state}: ${g.reason}`) };
  if (context.lastStage) return { verdict: 'hold', gates, reasons: ['every gate passed; the plan is at its last stage'] };
  if (context.coolDownUntil !== undefined && context.now < context.coolDownUntil) {
    return { verdict: 'hold', gates, reasons: [`every gate passed, but the plan is cooling down after a revert until ${new Date(context.coolDownUntil).toISOString()}`] };
  }
  return { verdict: 'advance', gates, reasons: [gates.length === 0 ? 'the stage has no gates' : 'every gate passed'] };
}
