import type { ServerResponse } from 'node:http';
import { parseDuration } from '../../model/index.js';
import { sendJson, type ApiRequest, type ExtraRoute } from './api/http.js';
import { ApiError, errors } from './api/status.js';
import type { ApiService } from './api/service.js';
import type { Clock } from '../../core/index.js';
import type { ControllerManager } from './controllers/manager.js';
import type { StateFile } from './state.js';
import type { KubeObject } from './api/types.js';

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
  /** A running container's log, when something (the mesh twin) knows it. */
  logs?: (pod: KubeObject, container: string) => string | undefined;
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
      // false: the node is lost (it stops now; the API marks it NotReady after the grace period).
      if (ready) sim.controllers.startNode(decodeURIComponent(node[1]!));
      else sim.controllers.stopNode(decodeURIComponent(node[1]!));
      sim.settle();
      return sendJson(res, 200, { node: node[1], ready });
    }
    // Other /sim/v1/ paths belong to other routes (the twin's traffic); the server answers 404 for the rest.
    return false;
  };
}

function fail(res: ServerResponse, error: ReturnType<typeof errors.badRequest>): true {
  return sendJson(res, error.code, error.toStatus());
}

/**
 * `GET /api/v1/namespaces/{ns}/pods/{name}/log`: what a container printed — a terminated pod's
 * output, a proxy's own lines from the mesh twin, an application's start. Several containers and
 * none named is the real server's 400, naming them.
 */
export function podLogRoute(cluster: () => AdminTarget): ExtraRoute {
  return (request, _body, res) => {
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(request.url.pathname);
    if (!match || request.method !== 'GET') return false;
    let text: string;
    try {
      text = podLog(cluster(), decodeURIComponent(match[1]!), decodeURIComponent(match[2]!), request.url.searchParams.get('container') ?? undefined);
    } catch (error) {
      if (error instanceof ApiError) return fail(res, error);
      throw error;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return true;
  };
}

/** What a pod's container printed, as the log subresource answers; an ApiError as the server refuses. */
export function podLog(sim: AdminTarget, namespace: string, name: string, asked?: string): string {
  const type = sim.api.types.find('', 'v1', 'pods')!;
  const pod = sim.api.find(type, namespace, name);
  if (!pod) throw errors.notFound(type, name);
  const spec = (pod['spec'] ?? {}) as { containers?: Array<{ name: string }>; initContainers?: Array<{ name: string }> };
  const containers = (spec.containers ?? []).map((c) => c.name);
  if (asked === undefined && containers.length > 1) {
    const init = (spec.initContainers ?? []).map((c) => c.name);
    throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${init.length ? ` or one of the init containers: [${init.join(' ')}]` : ''}`);
  }
  const container = asked ?? containers[0] ?? '';
  if (asked !== undefined && !containers.includes(asked) && !(spec.initContainers ?? []).some((c) => c.name === asked)) throw errors.badRequest(`container ${asked} is not valid for pod ${name}`);
  const terminated = sim.controllers.pods.logs.get(pod.metadata.uid ?? '');
  const started = ((pod['status'] as { startTime?: string } | undefined)?.startTime) ?? '';
  return terminated ?? sim.logs?.(pod, container) ?? (started ? `${started} ${container}: started, serving\n` : '');
}

/**
 * `pods/{name}/exec`, `attach` and `portforward`: the embedded cluster runs no processes, so it
 * answers as a real API server does when it cannot upgrade the connection to a container.
 */
export function podStreamRoute(): ExtraRoute {
  return (request, _body, res) => {
    const match = /^\/api\/v1\/namespaces\/[^/]+\/pods\/([^/]+)\/(exec|attach|portforward)$/.exec(request.url.pathname);
    if (!match) return false;
    const upgrade = request.headers['upgrade'] !== undefined;
    const message = upgrade ? `the embedded cluster runs no containers: pods/${match[2]} of ${decodeURIComponent(match[1]!)} cannot be served (use a kind or k3s cluster for ${match[2]})` : 'Upgrade request required';
    return fail(res, errors.badRequest(message));
  };
}
