import { RUN_RECORD_VERSION, type RunRecord } from './run-record.js';

/**
 * A synthetic game-day record of a given size, for tests and the rendering benchmark: `series`
 * SLI series over `hours` at `resolutionMs`, two faults, two stages and `events` timeline events.
 */
export function sampleRecord(options: { series?: number; hours?: number; resolutionMs?: number; events?: number; name?: (i: number) => string } = {}): RunRecord {
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  const hours = options.hours ?? 2;
  const step = options.resolutionMs ?? 10_000;
  const count = Math.floor((hours * 3_600_000) / step);
  const iso = (ms: number) => new Date(ms).toISOString();
  const fault1 = [start + 0.5 * 3_600_000, start + 0.9 * 3_600_000];
  const name = options.name ?? ((i: number) => `success-rate ns-${i}`);
  const events = options.events ?? 20;
  return {
    schemaVersion: RUN_RECORD_VERSION,
    runId: 'gameday-sample',
    kind: 'gameday',
    name: 'weekly-mesh-resilience',
    startedAt: iso(start),
    finishedAt: iso(start + hours * 3_600_000),
    inputs: { repo: 'examples/shop', files: [{ path: 'gameday.yaml', sha256: '0'.repeat(64) }] },
    cluster: { provider: 'embedded', mesh: { name: 'istio', mode: 'sidecar' } },
    timeline: Array.from({ length: events }, (_, i) => ({ at: iso(start + (i * hours * 3_600_000) / Math.max(1, events)), type: i % 7 === 0 ? 'fault-injected' : 'step', message: `event ${i}` })),
    gates: [],
    requirements: [],
    outcome: { verdict: 'fail', reasons: [`hypothesis ${name(0)} failed during the faults`] },
    steps: [],
    hypotheses: Array.from({ length: Math.min(options.series ?? 50, 5) }, (_, i) => ({
      name: name(i),
      holds: i !== 0,
      evaluations: [{ at: iso(fault1[0]! + 60_000), gate: name(i), verdict: i === 0 ? ('Failed' as const) : ('Successful' as const), value: i === 0 ? 97.5 : 100, threshold: 99.9, samples: 1200, reason: i === 0 ? '97.5% misses >= 99.9%' : '100% meets >= 99.9%', phase: 'during' as const }],
    })),
    assertions: [],
    faults: [
      { name: 'ca-loss', type: 'ca-loss', summary: 'CA loss (signer-unavailable)', notes: [], changes: ['scale Deployment/istio-system/istiod to 0: the CA stops signing'], injectedAt: iso(fault1[0]!), revertedAt: iso(fault1[1]!), leftovers: [], impact: 'first failures after 7.1 min compressed (≈ 2.8 h at a 24 h certificate lifetime)' },
      { name: 'control-plane-partition', type: 'control-plane-partition', summary: 'frontend cut off', notes: [], changes: [], injectedAt: iso(start + 1.2 * 3_600_000), revertedAt: iso(start + 1.4 * 3_600_000), leftovers: [] },
    ],
    series: Array.from({ length: options.series ?? 50 }, (_, s) => ({
      name: name(s),
      sli: 'success-rate',
      scope: { namespace: `ns-${s}` },
      unit: 'percent',
      objective: '>= 99.9%',
      threshold: 99.9,
      points: Array.from({ length: count }, (_, i): [string, number | null] => {
        const t = start + i * step;
        const inFault = t >= fault1[0]! && t <= fault1[1]!;
        return [iso(t), i % 97 === 13 ? null : inFault && s % 3 === 0 ? 97 + ((i * 7 + s) % 30) / 10 : 99.9 + ((i * 13 + s) % 10) / 100];
      }),
    })),
    stages: [
      { at: iso(start), stage: 0, namespaces: [{ namespace: 'frontend', meshed: false }] },
      { at: iso(start + 0.25 * 3_600_000), stage: 1, name: 'frontend-canary', namespaces: [{ namespace: 'frontend', meshed: true, mtls: 'PERMISSIVE' }] },
    ],
  };
}
