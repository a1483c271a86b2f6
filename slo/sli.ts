import type { ObjectiveUnit } from './objective.js';

/** The SLIs meshdrill can measure, with the unit their objectives are written in. */
export const SLI_UNITS = {
  'success-rate': 'percent',
  'error-rate-4xx': 'percent',
  'error-rate-5xx': 'percent',
  'latency-p50': 'duration',
  'latency-p95': 'duration',
  'latency-p99': 'duration',
  // Share of requests into the scope that arrived without mTLS; evidence for all-callers-meshed.
  'plaintext-share': 'percent',
  'retries-per-request': 'number',
  'cert-min-remaining': 'duration',
  'proxy-config-age': 'duration',
  'proxy-memory': 'bytes',
  'push-latency': 'duration',
  // Escape hatch: a raw PromQL query whose result is compared as a plain number.
  promql: 'number',
} as const satisfies Record<string, ObjectiveUnit>;

export type SliKey = keyof typeof SLI_UNITS;
export const SLI_NAMES = Object.keys(SLI_UNITS) as [SliKey, ...SliKey[]];
