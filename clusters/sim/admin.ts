import type { ServerResponse } from 'node:http';
import { parseDuration } from '../../model/index.js';
import { sendJson, type ApiRequest, type ExtraRoute } from './api/http.js';
import { errors } from './api/status.js';
import type { ApiService } from './api/service.js';
import type { Clock } from '../../core/index.js';
import type { ControllerManager } from './controllers/manager.js';
import type { StateFile } from './state.js';

/** What the admin API drives: a subset of the cluster, so the cluster can serve it without a circle. */
export interface AdminTarget {
  clock: Clock;
  /** virtual: time moves through /advance; real: the wall clock. */
  time: 'virtual' | 'real';
  api: ApiService;
  controllers: ControllerManager;
  advance(ms: number): Promise<void>;
  settle(): void;
  snapshot(): StateFile;
}

/**
 * The embedded cluster's own admin API under /sim/v1/, for a person or a test driving a
 * standalone `sim serve`: advance virtual time, take a snapshot, mark a node NotReady, end a pod's
 * containers with an exit code and output (the embedded cluster runs no processes).
 */
export function adminRoute(cluster: () => AdminTarget): ExtraRoute {
  return async (request: ApiRequest, body, res: ServerResponse) => {
    const path = request.url.pathname;
    if (!path.startsWith('/sim/v1/')) return false;
    const sim = cluster();
    const q = request.url.searchParams;
    if (path === '/sim/v1/clock' && request.method === 'GET') return sendJson(res, 200, { now: new Date(sim.clock.now()).toISOString(), time: sim.time });
    if (path === '/sim/v1/advance' && request.method === 'POST') {
      const by = parseDuration(q.get('by') ?? '');
      if (by === undefined) return fail(res, errors.badRequest('advance needs ?by=<duration>, e.g. ?by=5m'));
      await sim.advance(by);
      return sendJson(res, 200, { now: new Date(sim.clock.now()).toISOString() });
    }
    if (path === '/sim/v1/snapshot' && request.method === 'GET') return sendJson(res, 200, sim.snapshot());
    const terminate = /^\/sim\/v1\/pods\/([^/]+)\/([^/]+)\/terminate$/.exec(path);
    if (terminate && request.method === 'POST') {
      const exitCode = Number(q.get('exitCode') ?? '0');
      if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) return fail(res, errors.badRequest('terminate needs ?exitCode=<0-255>'));
      sim.controllers.pods.terminate(decodeURIComponent(terminate[1]!), decodeURIComponent(terminate[2]!), exitCode, await body());
      sim.settle();
      return sendJson(res, 200, { pod: `${terminate[1]}/${terminate[2]}`, exitCode });
    }
    const node = /^\/sim\/v1\/nodes\/([^/]+)\/ready$/.exec(path);
    if (node && request.method === 'POST') {
      const ready = q.get('value') !== 'false';
      sim.controllers.setNodeReady(decodeURIComponent(node[1]!), ready);
      return sendJson(res, 200, { node: node[1], ready });
    }
    // Other /sim/v1/ paths belong to other routes (the twin's traffic); the server answers 404 for the rest.
    return false;
  };
}

function fail(res: ServerResponse, error: ReturnType<typeof errors.badRequest>): true {
  return sendJson(res, error.code, error.toStatus());
}

/** `GET /api/v1/namespaces/{ns}/pods/{name}/log`: what a terminated pod's containers printed. */
export function podLogRoute(cluster: () => AdminTarget): ExtraRoute {
  return (request, _body, res) => {
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(request.url.pathname);
    if (!match || request.method !== 'GET') return false;
    const sim = cluster();
    const type = sim.api.types.find('', 'v1', 'pods')!;
    const pod = sim.api.find(type, decodeURIComponent(match[1]!), decodeURIComponent(match[2]!));
    if (!pod) return fail(res, errors.notFound(type, decodeURIComponent(match[2]!)));
    const text = sim.controllers.pods.logs.get(pod.metadata.uid ?? '') ?? '';
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return true;
  };
}
