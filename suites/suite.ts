import { ClusterError } from '../core/index.js';
import { parseDuration } from '../model/index.js';
import { describeStep, isAbort, runProgram, type GameDayDeps, type GameDayInput, type GameDayRecord, type Program, type ProgramHooks } from './gameday.js';
import type { Step, Suite } from './schema.js';

export interface SuiteInput extends Omit<GameDayInput, 'gameDay'> {
  suite: Suite;
}

/** Infrastructure errors worth another try: the cluster or the network, not the config or a check. */
export function isInfrastructureError(error: unknown): boolean {
  if (error instanceof ClusterError) return true;
  const e = error as { code?: unknown; statusCode?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET'].includes(e.code)) return true;
  const status = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return e.cause !== undefined && e.cause !== error && isInfrastructureError(e.cause);
}

/** Time a step lets pass in the cluster, checked against its timeout before it starts. */
function clusterTime(step: Step): number {
  if (step.wait) return parseDuration(step.wait) ?? 0;
  if (step.load) return (parseDuration(step.load.warmUp) ?? 0) + (parseDuration(step.load.duration) ?? 0);
  if (step.fault && 'duration' in step.fault && step.fault.duration) return parseDuration(step.fault.duration) ?? 0;
  return 0;
}

/**
 * A suite, Chainsaw-style: each step's `try` operations in order; when one fails, its `catch`
 * operations (diagnostics); `finally` always. Timeouts are inherited suite → step → operation.
 * Infrastructure errors are retried quietly and recorded; failed checks are not retried; a step
 * that passed only after a retry makes the run flaky, not passed.
 */
export function runSuite(input: SuiteInput, deps: GameDayDeps & { retries?: number }): Promise<GameDayRecord> {
  const spec = input.suite.spec;
  const retries = deps.retries ?? 2;
  const program: Program = {
    async run(hooks: ProgramHooks) {
      const total = spec.steps.reduce((n, s) => n + s.try.length + s.catch.length + s.finally.length, 0);
      let index = 0;
      for (const suiteStep of spec.steps) {
        const stepTimeout = parseDuration(suiteStep.timeout ?? spec.timeout) ?? 300_000;
        let failed = false;
        let retried = 0;
        const operate = async (op: Step, part: 'try' | 'catch' | 'finally'): Promise<boolean> => {
          const label = `${suiteStep.name} › ${part === 'try' ? '' : `${part}: `}${op.name ?? describeStep(op)}`;
          const timeout = op.timeout ? (parseDuration(op.timeout) ?? stepTimeout) : stepTimeout;
          const at = index++;
          if (clusterTime(op) > timeout) {
            hooks.fail(`${label}: takes ${clusterTime(op) / 1000}s of cluster time, over its timeout of ${timeout / 1000}s`);
            return false;
          }
          for (let attempt = 1; ; attempt++) {
            try {
              const result = await withTimeout(hooks.step(op, at, label, total), timeout, label);
              if (attempt > 1) retried++;
              return result.status === 'ok';
            } catch (error) {
              if (isAbort(error)) throw error;
              if (isInfrastructureError(error) && attempt <= retries) {
                hooks.note('retry', `${label}: infrastructure error, retrying (${attempt}/${retries}): ${(error as Error).message}`);
                continue;
              }
              hooks.fail(`${label}: ${isInfrastructureError(error) ? `infrastructure error after ${attempt} attempts` : 'error'}: ${(error as Error).message}`);
              return false;
            }
          }
        };
        for (const op of suiteStep.try) {
          if (!(await operate(op, 'try'))) {
            failed = true;
            break;
          }
        }
        if (failed) for (const op of suiteStep.catch) await operate(op, 'catch');
        for (const op of suiteStep.finally) await operate(op, 'finally');
        if (!failed && retried > 0) hooks.flaky(`${suiteStep.name}: passed only after ${retried} retried operation${retried === 1 ? '' : 's'}: flaky`);
      }
    },
  };
  return runProgram({ ...input, kind: 'suite', name: input.suite.metadata.name, seed: spec.seed, allowLong: spec.allowLong, hypotheses: [], abort: [], program }, deps);
}

function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: timed out after ${ms / 1000}s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
