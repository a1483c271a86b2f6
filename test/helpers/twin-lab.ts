import { Topology } from '../../model/topology.js';
import type { KubeObject } from '../../clusters/kube/types.js';
import type { KubeObject as StoredObject } from '../../clusters/sim/api/types.js';
import { TrafficModel } from '../../clusters/sim/mesh/traffic.js';
import { startMeshLab, type MeshLab } from './mesh-lab.js';

/** A small topology for behaviour tests: a meshable caller, a server, and a legacy plaintext client. */
export const MICRO = Topology.parse({
  apiVersion: 'meshdrill.dev/v1alpha1',
  kind: 'Topology',
  metadata: { name: 'micro' },
  spec: {
    entrypoints: [
      { service: 'client/caller', rps: 20 },
      { service: 'legacy/batch', rps: 10 },
      { service: 'client/rare', rps: 0.1 },
    ],
    namespaces: [
      { name: 'client', services: [{ name: 'caller', replicas: 2, calls: [{ to: 'server/api' }] }, { name: 'rare', replicas: 1, calls: [{ to: 'server/api' }] }] },
      { name: 'server', services: [{ name: 'api', replicas: 2, errorRate: '0%' }] },
      { name: 'legacy', meshable: false, services: [{ name: 'batch', replicas: 1, calls: [{ to: 'server/api' }] }] },
    ],
  },
});

/** MICRO with an ingress gateway in front: the outside calls edge/gateway, which calls server/api. */
export const WITH_GATEWAY = Topology.parse({
  ...MICRO,
  spec: {
    entrypoints: [{ service: 'edge/gateway', rps: 20 }],
    namespaces: [
      { name: 'edge', services: [{ name: 'gateway', gateway: true, replicas: 2, calls: [{ to: 'server/api' }] }] },
      { name: 'server', services: [{ name: 'api', replicas: 2, errorRate: '0%' }] },
    ],
  },
});

/**
 * MICRO with a request mix on caller → api (what policies and routes tell apart): most are
 * GET /items, some DELETE /items/1, some GET /admin/stats, and some carry an end-user header.
 */
export const WITH_REQUESTS = Topology.parse({
  ...MICRO,
  spec: {
    ...MICRO.spec,
    namespaces: MICRO.spec.namespaces.map((n) =>
      n.name !== 'client'
        ? n
        : {
            ...n,
            services: n.services.map((svc) =>
              svc.name !== 'caller'
                ? svc
                : {
                    ...svc,
                    calls: [
                      {
                        to: 'server/api',
                        requests: [
                          { method: 'GET', path: '/items', share: '70%' },
                          { method: 'DELETE', path: '/items/1', share: '10%' },
                          { method: 'GET', path: '/admin/stats', share: '10%' },
                          { method: 'GET', path: '/items', headers: { 'end-user': 'jason' }, share: '10%' },
                        ],
                      },
                    ],
                  },
            ),
          },
    ),
  },
});

/** WITH_REQUESTS with two versions of server/api: v1 (two pods, healthy) and v2 (one pod that fails every request). */
export const WITH_VERSIONS = Topology.parse({
  ...WITH_REQUESTS,
  spec: {
    ...WITH_REQUESTS.spec,
    namespaces: WITH_REQUESTS.spec.namespaces.map((n) =>
      n.name !== 'server' ? n : { ...n, services: n.services.map((svc) => ({ ...svc, versions: [{ name: 'v1', replicas: 2 }, { name: 'v2', replicas: 1, errorRate: '100%' }] })) },
    ),
  },
});

/** MICRO with a slow server/api (200 ms median) and a busy caller: what circuit breakers see. */
export const SLOW = Topology.parse({
  ...MICRO,
  spec: {
    entrypoints: [{ service: 'client/caller', rps: 100 }],
    namespaces: MICRO.spec.namespaces.map((n) => (n.name !== 'server' ? n : { ...n, services: n.services.map((svc) => ({ ...svc, latency: { p50: '200ms', p99: '800ms' } })) })),
  },
});

function withServerErrorRate(errorRate: string): Topology {
  const copy = structuredClone(MICRO);
  copy.spec.namespaces.find((n) => n.name === 'server')!.services[0]!.errorRate = errorRate;
  return copy;
}

export interface EdgeStats {
  total: number;
  success: number;
  share: number;
  codes: Record<string, number>;
}

export class Lab {
  readonly traffic: TrafficModel;

  private constructor(readonly lab: MeshLab, topology: Topology, tickMs: number, repeatUnchangedTicks = true) {
    this.traffic = new TrafficModel(lab.twin, topology, { tickMs, repeatUnchangedTicks });
    this.traffic.start();
  }

