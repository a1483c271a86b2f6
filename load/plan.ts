import { parseDuration, type Topology } from '../model/index.js';
import { parseObjective, type Slo } from '../slo/index.js';
import type { LoadSpec } from './schema.js';
import type { z } from 'zod';
import type { LoadPlan, LoadThreshold } from './types.js';

const PORT = 8080;
const PERCENTILES: Record<string, string> = { 'latency-p50': 'med', 'latency-p95': 'p(95)', 'latency-p99': 'p(99)' };

/**
 * A load plan from a load spec, the topology's entrypoints (scaled to the spec's total rate) and
 * the SLOs that k6 can check itself: absolute success-rate and latency objectives become k6
 * thresholds, per target when the SLO is scoped to an entry service.
 */
export function planLoad(name: string, spec: z.input<typeof LoadSpec>, topology: Topology, slos: Slo[] = []): LoadPlan {
  const entries = spec.entrypoints ? spec.entrypoints.map((service) => ({ service, rps: topology.spec.entrypoints.find((e) => e.service === service)?.rps ?? 1 })) : topology.spec.entrypoints;
  const natural = entries.reduce((n, e) => n + e.rps, 0);
  const scale = spec.rps !== undefined && natural > 0 ? spec.rps / natural : 1;
  const targets = entries.map((e) => {
    const [ns, svc] = e.service.split('/');
    return { service: e.service, url: `http://${svc}.${ns}.svc.cluster.local:${PORT}/`, rps: Number((e.rps * scale).toFixed(3)) };
  });
  return {
    name,
    targets,
    durationMs: parseDuration(spec.duration) ?? 0,
    rampUpMs: spec.rampUp ? (parseDuration(spec.rampUp) ?? 0) : 0,
    warmUpMs: parseDuration(spec.warmUp ?? '30s') ?? 30_000,
    thresholds: slos.flatMap((slo) => thresholdFor(slo, targets.map((t) => t.service))),
    extensions: [],
    k6Version: 'v1.3.0',
  };
}

function thresholdFor(slo: Slo, entryServices: string[]): LoadThreshold[] {
  const { sli, scope, objective } = slo.spec;
  const parsed = parseObjective(objective);
  if (!parsed.ok || parsed.objective.baseline) return [];
  // k6 sees only the requests it sends: mesh-wide or entry-service scopes.
  if (scope.namespace || scope.edge || (scope.service && !entryServices.includes(scope.service))) return [];
  const service = scope.service;
  const base = { from: slo.metadata.name, ...(service ? { service } : {}) };
  const { comparator, value } = parsed.objective;
  if (sli === 'success-rate' && (comparator === '>=' || comparator === '>')) {
    const failed = Number(((100 - value) / 100).toFixed(6));
    return [{ ...base, metric: 'http_req_failed', expression: `rate${comparator === '>=' ? '<=' : '<'}${failed}` }];
  }
  const aggregate = PERCENTILES[sli];
  if (aggregate && (comparator === '<=' || comparator === '<')) return [{ ...base, metric: 'http_req_duration', expression: `${aggregate}${comparator}${value}` }];
  return [];
}
