import { prometheusTarget, type PrometheusAuth } from '../../slo/index.js';
import type { CliIO } from './io.js';

/** --prometheus with its auth (credentials in the URL, MESHDRILL_PROMETHEUS_* in the environment); the secrets are redacted. */
export function prometheusOptions(url: string | undefined, io: CliIO): { prometheusUrl?: string; prometheusAuth?: PrometheusAuth } {
  if (url === undefined) return {};
  const target = prometheusTarget(url, io.env);
  io.secrets?.add(...target.secrets);
  return { prometheusUrl: target.url, ...(Object.keys(target.auth).length ? { prometheusAuth: target.auth } : {}) };
}
