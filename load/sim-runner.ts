import type { SimCluster, TrafficModel, MeshTwin } from '../clusters/index.js';
import { thresholdHolds } from './thresholds.js';
import { INFRASTRUCTURE_ERROR_SHARE, type LoadPlan, type LoadResult, type LoadRunner } from './types.js';


/**
 * Load on the embedded cluster: the topology's traffic model at the plan's rate, in virtual time.
 * Statistics come from the load generator's view (the external client), warm-up excluded.
 */
export class SimLoadRunner implements LoadRunner {
  readonly name = 'sim';

  constructor(
    private readonly cluster: SimCluster,
    private readonly twin: MeshTwin,
    private readonly traffic: TrafficModel,
  ) {}

  async run(plan: LoadPlan): Promise<LoadResult> {
    const total = plan.targets.reduce((n, t) => n + t.rps, 0);
    const natural = this.traffic.naturalRps();
    this.traffic.setRpsScale(natural > 0 ? total / natural : 1);
    this.traffic.start();
    const warmStart = this.cluster.clock.now();
    await this.cluster.advance(plan.warmUpMs);
    const from = this.cluster.clock.now();
    await this.cluster.advance(plan.durationMs);
    const to = this.cluster.clock.now();
    const m = this.twin.metrics;
    const external = { source_workload: 'external' };
    const count = (match: Record<string, string>, a: number, b: number) => m.increase('meshdrill_client_requests_total', { ...external, ...match }, a, b);
    const requests = count({}, from, to);
    const failed = count({ outcome: '!success' }, from, to);
    const connectionErrors = count({ code: '0' }, from, to);
    const latency = {
      p50: m.quantile('meshdrill_client_request_duration_milliseconds', { source_namespace: 'external' }, 0.5, from, to),
      p95: m.quantile('meshdrill_client_request_duration_milliseconds', { source_namespace: 'external' }, 0.95, from, to),
      p99: m.quantile('meshdrill_client_request_duration_milliseconds', { source_namespace: 'external' }, 0.99, from, to),
    };
    const failedRate = requests > 0 ? failed / requests : 1;
    const thresholds = plan.thresholds.map((t) => ({ ...t, passed: thresholdHolds(t, { failedRate, latency }) }));
    const warmRequests = count({}, warmStart, from);
    const warmResets = count({ code: '0' }, warmStart, from);
    const broken = warmRequests > 0 && warmResets / warmRequests > INFRASTRUCTURE_ERROR_SHARE;
    return {
      runner: this.name,
      requests,
      failed,
      connectionErrors,
      successRate: requests > 0 ? 100 * (1 - failedRate) : Number.NaN,
      latency,
      thresholds,
      thresholdsFailed: thresholds.some((t) => !t.passed),
      window: { from, to },
      ...(broken ? { infrastructureProblem: `${((100 * warmResets) / warmRequests).toFixed(1)}% of warm-up requests got no response (connection errors); the environment is broken, not slow` } : {}),
    };
  }
}
