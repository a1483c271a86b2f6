import type { ServerResponse } from 'node:http';
import { parseDuration } from '../../model/quantity.js';
import type { ApiRequest, ExtraRoute } from './api/server.js';
import { sendJson } from './api/server.js';
import { errors } from './api/status.js';
import type { SimCluster } from './cluster.js';

/**
 * The embedded cluster's own admin API under /sim/v1/, for a person or a test driving a
 * standalone `sim serve`: advance virtual time, take a snapshot, mark a node NotReady.
 */
export function adminRoute(cluster: () => SimCluster): ExtraRoute {
  return async (request: ApiRequest, _body, res: ServerResponse) => {
    const path = request.url.pathname;
    if (!path.startsWith('/sim/v1/')) return false;
    const sim = cluster();
    const q = request.url.searchParams;
    if (path === '/sim/v1/clock' && request.method === 'GET') return sendJson(res, 200, { now: new Date(sim.clock.now()).toISOString() });
    if (path === '/sim/v1/advance' && request.method === 'POST') {
      const by = parseDuration(q.get('by') ?? '');
      if (by === undefined) return fail(res, errors.badRequest('advance needs ?by=<duration>, e.g. ?by=5m'));
      await sim.advance(by);
      return sendJson(res, 200, { now: new Date(sim.clock.now()).toISOString() });
    }
    if (path === '/sim/v1/snapshot' && request.method === 'GET') return sendJson(res, 200, sim.snapshot());
    const node = /^\/sim\/v1\/nodes\/([^/]+)\/ready$/.exec(path);
    if (node && request.method === 'POST') {
      const ready = q.get('value') !== 'false';
      sim.controllers.setNodeReady(decodeURIComponent(node[1]!), ready);
      return sendJson(res, 200, { node: node[1], ready });
    }
    return fail(res, errors.notFoundPath());
  };
}

function fail(res: ServerResponse, error: ReturnType<typeof errors.badRequest>): true {
  return sendJson(res, error.code, error.toStatus());
}
