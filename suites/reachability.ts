import type { GateSources } from '../slo/index.js';
import type { z } from 'zod';
import type { ReachabilityExpectation } from './schema.js';

type Expectation = z.infer<typeof ReachabilityExpectation>;

export interface ReachabilityResult {
  from: string;
  to: string;
  expect: 'allowed' | 'denied';
  mtls?: boolean;
  holds: boolean;
  observed: string;
}

/** Consecutive windows an outcome must hold in: Istio's own tests ask for 3 successes in a row. */
export const CONSECUTIVE = 3;

/**
 * Checks a reachability matrix over the last CONSECUTIVE windows: an allowed pair must succeed
 * (≥ 99 % as its callers saw it) in every window, a denied pair must fail every request in every
 * window — held for the whole span, as Cilium's connectivity test holds denials. No traffic on a
 * pair is no evidence either way. mTLS is read from the destination's telemetry: a caller the
 * destination cannot identify came in plaintext.
 */
export async function checkReachability(expectations: Expectation[], sources: GateSources, now: number, windowMs = 60_000): Promise<ReachabilityResult[]> {
  const results: ReachabilityResult[] = [];
  for (const e of expectations) {
    const scope = { edge: { from: e.from, to: e.to } };
    const rates: string[] = [];
    let holds = true;
    for (let i = CONSECUTIVE; i >= 1; i--) {
      const window = { from: now - i * windowMs, to: now - (i - 1) * windowMs };
      const m = await (sources.client ?? sources.mesh).measure('success-rate', scope, window);
      if (!Number.isFinite(m.value) || m.samples === 0) {
        holds = false;
        rates.push('no traffic');
        continue;
      }
      rates.push(`${Number(m.value.toFixed(2))}%`);
      if (e.expect === 'allowed' ? m.value < 99 : m.value > 0) holds = false;
    }
    let observed = `success ${rates.join(', ')} over ${CONSECUTIVE} × ${windowMs / 1000}s`;
    if (holds && e.expect === 'allowed' && e.mtls !== undefined) {
      const p = await sources.mesh.measure('plaintext-share', scope, { from: now - CONSECUTIVE * windowMs, to: now });
      const mtls = Number.isFinite(p.value) && p.samples > 0 ? p.value === 0 : false;
      observed += mtls ? '; mTLS' : Number.isFinite(p.value) && p.samples > 0 ? `; ${Number(p.value.toFixed(2))}% plaintext` : '; plaintext (the destination cannot identify the caller)';
      if (mtls !== e.mtls) holds = false;
    }
    results.push({ from: e.from, to: e.to, expect: e.expect, ...(e.mtls !== undefined ? { mtls: e.mtls } : {}), holds, observed });
  }
  return results;
}
