import { stringify } from 'yaml';
import { renderPromql, sliQuery, type DataPlaneMode, type MeshName } from '../meshes/index.js';
import { ISTIO_LATENCY_BUCKETS, LINKERD_LATENCY_BUCKETS } from '../clusters/index.js';
import { parseObjective } from './objective.js';
import type { Slo } from './schema.js';

// SLO documents as Prometheus rules: recording rules for the error ratio over each window, and
// the multiwindow, multi-burn-rate alerts of the Google SRE workbook ("Alerting on SLOs", table
// 5-8): page when 2% of a 30-day budget burns in an hour (14.4×, checked over 1h and 5m) or 5% in
// six hours (6×, 6h and 30m); ticket at 10% in a day (3×, 1d and 2h) or 10% in three days (1×, 3d
// and 6h). The short window makes an alert stop soon after the burn does. Names follow the
// `level:metric:operations` convention (slo:sli_error:ratio_rate5m), as Sloth's rules do.

const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
export const BURN_RATE_ALERTS = [
  { severity: 'page', long: '1h', short: '5m', factor: 14.4 },
  { severity: 'page', long: '6h', short: '30m', factor: 6 },
  { severity: 'ticket', long: '1d', short: '2h', factor: 3 },
  { severity: 'ticket', long: '3d', short: '6h', factor: 1 },
] as const;

export interface RuleGroup {
  name: string;
  rules: Array<{ record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }>;
}

export interface BurnRateRules {
  groups: RuleGroup[];
  /** SLOs that are not a ratio of good to all events, with why: no burn-rate rule for them. */
  skipped: string[];
}

/** The bad-event ratio of an SLO as PromQL over a window, and its error budget (a fraction), or why there is none. */
function errorRatio(slo: Slo, mesh: MeshName, mode: DataPlaneMode): { expr: (window: string) => string; budget: number } | string {
  const { sli, scope, objective } = slo.spec;
  if (slo.spec.source === 'client') return 'it is measured from the callers\' own view (the load generator), which the mesh\'s Prometheus does not hold';
  const parsed = parseObjective(objective);
  if (!parsed.ok || parsed.objective.baseline) return 'its objective is relative to a baseline, which an alert has no window for';
  const o = parsed.objective;
  if (sli === 'success-rate') {
    if (o.unit !== 'percent' || !(o.comparator === '>=' || o.comparator === '>') || o.value >= 100) return 'a success-rate objective needs ">= X%" below 100%';
    const q = sliQuery(mesh, mode, 'success-rate', scope);
    return { expr: (w) => `1 - (${renderPromql({ ...q, scale: 1 }, w)})`, budget: 1 - o.value / 100 };
  }
  if (sli === 'latency-p50' || sli === 'latency-p95' || sli === 'latency-p99') {
    if (o.unit !== 'duration' || !(o.comparator === '<=' || o.comparator === '<')) return 'a latency objective needs "<= <duration>"';
    const q = sliQuery(mesh, mode, sli, scope);
    if (q.kind !== 'quantile') return 'no histogram for this latency';
    const bounds = mesh === 'istio' ? ISTIO_LATENCY_BUCKETS : LINKERD_LATENCY_BUCKETS;
    if (!bounds.includes(o.value)) return `${o.value} ms is not a bucket boundary of ${q.metric} (${bounds.filter((b) => b >= o.value / 10 && b <= o.value * 10).join(', ')} ms are): the share of requests slower than it cannot be counted`;
    // Slower than the threshold: all requests minus those in the threshold's bucket.
    const within = { kind: 'ratio' as const, metric: `${q.metric}_count`, numeratorMetric: `${q.metric}_bucket`, numerator: { ...q.filters, le: String(o.value) }, denominator: q.filters, scale: 1 };
    return { expr: (w) => `1 - (${renderPromql(within, w)})`, budget: 1 - q.q };
  }
  return `${sli} is not a ratio of good to all requests; burn-rate alerts need one (success-rate or a latency percentile)`;
}

/** Recording and alerting rules for the SLOs, one group per SLO. */
export function burnRateRules(slos: Slo[], mesh: MeshName, mode: DataPlaneMode): BurnRateRules {
  const groups: RuleGroup[] = [];
  const skipped: string[] = [];
  for (const slo of slos) {
    const name = slo.metadata.name;
    const ratio = errorRatio(slo, mesh, mode);
    if (typeof ratio === 'string') {
      skipped.push(`${name}: ${ratio}`);
      continue;
    }
    const labels = { slo: name, sli: slo.spec.sli };
    const budget = Number(ratio.budget.toPrecision(6));
    const record = (w: string) => `slo:sli_error:ratio_rate${w}`;
    const selector = `{slo="${name}"}`;
    groups.push({
      name: `meshdrill-slo-${name}`,
      rules: [
        ...WINDOWS.map((w) => ({ record: record(w), expr: ratio.expr(w), labels })),
        { record: 'slo:objective:ratio', expr: `vector(${Number((1 - budget).toPrecision(6))})`, labels },
        ...BURN_RATE_ALERTS.map((a) => ({
          alert: `SLOBurnRate${a.severity === 'page' ? 'Page' : 'Ticket'}`,
          expr: `(${record(a.long)}${selector} > (${a.factor} * ${budget})) and (${record(a.short)}${selector} > (${a.factor} * ${budget}))`,
          labels: { ...labels, severity: a.severity, window: a.long },
          annotations: {
            summary: `SLO ${name} is burning its error budget ${a.factor}× too fast`,
            description: `Over the last ${a.long} (and ${a.short}) the error ratio of ${name} (${slo.spec.objective}) is above ${a.factor} × ${budget}: at this rate the 30-day budget lasts ${Number((30 / a.factor).toFixed(1))} days.`,
          },
        })),
      ],
    });
  }
  return { groups, skipped };
}

/** A Prometheus rule file. */
export function ruleFile(rules: BurnRateRules): string {
  return stringify({ groups: rules.groups }, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** The same rules as a prometheus-operator PrometheusRule object. */
export function prometheusRule(rules: BurnRateRules, name: string, namespace: string): string {
  return stringify({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'meshdrill' } }, spec: { groups: rules.groups } }, { aliasDuplicateObjects: false, lineWidth: 0 });
}
