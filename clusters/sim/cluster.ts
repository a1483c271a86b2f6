import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { adminRoute, podLogRoute, podStreamRoute } from './admin.js';
import { ApiHttpHandler, type ExtraRoute } from './api/server.js';
import type { AuditEntry } from './api/rbac.js';
import type { KubeObject } from './api/types.js';
import { loadModels } from './api/models.js';
import { ApiService } from './api/service.js';
import { ObjectStore } from './api/store.js';
import { TypeRegistry } from './api/type-registry.js';
import { RealClock, type Clock } from '../../core/index.js';
import { VirtualClock } from './clock.js';
import { ControllerManager } from './controllers/manager.js';
import { nodeObject } from './controllers/nodes.js';
import { Random } from './random.js';
import { loadState, StateWriter, type StateFile } from './state.js';
import { servingCertificate } from './tls.js';

export interface SimClusterOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  /** Worker nodes (a control-plane node is added, tainted NoSchedule). Default 3. */
  nodes?: number;
  seed?: number;
  /** 'virtual' (default): time moves only through `advance`. 'real': the wall clock. */
  time?: 'virtual' | 'real';
  /** Time from scheduling to running containers. Default 2 s virtual, 300 ms real. */
  podStartDelayMs?: number;
  /** How long pods stay on a NotReady node before eviction. Default 300 s (Kubernetes' not-ready toleration). */
  evictionDelayMs?: number;
  /** Snapshot file: restored on start, written on every change (debounced) and on close. */
  statePath?: string;
  /** Name of the cluster and context in the kubeconfig. */
  name?: string;
  extraRoutes?: ExtraRoute[];
  /** A snapshot could not be written (the disk is full): told, and the next change tries again. */
  onStateError?: (error: Error) => void;
  /** Changes kept for watches resuming from a resourceVersion; older ones get 410 Gone. Default 10,000. */
  watchLogCapacity?: number;
  /**
   * Serve HTTPS with a serving certificate from a CA of its own, named in the kubeconfig. kubectl
   * sends tokens (and impersonation headers) only over TLS; plain HTTP is the default.
   */
  tls?: boolean;
  /**
   * A fleet member: the fleet's one virtual clock (every member's controllers settle after each
   * timer), its region (nodes labelled topology.kubernetes.io/region and spread over three zones,
   * as cloud providers label them) and its own pod range (a flat network between the members).
   */
  fleet?: { clock: VirtualClock; region: string; podSubnet: string };
}

