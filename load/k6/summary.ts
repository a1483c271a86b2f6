import { ConfigError } from '../../core/index.js';

/** What meshdrill reads from a k6 end-of-test summary, whichever of k6's two shapes it came in. */
export interface K6Summary {
  /** Metric values by name, sub-metrics included ("http_req_failed{phase:main}"). */
  metrics: Record<string, Record<string, number>>;
  thresholds: Array<{ metric: string; expression: string; ok: boolean }>;
  durationMs?: number;
}

type Json = Record<string, unknown>;

/**
 * Parses `handleSummary(data)` JSON (metrics.<name>.values and thresholds {expr: {ok}}) or the
 * legacy `--summary-export` file (values flattened, Rate's `rate` renamed `value`, thresholds
 * {expr: boolean} where true means FAILED) — k6 internal/js/summary-wrapper.js oldJSONSummary.
 */
export function parseK6Summary(text: string, file = 'k6 summary'): K6Summary {
  let data: Json;
  try {
    data = JSON.parse(text) as Json;
  } catch (error) {
    throw new ConfigError(`${file}: not JSON: ${(error as Error).message}`);
  }
  const metrics = data['metrics'];
  if (!metrics || typeof metrics !== 'object') throw new ConfigError(`${file}: no "metrics" object; expected k6 handleSummary data or a --summary-export file`);
  const out: K6Summary = { metrics: {}, thresholds: [] };
  const state = data['state'] as { testRunDurationMs?: number } | undefined;
  if (state?.testRunDurationMs !== undefined) out.durationMs = state.testRunDurationMs;
  for (const [name, raw] of Object.entries(metrics as Record<string, Json>)) {
    const handleSummaryShape = raw['values'] !== undefined && typeof raw['values'] === 'object';
    const values: Record<string, number> = {};
    const source = (handleSummaryShape ? raw['values'] : raw) as Json;
    for (const [k, v] of Object.entries(source)) if (typeof v === 'number') values[k] = v;
    // Legacy export: Rate metrics carry their rate as `value`.
    if (!handleSummaryShape && values['rate'] === undefined && values['value'] !== undefined && (values['passes'] !== undefined || values['fails'] !== undefined)) values['rate'] = values['value'];
    out.metrics[name] = values;
    for (const [expression, verdict] of Object.entries((raw['thresholds'] as Json | undefined) ?? {})) {
      const ok = typeof verdict === 'boolean' ? !verdict : Boolean((verdict as { ok?: boolean }).ok);
      out.thresholds.push({ metric: name, expression, ok });
    }
  }
  return out;
}
