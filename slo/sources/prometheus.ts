import { renderPromql, renderSamplesPromql, sliQuery, type DataPlaneMode, type MeshName, type SliQuery } from '../../meshes/index.js';
import type { PrometheusClient } from '../prometheus-client.js';
import type { SliKey } from '../../model/index.js';
import type { Scope } from '../schema.js';
import type { Measurement, SliSource, Window } from '../types.js';

/** SLIs from Prometheus, with meshdrill's own PromQL per mesh (raw PromQL for sli "promql"). */
export class PrometheusSource implements SliSource {
  readonly name: string;
  private readonly queryOf: (sli: SliKey, scope: Scope) => SliQuery;

  constructor(
    private readonly client: PrometheusClient,
    mesh: MeshName,
    mode: DataPlaneMode = 'sidecar',
    /** Another set of queries (the callers' view on a served embedded cluster), under its own name. */
    options: { name?: string; queryOf?: (sli: SliKey, scope: Scope) => SliQuery } = {},
  ) {
    this.name = options.name ?? 'prometheus';
    this.queryOf = options.queryOf ?? ((sli, scope) => sliQuery(mesh, mode, sli, scope));
  }

  async measure(sli: SliKey, scope: Scope, window: Window, options: { query?: string } = {}): Promise<Measurement> {
    const range = `${Math.max(1, Math.round((window.to - window.from) / 1000))}s`;
    let query = options.query ?? '';
    try {
      let samplesQuery: string | undefined;
      let whenEmpty: string | undefined;
      if (sli !== 'promql') {
        const q = this.queryOf(sli, scope);
        query = renderPromql(q, range);
        samplesQuery = renderSamplesPromql(q, range);
        if (q.kind === 'ratio') whenEmpty = q.whenEmpty;
      }
      const [values, samples] = await Promise.all([this.client.query(query, window.to), samplesQuery ? this.client.query(samplesQuery, window.to) : Promise.resolve([{ metric: {}, value: 1 }])]);
      // An empty vector or NaN is no data: Inconclusive downstream, never zero.
      const value = values.length === 0 ? Number.NaN : values[0]!.value;
      return { value, samples: samples[0]?.value ?? 0, window, source: this.name, query, ...(Number.isNaN(value) && whenEmpty ? { whenEmpty } : {}) };
    } catch (error) {
      return { value: Number.NaN, samples: 0, window, source: this.name, query, error: (error as Error).message };
    }
  }
}