export interface SimCluster {
  /** A kubeconfig (YAML) for this cluster; kubectl and client-node use it as is. */
  kubeconfig: string;
  url: string;
  /** With `tls`: the CA that signed the serving certificate (the kubeconfig carries it too). */
  caPem?: string;
  clock: Clock;
  time: 'virtual' | 'real';
  api: ApiService;
  controllers: ControllerManager;
  /** Moves virtual time forward, settling controllers after every timer. Real time: sleeps. */
  advance(ms: number): Promise<void>;
  /** Processes pending controller work now. */
  settle(): void;
  snapshot(): StateFile;
  /** Serves another path (the mesh twin's /metrics). */
  addRoute(route: ExtraRoute): void;
  /**
   * Service-account tokens and RBAC: a request with no credential is the kubeconfig's admin; one
   * with a token from `kubectl create token` (or `issueToken`) is that ServiceAccount, held to RBAC.
   */
  auth: {
    issueToken(namespace: string, serviceAccount: string, expirationSeconds?: number): string;
    /** The admin's own bearer token (the TLS kubeconfig carries it; a plain-HTTP one needs none). */
    adminToken: string;
    /** What anyone but the admin asked, and whether RBAC allowed it. */
    audit(): readonly AuditEntry[];
  };
  /** A running container's log, when the mesh twin knows it. */
  logs?: (pod: KubeObject, container: string) => string | undefined;
  close(): Promise<void>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Starts the embedded cluster: a Kubernetes API server on loopback, its controllers and its clock. */
export async function startSimCluster(options: SimClusterOptions = {}): Promise<SimCluster> {
  await loadModels();
  const time = options.time ?? 'virtual';
  const clock: Clock = options.fleet?.clock ?? (time === 'virtual' ? new VirtualClock() : new RealClock());
  const random = new Random(options.seed ?? 1);
  const store = new ObjectStore(options.watchLogCapacity ?? 10_000);
  const types = new TypeRegistry();
  const api = new ApiService(store, types, clock, random);
  const controllers = new ControllerManager(api, clock, random, {
    podStartDelayMs: options.podStartDelayMs ?? (time === 'virtual' ? 2_000 : 300),
    evictionDelayMs: options.evictionDelayMs ?? 300_000,
  });
  if (clock instanceof VirtualClock) {
    const others = options.fleet ? clock.afterEach : () => {};
    clock.afterEach = () => {
      others();
      controllers.drain();
    };
  }

  const restored = options.statePath ? await loadState(options.statePath) : undefined;
  if (restored) {
    store.restore(restored.store);
    api.trackRestoredEvents();
    types.syncCrds(api.list(types.find('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!));
  } else {
    bootstrap(api, options.nodes ?? 3, clock, options.fleet);
  }
  controllers.drain();
  // Pods restored mid-start resume their lifecycle.
  if (restored) controllers.pods.recheckAll();

  let self: SimCluster | undefined;
  const handler = new ApiHttpHandler(api, clock, [adminRoute(() => self!), podLogRoute(() => self!), podStreamRoute(), ...(options.extraRoutes ?? [])]);
  const tls = options.tls ? await servingCertificate([options.host ?? '127.0.0.1', 'localhost']) : undefined;
  const server = tls ? createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, handler.handle) : createServer(handler.handle);
  server.keepAliveTimeout = 60_000;
  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const address = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${options.host ?? '127.0.0.1'}:${address.port}`;
  const name = options.name ?? 'meshdrill-sim';

  const writer = options.statePath ? new StateWriter(options.statePath, () => ({ version: 1, store: store.dump() }), (error) => options.onStateError?.(error) ?? process.stderr.write(`meshdrill: saving ${options.statePath}: ${error.message}\n`)) : undefined;
  const unsubscribe = writer ? store.subscribe(() => writer.changed()) : () => {};

  self = {
    kubeconfig: kubeconfigFor(name, url, tls ? { caPem: tls.caPem, token: handler.authn.adminToken } : undefined),
    ...(tls ? { caPem: tls.caPem } : {}),
    url,
    clock,
    time,
    api,
    controllers,
    async advance(ms) {
      // Work queued by writes just made must schedule its timers before time moves.
      controllers.drain();
      if (clock instanceof VirtualClock) await clock.advance(ms);
      else await clock.sleep(ms);
      controllers.drain();
    },
    settle: () => controllers.drain(),
    snapshot: () => ({ version: 1, store: store.dump() }),
    addRoute: (route) => handler.addRoute(route),
    auth: {
      issueToken: (namespace, serviceAccount, expirationSeconds) => handler.authn.issue(namespace, serviceAccount, expirationSeconds !== undefined ? { expirationSeconds } : {}).token,
      audit: () => handler.authz.audit,
      adminToken: handler.authn.adminToken,
    },
    async close() {
      unsubscribe();
      await writer?.close();
      controllers.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return self;
}

/** The embedded cluster's worker nodes, named as kind names them: sim-worker, sim-worker2, … */
export function simWorkerNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? 'sim-worker' : `sim-worker${i + 1}`));
}

function bootstrap(api: ApiService, workers: number, clock: Clock, fleet?: { region: string; podSubnet: string }): void {
  const namespaceType = api.types.find('', 'v1', 'namespaces')!;
  // Objects take seeded uids (runs repeat for a seed); kube-system's is random, as on a real
  // cluster: it is the cluster's identity, and two embedded clusters must never share it.
  for (const name of SYSTEM_NAMESPACES) api.create(namespaceType, undefined, { metadata: { name } }, name === 'kube-system' ? { uid: randomUUID() } : {});
  // The API server's own Service, as every cluster has it: clients inside reach it at 10.96.0.1:443.
  const serviceType = api.types.find('', 'v1', 'services')!;
  api.create(serviceType, 'default', { metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None', type: 'ClusterIP' } });
  api.create(api.types.find('', 'v1', 'endpoints')!, 'default', { metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets: [{ addresses: [{ ip: '172.18.0.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }] });
  const nodeType = api.types.find('', 'v1', 'nodes')!;
  const now = new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const names = ['sim-control-plane', ...simWorkerNames(workers)];
  for (const [i, name] of names.entries()) {
    const node = nodeObject(name, i, i === 0, now, fleet);
    const created = api.create(nodeType, undefined, { metadata: node['metadata'], spec: node['spec'] }).object;
    api.update(nodeType, undefined, name, { ...created, status: node['status'] }, { subresource: 'status' });
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * A kubeconfig for a plain-HTTP loopback server; it names no credentials because the server asks
 * none. client-node refuses http:// servers unless insecure-skip-tls-verify is set (there is no
 * TLS to verify); kubectl ignores the flag for http://.
 */
export function kubeconfigFor(name: string, url: string, tls?: { caPem: string; token: string }): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${url}`,
    tls ? `    certificate-authority-data: ${Buffer.from(tls.caPem).toString('base64')}` : '    insecure-skip-tls-verify: true',
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}`,
    '    namespace: default',
    `current-context: ${name}`,
    'users:',
    `- name: ${name}`,
    tls ? `  user: {token: ${tls.token}}` : '  user: {}',
    'preferences: {}',
    '',
  ].join('\n');
}
