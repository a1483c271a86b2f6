import type { SliKey } from '../model/index.js';
import type { Scope } from '../model/index.js';

/** A measurement's verdict: never a bare boolean. */
export type Verdict = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

/** A time window in ms since the epoch, (from, to]. */
export interface Window {
  from: number;
  to: number;
}

/** One SLI value over a window, with the number of samples behind it. */
export interface Measurement {
  value: number;
  samples: number;
  window: Window;
  source: string;
  query?: string;
  error?: string;
  /** Why there may be no data, when the source knows (e.g. a metric the mesh keeps only when asked). */
  whenEmpty?: string;
}

/** Where SLIs come from: Prometheus, the embedded cluster's metric store, a load summary. */
export interface SliSource {
  readonly name: string;
  measure(sli: SliKey, scope: Scope, window: Window, options?: { query?: string }): Promise<Measurement>;
}

export interface Evaluation {
  sli: SliKey;
  scope: Scope;
  objective: string;
  verdict: Verdict;
  value: number;
  /** The threshold the value was compared with (the baseline applied, for relative objectives). */
  threshold: number;
  samples: number;
  window: Window;
  baseline?: number;
  reason: string;
  source: string;
}
