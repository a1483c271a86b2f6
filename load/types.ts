import type { Window } from '../slo/index.js';

/** Where load enters, at what rate. */
export interface LoadTarget {
  /** "namespace/service" of the topology. */
  service: string;
  url: string;
  rps: number;
}

/** A pass criterion in k6's own syntax, derived from an SLO. */
export interface LoadThreshold {
  metric: 'http_req_failed' | 'http_req_duration';
  expression: string;
  /** Restricts the threshold to one target's requests. */
  service?: string;
  /** The SLO it came from, for reports. */
  from: string;
}

/** One load spec, whichever runner drives it. */
export interface LoadPlan {
  name: string;
  targets: LoadTarget[];
  durationMs: number;
  rampUpMs: number;
  /** Excluded from statistics: caches, connection pools and autoscalers settle first. */
  warmUpMs: number;
  thresholds: LoadThreshold[];
  /** xk6 extensions, e.g. "github.com/grafana/xk6-disruptor"; a custom k6 is built when non-empty. */
  extensions: string[];
  k6Version: string;
}

export interface LoadResult {
  runner: string;
  /** Requests after warm-up. */
  requests: number;
  failed: number;
  /** Requests that got no HTTP status at all (reset, refused). */
  connectionErrors: number;
  successRate: number;
  latency: { p50: number; p95: number; p99: number };
  thresholds: Array<LoadThreshold & { passed: boolean }>;
  /** Some threshold failed: a gate failure, not an infrastructure error. */
  thresholdsFailed: boolean;
  window: Window;
  /** Set when the environment looks broken (e.g. > 10 % connection errors during warm-up). */
  infrastructureProblem?: string;
}

export interface LoadRunner {
  readonly name: string;
  run(plan: LoadPlan): Promise<LoadResult>;
}

/** The share of connection errors during warm-up beyond which the environment, not the mesh, is broken. */
export const INFRASTRUCTURE_ERROR_SHARE = 0.1;