  /** `serverErrorRate` makes server/api fail that share of requests itself (e.g. "20%"); `topology` replaces MICRO. */
  static async start(mesh: 'istio' | 'linkerd', options: { mode?: 'sidecar' | 'ambient'; certLifetimeMs?: number; tickMs?: number; serverErrorRate?: string; topology?: Topology; repeatUnchangedTicks?: boolean } = {}): Promise<Lab> {
    const { serverErrorRate, topology: given, repeatUnchangedTicks, ...rest } = options;
    const topology = given ?? (serverErrorRate ? withServerErrorRate(serverErrorRate) : MICRO);
    const lab = await startMeshLab({ mesh, topology, ...rest });
    return new Lab(lab, topology, options.tickMs ?? 10_000, repeatUnchangedTicks);
  }

  get now(): number {
    return this.lab.cluster.clock.now();
  }

  async mesh(namespace: string, restart = true): Promise<void> {
    await this.lab.adapter.meshNamespace(this.lab.kube, namespace, { restart, now: new Date(this.now) });
    await this.advance(10_000);
  }

  async apply(object: KubeObject): Promise<void> {
    await this.lab.kube.apply(object);
    this.lab.cluster.settle();
  }

  async mtls(namespace: string | undefined, mode: 'STRICT' | 'PERMISSIVE'): Promise<void> {
    const { apply, remove } = this.lab.adapter.mtlsObjects(namespace, mode);
    for (const o of apply) await this.apply(o);
    for (const o of remove) await this.lab.kube.delete(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name);
    await this.advance(10_000);
  }

  async scale(namespace: string, name: string, replicas: number): Promise<void> {
    await this.lab.kube.mergePatch('apps/v1', 'Deployment', namespace, name, { spec: { replicas } });
    this.lab.cluster.settle();
  }

  async restart(namespace: string): Promise<void> {
    const { restartWorkloads } = await import('../../meshes/restart.js');
    await restartWorkloads(this.lab.kube, namespace, new Date(this.now));
    await this.advance(10_000);
  }

  async advance(ms: number): Promise<void> {
    await this.lab.cluster.advance(ms);
  }

  /** Runs traffic for `ms` and returns what the clients of one edge saw in that window. */
  async window(ms: number, from: string, to: string): Promise<EdgeStats> {
    const start = this.now;
    await this.advance(ms);
    return this.edge(from, to, start, this.now);
  }

  edge(from: string, to: string, start: number, end: number): EdgeStats {
    const [, source] = from.split('/');
    const [namespace, service] = to.split('/');
    const m = this.lab.twin.metrics;
    const match = { source_workload: source ?? from, destination_service: service ?? '', destination_namespace: namespace ?? '' };
    const codes: Record<string, number> = {};
    for (const s of m.find('meshdrill_client_requests_total', match)) {
      const n = m.increase('meshdrill_client_requests_total', s.labels, start, end);
      if (n > 0) codes[s.labels['code']!] = (codes[s.labels['code']!] ?? 0) + n;
    }
    const total = Object.values(codes).reduce((a, b) => a + b, 0);
    const success = codes['200'] ?? 0;
    return { total, success, share: total === 0 ? Number.NaN : success / total, codes };
  }

  /** The mean latency (ms) the clients of one edge saw between `start` and `end`, successes and failures alike. */
  meanLatency(from: string, to: string, start: number, end = this.now): number {
    const [, source] = from.split('/');
    const [namespace, service] = to.split('/');
    const match = { source_workload: source ?? from, destination_service: service ?? '', destination_namespace: namespace ?? '' };
    const m = this.lab.twin.metrics;
    const count = m.increase('meshdrill_client_request_duration_milliseconds_count', match, start, end);
    return count === 0 ? Number.NaN : m.increase('meshdrill_client_request_duration_milliseconds_sum', match, start, end) / count;
  }

  increase(name: string, match: Record<string, string>, start: number, end = this.now): number {
    return this.lab.twin.metrics.increase(name, match, start, end);
  }

  pods(namespace: string): StoredObject[] {
    return this.lab.twin.pods().filter((p) => p.metadata.namespace === namespace);
  }

  proxies(namespace: string) {
    return [...this.lab.twin.proxies.values()].filter((p) => p.namespace === namespace);
  }

  ready(namespace: string): number {
    return this.pods(namespace).filter((p) => ((p.status as { conditions?: Array<{ type: string; status: string }> }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length;
  }

  async close(): Promise<void> {
    this.traffic.stop();
    await this.lab.close();
  }
}

/** A NetworkPolicy that lets pods of `namespace` reach everything but the control plane's namespace. */
export function partition(namespace: string, controlPlaneNamespace: string): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'meshdrill-partition', namespace },
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [controlPlaneNamespace] }] } }] }],
    },
  };
}

export const HOUR = 3_600_000;
