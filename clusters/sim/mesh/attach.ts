import type { ServerResponse } from 'node:http';
import { Topology } from '../../../model/index.js';
import { sendJson, type ApiRequest } from '../api/http.js';
import type { SimCluster } from '../cluster.js';
import { evaluatePromql, instantResult, PromqlError, rangeResult } from './promql.js';
import { TrafficModel } from './traffic.js';
import { MeshTwin } from './twin.js';

/**
 * Attaches the mesh twin to an embedded cluster and serves what a real cluster's surroundings
 * would: its metrics at /metrics (Prometheus text format), the Prometheus HTTP API's instant and
 * range queries over them (/api/v1/query, /api/v1/query_range), and the traffic of a topology
 * deployed into it (/sim/v1/traffic), so a run against a served cluster measures SLIs the same way
 * it would through a real Prometheus.
 */
export function attachMeshTwin(cluster: SimCluster): MeshTwin {
  const twin = new MeshTwin(cluster);
  cluster.logs = (pod, container) => twin.logsOf(pod, container);
  let traffic: TrafficModel | undefined;
  cluster.addRoute(async (request, body, res) => {
    const path = request.url.pathname;
    if (path === '/metrics' && request.method === 'GET') {
      const text = twin.metrics.exposition();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return true;
    }
    if (path === '/api/v1/query' || path === '/api/v1/query_range') return prometheusApi(request, await body(), res, twin, cluster);
    if (path === '/sim/v1/traffic') {
      if (request.method === 'DELETE') {
        traffic?.stop();
        traffic = undefined;
        return sendJson(res, 200, { traffic: 'stopped' });
      }
      if (request.method === 'POST') {
        const parsed = Topology.safeParse(JSON.parse((await body()) || 'null'));
        if (!parsed.success) return sendJson(res, 400, { error: `not a Topology: ${parsed.error.issues[0]?.message ?? ''}` });
        traffic?.stop();
        traffic = new TrafficModel(twin, parsed.data, { tickMs: Number(request.url.searchParams.get('tickMs') ?? 5_000) });
        traffic.start();
        return sendJson(res, 200, { traffic: parsed.data.metadata.name, rps: traffic.naturalRps() });
      }
    }
    if (path === '/sim/v1/traffic/rate' && request.method === 'POST') {
      if (!traffic) return sendJson(res, 409, { error: 'no traffic runs: POST a Topology to /sim/v1/traffic first' });
      const rps = request.url.searchParams.get('rps');
      const natural = traffic.naturalRps();
      traffic.setRpsScale(rps === null || natural === 0 ? 1 : Number(rps) / natural);
      return sendJson(res, 200, { rps: rps === null ? natural : Number(rps) });
    }
    return false;
  });
  return twin;
}

async function prometheusApi(request: ApiRequest, body: string, res: ServerResponse, twin: MeshTwin, cluster: SimCluster): Promise<true> {
  const params = new URLSearchParams(request.method === 'POST' ? body : request.url.search);
  const query = params.get('query');
  const seconds = (name: string) => (params.get(name) === null ? undefined : Number(params.get(name)) * 1000);
  if (!query) return sendJson(res, 400, { status: 'error', errorType: 'bad_data', error: 'missing query' });
  try {
    if (request.url.pathname === '/api/v1/query') {
      const time = seconds('time') ?? cluster.clock.now();
      return sendJson(res, 200, { status: 'success', data: instantResult(evaluatePromql(twin.metrics, query, time), time) });
    }
    const start = seconds('start');
    const end = seconds('end');
    const step = /^\d+(\.\d+)?s?$/.test(params.get('step') ?? '') ? Number.parseFloat(params.get('step')!) * 1000 : undefined;
    if (start === undefined || end === undefined || step === undefined || step <= 0) return sendJson(res, 400, { status: 'error', errorType: 'bad_data', error: 'query_range needs start, end and a step in seconds' });
    if ((end - start) / step > 11_000) return sendJson(res, 400, { status: 'error', errorType: 'bad_data', error: 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)' });
    return sendJson(res, 200, { status: 'success', data: rangeResult(twin.metrics, query, start, end, step) });
  } catch (error) {
    const message = error instanceof PromqlError ? `the embedded cluster answers the PromQL meshdrill renders for its SLIs; this query is outside it: ${error.message}` : (error as Error).message;
    return sendJson(res, 400, { status: 'error', errorType: 'bad_data', error: message });
  }
}
