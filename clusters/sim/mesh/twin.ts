import type { Clock, TimerHandle } from '../../../core/index.js';
import type { ResourceType } from '../api/resources.js';
import type { KubeObject, StoreEvent } from '../api/types.js';
import type { SimCluster } from '../cluster.js';
import { isPodReady } from '../controllers/context.js';
import { certLifetime, controlPlaneNamespace, detectMesh, istioSigningRoot, linkerdRoots, Reachability, rootId, type MeshKind } from './control-plane.js';
import { meshOutboundMode } from './egress.js';
import { istioTcpPort, linkerdOpaque } from './opaque.js';
import { hasSidecar, inject, LINKERD_POLICY_ENV, LINKERD_TRUST_ENV, linkerdEnv, proxyLimits } from './injection.js';
import { EndpointTable, mergedEndpoints } from './endpoint-table.js';
import { MetricStore } from './metrics.js';
import { StoreMemo } from './store-memo.js';
import { linkerdRetryPolicy, type ConfigSnapshot, type LinkerdRetryPolicy } from './policy.js';
import { GATEWAY_ROLE_LABEL } from '../../workloads.js';
import { istioTrustDomain } from './identity.js';
import { describeNotModelled, notModelledIn } from './not-modelled.js';
import { networkAllows } from '../network.js';
import { remoteSecretServers, REMOTE_SECRET_LABEL } from './multicluster.js';

type Obj = Record<string, unknown>;
type Reach = Pick<Reachability, 'reachable'>;

export interface Certificate {
  root: string;
  issuedAt: number;
  expiresAt: number;
  /** When the root the chain ends in expires: past it, peers reject the chain whatever the leaf says. */
  rootExpiresAt?: number;
}

/** What the twin knows of one proxy (sidecar or ambient-captured workload). */
export interface Proxy {
  uid: string;
  namespace: string;
  pod: string;
  service: string;
  labels: Record<string, string>;
  serviceAccount: string;
  kind: 'istio' | 'linkerd' | 'ambient';
  /** An ingress gateway (the topology's gateway: true): on Istio, Envoy with no inbound sidecar. */
  gateway: boolean;
  node: string;
  started: boolean;
  snapshot?: ConfigSnapshot;
  /**
   * When the proxy last received configuration. For Envoy, the last successful CDS fetch
   * (cluster_manager.cds.update_time): on connecting, on a push that changes its config, and on
   * the reconnect istiod forces every keepaliveMaxServerConnectionAge (30m by default).
   */
  lastSync?: number;
  /** Whether the proxy holds an xDS stream to its control plane now. */
  connected?: boolean;
  /** The proxy container's CPU limit in cores and memory limit in bytes, from its pod spec. */
  cpuLimit?: number;
  memoryLimit?: number;
  /** Memory a leak has added since the container last started (the proxy-memory-leak fault). */
  leakedBytes?: number;
  cert?: Certificate;
  /** Roots whose certificates this proxy accepts. */
  trust: Set<string>;
  /** Linkerd: the default inbound policy fixed at proxy start. */
  inboundPolicy: string;
  everReady: boolean;
  renewal?: TimerHandle;
  /** istiod's forced reconnect of this proxy's xDS stream (Istio sidecars). */
  reconnect?: TimerHandle;
  /** The last answer to whether it reaches its config source, and who gave it. */
  configReach?: { reach: object; value: boolean };
  renewalFailures: number;
  /** What the proxy container logged, newest last (at most LOG_LINES): `kubectl logs -c istio-proxy`. */
  log: string[];
}

const LOG_LINES = 200;

/**
 * A config push istiod (or Linkerd's destination) made to every connected proxy at once: a change
 * of config alone, with nothing else moving. It is recorded once and applied to each proxy when the
 * proxy is next read or changed (TwinProxy), so a mesh-wide push costs O(1), not one step per proxy
 * per push; the proxy ends as if it had been pushed to then (its config, when it got it, its log).
 */
interface Push {
  at: number;
  snapshot: ConfigSnapshot;
  reach: Reach;
  signerRoot: string | undefined;
  mesh: MeshKind;
}

/** Pushes since every proxy was last brought up to date; a proxy has applied those before `seen`. */
interface PushLog {
  /** Pushes made in all (the generation a proxy compares its `seen` with). */
  gen: number;
  /** The generation of pending[0]. */
  base: number;
  pending: Push[];
}

/**
 * A proxy as the twin keeps it: what it knows of its config (snapshot, lastSync, connected) is
 * brought up to date with pushes it has not applied yet whenever it is read; what decides how a
 * push lands (started, cert, trust) applies them first when it changes. A change of what requests
 * read (started, config, certificate, trusted roots, limits, a leak) is counted in `changes` (MeshTwin.stateStamp).
 */
class TwinProxy implements Proxy {
  seen: number;
  private _snapshot: ConfigSnapshot | undefined = undefined;
  private _lastSync: number | undefined = undefined;
  private _connected: boolean | undefined = undefined;
  private _started = false;
  private _cert: Certificate | undefined = undefined;
  private _trust: Set<string>;
  private _cpuLimit: number | undefined = undefined;
  private _memoryLimit: number | undefined = undefined;
  private _leakedBytes: number | undefined = undefined;
  renewal: TimerHandle | undefined = undefined;
  reconnect: TimerHandle | undefined = undefined;
  configReach: { reach: object; value: boolean } | undefined = undefined;
  everReady = false;
  renewalFailures = 0;
  readonly log: string[] = [];

  constructor(
    private readonly pushes: PushLog,
    private readonly catchUp: (proxy: TwinProxy) => void,
    private readonly changes: { count: number },
    readonly uid: string,
    readonly namespace: string,
    readonly pod: string,
    readonly service: string,
    readonly labels: Record<string, string>,
    readonly serviceAccount: string,
    readonly kind: Proxy['kind'],
    readonly gateway: boolean,
    readonly node: string,
    trust: Set<string>,
    readonly inboundPolicy: string,
  ) {
    this.seen = pushes.gen;
    this._trust = trust;
  }

  /** Applies pushes made since it last looked. */
  current(): this {
    if (this.seen !== this.pushes.gen) this.catchUp(this);
    return this;
  }

  get snapshot(): ConfigSnapshot | undefined {
    return this.current()._snapshot;
  }
  set snapshot(value: ConfigSnapshot | undefined) {
    if (this.current()._snapshot !== value) this.changes.count++;
    this._snapshot = value;
  }
  get lastSync(): number | undefined {
    return this.current()._lastSync;
  }
  set lastSync(value: number | undefined) {
    this.current()._lastSync = value;
  }
  get connected(): boolean | undefined {
    return this.current()._connected;
  }
  set connected(value: boolean | undefined) {
    this.current()._connected = value;
  }
  get started(): boolean {
    return this._started;
  }
  set started(value: boolean) {
    if (this.current()._started !== value) this.changes.count++;
    this._started = value;
  }
  get cert(): Certificate | undefined {
    return this._cert;
  }
  set cert(value: Certificate | undefined) {
    if (this.current()._cert !== value) this.changes.count++;
    this._cert = value;
  }
  get trust(): Set<string> {
    return this._trust;
  }
  set trust(value: Set<string>) {
    if (this.current()._trust !== value) this.changes.count++;
    this._trust = value;
  }

  // Limits and a leak decide a proxy's CPU and memory, and so what its requests and series are.
  get cpuLimit(): number | undefined {
    return this._cpuLimit;
  }
  set cpuLimit(value: number | undefined) {
    if (this._cpuLimit !== value) this.changes.count++;
    this._cpuLimit = value;
  }
  get memoryLimit(): number | undefined {
    return this._memoryLimit;
  }
  set memoryLimit(value: number | undefined) {
    if (this._memoryLimit !== value) this.changes.count++;
    this._memoryLimit = value;
  }
  get leakedBytes(): number | undefined {
    return this._leakedBytes;
  }
  set leakedBytes(value: number | undefined) {
    if (this._leakedBytes !== value) this.changes.count++;
    this._leakedBytes = value;
  }

  /** What the catch-up writes: the same fields, without catching up again. */
  raw(): { snapshot: ConfigSnapshot | undefined; lastSync: number | undefined; connected: boolean | undefined; started: boolean; cert: Certificate | undefined; trust: Set<string> } {
    return { snapshot: this._snapshot, lastSync: this._lastSync, connected: this._connected, started: this._started, cert: this._cert, trust: this._trust };
  }

  landed(push: { snapshot: ConfigSnapshot; lastSync: number } | 'refused'): void {
    if (push === 'refused') {
      this._connected = false;
      return;
    }
    if (this._snapshot !== push.snapshot) this.changes.count++;
    this._snapshot = push.snapshot;
    this._lastSync = push.lastSync;
    this._connected = true;
  }
}
/** istiod closes each xDS stream after this long (pilot-discovery --keepaliveMaxServerConnectionAge, default 30m). */
const MAX_CONNECTION_AGE_MS = 30 * 60_000;
const CONTROL_PLANE_NAMESPACES = new Set(['istio-system', 'linkerd']);

const RELEVANT = new Set([
  'pods',
  'namespaces',
  'secrets',
  'configmaps',
  'endpoints',
  'services',
  'apps/deployments',
  'apps/daemonsets',
  'networking.k8s.io/networkpolicies',
  'security.istio.io/peerauthentications',
  'security.istio.io/authorizationpolicies',
  'networking.istio.io/virtualservices',
  'networking.istio.io/destinationrules',
  'networking.istio.io/sidecars',
  'networking.istio.io/serviceentries',
  'policy.linkerd.io/servers',
  'policy.linkerd.io/authorizationpolicies',
  'policy.linkerd.io/meshtlsauthentications',
  'policy.linkerd.io/networkauthentications',
  'policy.linkerd.io/serverauthorizations',
  'policy.linkerd.io/httproutes',
  'policy.linkerd.io/egressnetworks',
  'gateway.networking.k8s.io/gateways',
  'gateway.networking.k8s.io/httproutes',
]);
const CONFIG_KEYS = new Set([...RELEVANT].filter((k) => k.includes('istio.io') || k.includes('linkerd.io') || k.includes('gateway.networking.k8s.io') || k === 'endpoints' || k === 'services'));
/** A label set as a cache key; label objects come from stored pods, which never change, so each is written once. */
const labelKeys = new WeakMap<Record<string, string>, string>();

function labelKey(labels: Record<string, string>): string {
  let key = labelKeys.get(labels);
  if (key === undefined) {
    key = JSON.stringify(labels);
    if (Object.isFrozen(labels)) labelKeys.set(labels, key);
  }
  return key;
}

/** What a mesh config map says, read once per stored version of it (its YAML is parsed for each). */
const meshConfigReads = new WeakMap<KubeObject, Map<string, unknown>>();

function meshConfigOf<T>(configMap: KubeObject | undefined, what: string, read: (cm: KubeObject | undefined) => T): T {
  if (!configMap) return read(configMap);
  let reads = meshConfigReads.get(configMap);
  if (!reads) meshConfigReads.set(configMap, (reads = new Map()));
  if (!reads.has(what)) reads.set(what, read(configMap));
  return reads.get(what) as T;
}

/** The mesh config istiod reads (trust domain, cert lifetime): a change to it is a change of config. */
const MESH_CONFIG = { namespace: 'istio-system', name: 'istio' };

// Istio renews at SECRET_GRACE_PERIOD_RATIO = 0.5 of the lifetime (secretcache.go rotateTime);
// Linkerd at 70 % of the remaining lifetime, at least 10 s apart (linkerd2-proxy certify.rs).
const ISTIO_GRACE_RATIO = 0.5;
const LINKERD_REFRESH_RATIO = 0.7;
const LINKERD_MIN_REFRESH_MS = 10_000;

/**
 * The mesh twin: Istio (sidecar, ambient) or Linkerd behaviour on the embedded cluster. It injects
 * proxies at pod creation, issues and renews workload certificates from the CA its secrets
 * define, pushes configuration to proxies that can reach the control plane, holds readiness of
 * proxies without config or identity, and records what each proxy last knew for the traffic model.
 */
export class MeshTwin {
  private readonly records = new Map<string, TwinProxy>();
  /** Every proxy the twin knows, by pod uid. */
  readonly proxies: ReadonlyMap<string, Proxy> = this.records;
  /** Mesh-wide config pushes not yet applied to every proxy (TwinProxy catches up on use). */
  private readonly pushLog: PushLog = { gen: 0, base: 0, pending: [] };
  /** Changes of what requests read of the proxies: their start, config, certificate, roots, limits and leaks, and proxies made or forgotten. */
  private readonly proxyChanges = { count: 0 };
  readonly metrics = new MetricStore();
  private configVersion = 0;
  private configEpoch = 0;
  private netEpoch = 0;
  private globalEpoch = 0;
  /** Moves when a namespace's labels may have changed what the reachability caches hold for its pods. */
  private cacheEpoch = 0;
  /** The epoch of the reachability and NetworkPolicy caches: moves with either kind of change, which empties them. */
  private cachesEpoch = 0;
  private readonly dirty = new Set<string>();
  private lastEpochs = '';
  private lastConfigEpoch = 0;
  private reachCache = { epoch: -1, entries: new Map<string, boolean>(), answers: new Map<MeshKind, Pick<Reachability, 'reachable'>>() };
  private snapshot?: ConfigSnapshot;
  private signerRoot?: string;
  /** Linkerd: when the issuer certificate expires (ms); nothing is signed after it. */
  private issuerNotAfter?: number;
  /** When the signing root expires (Linkerd's trust anchor, Istio's plugged-in root); chains ending in it are rejected after it. */
  private anchorNotAfter?: number;
  private istiodBroken?: string;
  private readonly clock: Clock;
  /** Istio multi-primary: finds the fleet member an API server URL names (a remote secret's kubeconfig). */
  private fleet?: (server: string) => MeshTwin | undefined;
  /** Called when this cluster's endpoints change: the istiods of other clusters that watch them. */
  private readonly endpointWatchers = new Set<() => void>();
  private readonly remoteChanged = () => {
    this.snapshot = undefined;
    this.configEpoch++;
    this.cluster.controllers.ctx.enqueue('mesh-twin', 'all');
  };

  constructor(private readonly cluster: SimCluster) {
    this.clock = cluster.clock;
    cluster.api.addAdmissionHook(({ operation, type, object }) => (operation === 'CREATE' && type.kind === 'Pod' ? this.admit(object) : object));
    cluster.controllers.addReadinessCheck((pod) => this.readiness(pod));
    cluster.controllers.addController('mesh-twin', () => this.reconcile(), (event) => this.watch(event));
  }

  /**
   * Moves whenever anything a request's fate is read from in this cluster may have changed: any
   * object in the store (its resourceVersion), what the twin holds of its proxies (started, config,
   * certificate, trusted roots, limits, a leak; proxies made or forgotten), config pushes, and
   * stopped nodes. Equal stamps: the same cluster for the traffic model. (Other clusters of a fleet
   * are not in it: a fleet's traffic never repeats a tick.)
   */
  stateStamp(): string {
    const down = this.cluster.controllers.downNodes;
    return `${this.revision}|${this.proxyChanges.count}|${this.pushLog.gen}|${down.size === 0 ? '' : [...down].join(',')}`;
  }

  /** The store's resourceVersion: it moves with every object written. */
  get revision(): number {
    return this.cluster.api.store.currentRv();
  }

  /** Whether a pod's node has stopped: it neither sends nor answers (the API may not know yet). */
  onStoppedNode(pod: KubeObject): boolean {
    const down = this.cluster.controllers.downNodes;
    return down.size > 0 && down.has(String((pod.spec as Obj | undefined)?.['nodeName'] ?? ''));
  }

  /** Makes this cluster a fleet member: its istiod can reach the clusters its remote secrets name. */
  joinFleet(resolve: (server: string) => MeshTwin | undefined): void {
    this.fleet = resolve;
  }

  /**
   * The clusters whose endpoints this istiod reads now (Istio multi-primary): one per remote secret
   * (label istio/multiCluster: "true" in istio-system) whose kubeconfig names a fleet member. istiod
   * merges their Services by hostname with its own ("namespace sameness", istio.io deployment
   * models), so a Service's endpoints are the ready pods behind it in every cluster.
   */
  remoteClusters(): MeshTwin[] {
    if (!this.fleet || this.mesh !== 'istio') return [];
    const secrets = this.cluster.api.list(this.type('secrets'), 'istio-system').filter((s) => s.metadata.labels?.[REMOTE_SECRET_LABEL] === 'true');
    const found = new Set<MeshTwin>();
    for (const server of secrets.flatMap(remoteSecretServers)) {
      const twin = this.fleet(server);
      if (twin && twin !== this) found.add(twin);
    }
    return [...found];
  }

  /** Ready endpoints of every Service of this cluster, as pod uids by "namespace/name". */
  readyEndpoints(): Map<string, string[]> {
    return this.endpointTable().entries();
  }

  /** Ready endpoints by Service, kept from the store's events once first read. */
  private endpoints?: EndpointTable;

  private endpointTable(): EndpointTable {
    if (!this.endpoints) {
      this.endpoints = new EndpointTable();
      for (const ep of this.cluster.api.list(this.type('endpoints'))) this.endpoints.apply({ type: 'ADDED', object: ep });
    }
    return this.endpoints;
  }

  get mesh(): MeshKind | undefined {
    return detectMesh(this.cluster.api, { deployments: this.type('deployments') });
  }

  type(resource: string): ResourceType {
    const found = this.cluster.api.types.builtinResource(resource);
    if (!found) throw new Error(`no built-in resource ${resource}`);
    return found;
  }

  /** A custom resource type by resource name, once its CRD exists. */
  customType(group: string, resource: string): ResourceType | undefined {
    return this.cluster.api.types.all().find((t) => t.group === group && t.resource === resource);
  }

  /** Reachability of the control plane, cached until pods of the control plane, policies or namespaces change. */
  reachability(mesh: MeshKind): Pick<Reachability, 'reachable'> {
    if (this.reachCache.epoch !== this.cachesEpoch) this.reachCache = { epoch: this.cachesEpoch, entries: new Map(), answers: new Map() };
    // One answerer per mesh and epoch: a proxy remembers which one answered it (configReachable).
    let answers = this.reachCache.answers.get(mesh);
    if (!answers) {
      answers = this.answerer(mesh, this.reachCache.entries);
      this.reachCache.answers.set(mesh, answers);
    }
    return answers;
  }

  private answerer(mesh: MeshKind, cache: Map<string, boolean>): Pick<Reachability, 'reachable'> {
    const inner = new Reachability(this.cluster.api, mesh, { pods: this.type('pods'), namespaces: this.type('namespaces'), networkPolicies: this.type('networkpolicies') });
    return {
      reachable: (role, from) => {
        const k = `${mesh}|${role}|${from.namespace}|${labelKey(from.labels)}`;
        let value = cache.get(k);
        if (value === undefined) {
          value = inner.reachable(role, from);
          cache.set(k, value);
        }
        return value;
      },
    };
  }

  /** The configuration as the control plane would push it now. */
  currentSnapshot(): ConfigSnapshot {
    if (!this.snapshot) this.snapshot = this.buildSnapshot();
    return this.snapshot;
  }

  clockHandle(): Clock {
    return this.clock;
  }

  /**
   * Whether the mesh carries a service's port as plain TCP (opaque.ts): Linkerd's opaque ports
   * from the Service, a server pod, its namespace and its Servers; Istio's protocol selection by
   * the Service port's name or appProtocol.
   */
  opaquePort(namespace: string, service: string, port: number): boolean {
    const api = this.cluster.api;
    const svc = api.find(this.type('services'), namespace, service);
    if (this.mesh === 'istio') return istioTcpPort(svc, port);
    if (this.mesh !== 'linkerd') return false;
    const selector = (svc?.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {};
    const pod = api.list(this.type('pods'), namespace).find((p) => Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v));
    const serversType = this.customType('policy.linkerd.io', 'servers');
    return linkerdOpaque(port, { ...(svc ? { service: svc } : {}), ...(pod ? { pod } : {}), ...(api.find(this.type('namespaces'), undefined, namespace) ? { namespace: api.find(this.type('namespaces'), undefined, namespace)! } : {}), servers: serversType ? api.list(serversType, namespace) : [] });
  }

  /**
   * The waypoint each namespace sends its traffic through: a Namespace labelled
   * istio.io/use-waypoint=<name> (istio.io/use-waypoint-namespace for one elsewhere) and a Gateway
   * of that name with gatewayClassName istio-waypoint (istio.io ambient/usage/waypoint).
   */
  private waypoints(gateways: KubeObject[]): Map<string, string> {
    // Namespaces change seldom and snapshots are taken after every endpoint change: kept until a
    // namespace or a Gateway changes.
    const key = `${this.namespaceVersion}|${gateways.map((g) => `${g.metadata.uid}@${g.metadata.resourceVersion}`).join(',')}`;
    if (this.waypointCache?.key === key) return this.waypointCache.map;
    const map = this.readWaypoints(gateways);
    this.waypointCache = { key, map };
    return map;
  }

  private waypointCache?: { key: string; map: Map<string, string> };
  private namespaceVersion = 0;

  private readWaypoints(gateways: KubeObject[]): Map<string, string> {
    const out = new Map<string, string>();
    const exists = (ns: string, name: string) => gateways.some((g) => g.metadata.namespace === ns && g.metadata.name === name && (g.spec as { gatewayClassName?: string } | undefined)?.gatewayClassName === 'istio-waypoint');
    for (const ns of this.cluster.api.list(this.type('namespaces'))) {
      const name = ns.metadata.labels?.['istio.io/use-waypoint'];
      if (!name || name === 'none') continue;
      const where = ns.metadata.labels?.['istio.io/use-waypoint-namespace'] ?? ns.metadata.name;
      if (exists(where, name)) out.set(ns.metadata.name, `${where}/${name}`);
    }
    return out;
  }

  pods(): KubeObject[] {
    return this.cluster.api.list(this.type('pods'));
  }

  /**
   * What the cluster holds that the twin reads but does not model: mesh kinds it ignores, fields
   * it does not play, mesh annotations it does not honour (not-modelled.ts). meshdrill's own
   * objects (run-labelled or managed by it) are left out: they are what the twin was built for.
   */
  notModelled(): string[] {
    const out: string[] = [];
    for (const type of this.cluster.api.types.all()) {
      const mesh = /istio\.io$|linkerd\.io$|gateway\.networking\.k8s\.io$/.test(type.group);
      if (!mesh && !['Namespace', 'Deployment', 'StatefulSet', 'NetworkPolicy'].includes(type.kind)) continue;
      for (const object of this.cluster.api.list(type)) {
        const labels = object.metadata.labels ?? {};
        if (labels['meshdrill.dev/run-id'] || labels['app.kubernetes.io/managed-by'] === 'meshdrill') continue;
        for (const entry of notModelledIn(object)) out.push(describeNotModelled(entry));
      }
    }
    return out.sort();
  }

  /** Istio ambient's node proxies. */
  ztunnelPods(): KubeObject[] {
    return this.cluster.api.list(this.type('pods'), 'istio-system').filter((p) => p.metadata.labels?.['app'] === 'ztunnel');
  }

  /**
   * Where the metrics pipeline scrapes from: the Prometheus meshdrill puts beside the mesh
   * (meshdrill-monitoring, app=prometheus). A NetworkPolicy that stops it reaching a proxy's
   * metrics port loses that proxy's series, as a real scrape would.
   */
  scraper = { namespace: 'meshdrill-monitoring', labels: { app: 'prometheus' } };

  /**
   * Whether Prometheus can scrape a proxy now: its metrics port (Istio's merged metrics on 15020,
   * linkerd2-proxy's admin port 4191) reachable from the scraper under the NetworkPolicies.
   * Cached until policies, pods or namespaces change.
   */
  scrapable(proxy: Proxy): boolean {
    // A stopped node's pods answer no scrape: their series go stale.
    if (this.cluster.controllers.downNodes.has(proxy.node)) return false;
    return this.podsConnect(this.scraper, { namespace: proxy.namespace, labels: proxy.labels }, proxy.kind === 'linkerd' ? 4191 : 15020);
  }

  /**
   * Whether a pod may open a connection to another on a port under the cluster's NetworkPolicies
   * (both the source's egress and the destination's ingress). Cached until policies or namespaces
   * change; pods are keyed by their labels.
   */
  podsConnect(from: { namespace: string; labels: Record<string, string> }, to: { namespace: string; labels: Record<string, string> }, port: number): boolean {
    if (this.netCache.epoch !== this.cachesEpoch) this.netCache = { epoch: this.cachesEpoch, entries: new Map(), policies: this.cluster.api.list(this.type('networkpolicies')) };
    const { entries, policies } = this.netCache;
    if (policies.length === 0) return true;
    const k = `${from.namespace}|${labelKey(from.labels)}|${to.namespace}|${labelKey(to.labels)}|${port}`;
    let value = entries.get(k);
    if (value === undefined) {
      const nsLabels = (name: string) => ({ 'kubernetes.io/metadata.name': name, ...(this.cluster.api.find(this.type('namespaces'), undefined, name)?.metadata.labels ?? {}) });
      value = networkAllows(policies, { ...from, namespaceLabels: nsLabels(from.namespace) }, { ...to, namespaceLabels: nsLabels(to.namespace) }, port);
      entries.set(k, value);
    }
    return value;
  }

  /** Whether any NetworkPolicy lives in a namespace (cached with podsConnect's policies). */
  hasNetworkPolicies(namespace: string): boolean {
    if (this.netCache.epoch !== this.cachesEpoch) this.netCache = { epoch: this.cachesEpoch, entries: new Map(), policies: this.cluster.api.list(this.type('networkpolicies')) };
    return this.netCache.policies.some((p) => p.metadata.namespace === namespace);
  }

  private netCache: { epoch: number; entries: Map<string, boolean>; policies: KubeObject[] } = { epoch: -1, entries: new Map(), policies: [] };

  /**
   * A proxy container whose memory passed its limit is OOM-killed by the kubelet and started again
   * after its back-off (CrashLoopBackOff); nothing happens while it waits to start.
   */
  oomKill(proxy: Proxy): boolean {
    const pod = this.cluster.api.find(this.type('pods'), proxy.namespace, proxy.pod);
    const container = proxy.kind === 'linkerd' ? 'linkerd-proxy' : 'istio-proxy';
    const status = ((pod?.status as Obj | undefined)?.['containerStatuses'] as Obj[] | undefined)?.find((c) => c['name'] === container);
    if (!pod || !status || !(status['state'] as Obj | undefined)?.['running']) return false;
    this.cluster.controllers.pods.restartContainer(proxy.namespace, proxy.pod, container, 'OOMKilled');
    this.note(proxy, 'warn', `OOMKilled: the ${container} container used more than its ${Math.round((proxy.memoryLimit ?? 0) / 1_048_576)}Mi limit`);
    return true;
  }

  /** Whether a proxy can reach its config source now (Istio xDS, Linkerd destination). */
  configReachable(proxy: Proxy): boolean {
    const mesh = this.mesh;
    return mesh !== undefined && this.reachability(mesh).reachable('config', { namespace: proxy.namespace, labels: proxy.labels });
  }

  /**
   * Services in a proxy's configuration: all of them, unless an Istio Sidecar resource in its
   * namespace limits egress hosts to some namespaces ("./*", "istio-system/*").
   */
  servicesInScope(namespace: string, total: number): number {
    const answers = this.scopes.at(this.revision);
    const key = `${total}|${namespace}`;
    let n = answers.get(key);
    if (n === undefined) answers.set(key, (n = this.countServicesInScope(namespace, total)));
    return n;
  }

  /** servicesInScope's answers while the store does not change. */
  private readonly scopes = new StoreMemo(() => new Map<string, number>());

  /** A pod by uid. */
  podByUid(uid: string): KubeObject | undefined {
    return this.podsByUid.at(this.revision).get(uid);
  }

  private readonly podsByUid = new StoreMemo(() => new Map(this.pods().map((p) => [p.metadata.uid ?? '', p])));

  private countServicesInScope(namespace: string, total: number): number {
    const type = this.customType('networking.istio.io', 'sidecars');
    const sidecar = type ? this.cluster.api.list(type, namespace)[0] : undefined;
    if (!sidecar) return total;
    const hosts = (((sidecar.spec as Obj | undefined)?.['egress'] as Array<{ hosts?: string[] }> | undefined) ?? []).flatMap((e) => e.hosts ?? []);
    const namespaces = new Set(hosts.map((h) => h.split('/')[0]).map((n) => (n === '.' ? namespace : n)));
    if (namespaces.has('*')) return total;
    return this.cluster.api.list(this.type('services')).filter((svc) => namespaces.has(svc.metadata.namespace)).length;
  }

  private watch(event: StoreEvent): string[] {
    if (!RELEVANT.has(event.key)) return [];
    // Services matter only for Linkerd's retry annotations: most Service writes change no config.
    if (event.key === 'services' && (this.mesh !== 'linkerd' || !this.retryConfigChanged(event.object))) return [];
    const meshConfig = event.key === 'configmaps' && event.object.metadata.namespace === MESH_CONFIG.namespace && event.object.metadata.name === MESH_CONFIG.name;
    // A namespace's istio.io/use-waypoint label changes where its traffic goes (the waypoints map).
    const waypointLabel = event.key === 'namespaces' && this.mesh === 'istio';
    // A remote secret added or removed: istiod starts or stops reading that cluster.
    const remoteSecret = event.key === 'secrets' && event.object.metadata.labels?.[REMOTE_SECRET_LABEL] === 'true';
    if (CONFIG_KEYS.has(event.key) || meshConfig || waypointLabel || remoteSecret) {
      this.snapshot = undefined;
      this.configEpoch++;
    }
    if (event.key === 'endpoints') {
      this.endpoints?.apply(event);
      for (const watcher of this.endpointWatchers) watcher();
    }
    const ns = event.object.metadata.namespace;
    const controlPlane = CONTROL_PLANE_NAMESPACES.has(ns ?? '');
    // Reachability depends on control-plane pods, NetworkPolicies and namespace labels; which
    // pods have proxies and what the CA signs with depend on namespaces and control-plane objects.
    // A namespace other than the control plane's decides only for its own pods (its labels are the
    // source's in NetworkPolicy namespaceSelectors, and ambient capture reads them): the caches
    // start again and its pods are looked at again, not every pod of the cluster.
    if (event.key === 'namespaces') this.namespaceVersion++;
    const ownNamespaceOnly = event.key === 'namespaces' && !CONTROL_PLANE_NAMESPACES.has(event.object.metadata.name);
    if (ownNamespaceOnly) {
      this.cacheEpoch++;
      this.cachesEpoch++;
      for (const pod of this.cluster.api.list(this.type('pods'), event.object.metadata.name)) this.dirty.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
    } else {
      if (event.key === 'networking.k8s.io/networkpolicies' || event.key === 'namespaces' || (event.key === 'pods' && controlPlane)) {
        this.netEpoch++;
        this.cachesEpoch++;
      }
      if (event.key === 'namespaces' || controlPlane) this.globalEpoch++;
    }
    if ((event.key === 'apps/deployments' || event.key === 'apps/daemonsets') && !controlPlane) return [];
    if (event.key === 'pods') {
      if (event.type === 'DELETED') this.forget(event.object.metadata.uid ?? '');
      else this.dirty.add(`${ns ?? ''}/${event.object.metadata.name}`);
    }
    return ['all'];
  }

  /** A Service that has or had retry annotations; with no snapshot, the next one reads them anyway. */
  private retryConfigChanged(service: KubeObject): boolean {
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    return service.metadata.annotations?.['retry.linkerd.io/http'] !== undefined || (this.snapshot?.linkerdRetries.has(key) ?? false);
  }

  private admit(pod: KubeObject): KubeObject {
    const mesh = this.mesh;
    if (!mesh) return pod;
    const api = this.cluster.api;
    const namespace = api.find(this.type('namespaces'), undefined, pod.metadata.namespace ?? '');
    const injectorUp = this.injectorUp(mesh);
    const anchors = mesh === 'linkerd' ? ((api.find(this.type('configmaps'), 'linkerd', 'linkerd-identity-trust-roots')?.['data'] as Record<string, string> | undefined)?.['ca-bundle.crt'] ?? '') : undefined;
    const service = api.find(this.type('services'), mesh === 'istio' ? 'istio-system' : 'linkerd', mesh === 'istio' ? 'istiod' : 'linkerd-proxy-injector');
    const webhookType = api.types.builtinKind('MutatingWebhookConfiguration');
    const webhooks = mesh === 'istio' && webhookType ? api.list(webhookType) : [];
    return inject(pod, { mesh, namespace, injectorUp, webhooks, ...(anchors !== undefined ? { trustAnchorsPem: anchors } : {}), injectorServiceIp: String((service?.spec as Obj | undefined)?.['clusterIP'] ?? '') });
  }

  /** The API server reaches the injector webhook when one of its pods is Ready. */
  private injectorUp(mesh: MeshKind): boolean {
    const labels: Record<string, string> = mesh === 'istio' ? { app: 'istiod' } : { 'linkerd.io/control-plane-component': 'proxy-injector' };
    return this.cluster.api
      .list(this.type('pods'), controlPlaneNamespace(mesh))
      .some((p) => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v) && isPodReady(p));
  }

  private readiness(pod: KubeObject): { ready: boolean; reason?: string; message?: string } {
    if (pod.metadata.namespace === 'istio-system' && pod.metadata.labels?.['app'] === 'istiod' && this.istiodBroken) {
      return { ready: false, reason: 'ContainersNotReady', message: this.istiodBroken };
    }
    const proxy = this.records.get(pod.metadata.uid ?? '');
    if (!proxy) {
      // A sidecar the twin has not seen start yet has no config and no identity either.
      const sidecar = hasSidecar(pod);
      if (sidecar === 'istio') return { ready: false, reason: 'ContainersNotReady', message: 'config not received from XDS server (is Istiod running?)' };
      if (sidecar === 'linkerd') return { ready: false, reason: 'ContainersNotReady', message: 'Failed to obtain identity' };
      return { ready: true };
    }
    if (proxy.kind === 'ambient') return { ready: true };
    // pilot-agent caches readiness once it has been ready (ready/probe.go atleastOnceReady).
    if (proxy.everReady) return { ready: true };
    if (!proxy.snapshot && proxy.kind === 'istio') return { ready: false, reason: 'ContainersNotReady', message: 'config not received from XDS server (is Istiod running?)' };
    if (!proxy.cert) return { ready: false, reason: 'ContainersNotReady', message: proxy.kind === 'istio' ? 'failed to warm certificate' : 'Failed to obtain identity' };
    return { ready: true };
  }

  /** Brings every proxy in line with the cluster: new proxies, config pushes, first certificates. */
  reconcile(): void {
    const mesh = this.mesh;
    if (!mesh) return;
    const epochs = `${this.netEpoch}/${this.globalEpoch}`;
    const everything = epochs !== this.lastEpochs;
    this.lastEpochs = epochs;
    if (!everything && this.configEpoch !== this.lastConfigEpoch) {
      // New config only: push it to proxies that can reach the control plane. Recorded once; each
      // proxy applies it when next used (catchUp), as if it had been pushed to now.
      this.recordPush(mesh);
    }
    this.lastConfigEpoch = this.configEpoch;
    if (everything) {
      this.flushPushes();
      this.updateSigner(mesh);
    }
    const reach = this.reachability(mesh);
    // Only pods that changed, unless something every pod depends on changed.
    const podType = this.type('pods');
    const pods = everything
      ? this.cluster.api.list(podType)
      : [...this.dirty].map((k) => this.cluster.api.find(podType, k.split('/')[0], k.split('/')[1] ?? '')).filter((p): p is KubeObject => p !== undefined);
    this.dirty.clear();
    const seen = new Set<string>();
    for (const pod of pods) {
      const kind = this.proxyKind(mesh, pod);
      if (!kind) {
        this.forget(pod.metadata.uid ?? '');
        continue;
      }
      const proxy = this.ensureProxy(pod, kind);
      seen.add(proxy.uid);
      proxy.started = (pod.status as Obj | undefined)?.['phase'] === 'Running';
      if (!proxy.started) continue;
      this.sync(mesh, proxy, reach);
      if (proxy.kind === 'ambient') this.ambientIdentity(proxy, reach);
      else if (!proxy.cert) this.issue(mesh, proxy, reach);
      if (this.readiness(pod).ready && (proxy.snapshot || proxy.kind === 'linkerd') && proxy.cert && !proxy.everReady) {
        proxy.everReady = true;
        this.note(proxy, 'info', proxy.kind === 'linkerd' ? 'linkerd2_proxy: Admin interface on 0.0.0.0:4191' : 'Envoy proxy is ready');
      }
      if (isPodReady(pod) !== this.readiness(pod).ready) this.cluster.controllers.ctx.enqueue('pods', `${proxy.namespace}/${proxy.pod}`);
    }
    if (everything) for (const uid of this.records.keys()) if (!seen.has(uid)) this.forget(uid);
    for (const pod of this.cluster.api.list(this.type('pods'), 'istio-system')) {
      if (pod.metadata.labels?.['app'] === 'istiod') this.cluster.controllers.ctx.enqueue('pods', `istio-system/${pod.metadata.name}`);
    }
  }

  /**
   * A push to every started proxy. Within a run of pushes (until something a push's outcome depends
   * on changes: reachability, the signing root, the mesh) each proxy's answer is the same, so a
   * proxy that catches up applies the run's last push as the whole run would have landed. Whether
   * a proxy reaches its config source is worked out as the run starts, while the cluster is as the
   * pushes find it (answers are kept per proxy and answerer: reachesConfig).
   */
  private recordPush(mesh: MeshKind): void {
    const reach = this.reachability(mesh);
    const log = this.pushLog;
    const last = log.pending.at(-1);
    // A run ends where a push's outcome could differ, and after a while in any case (so a proxy no
    // one reads never holds pushes older than its stream's maximum age).
    const stale = log.pending[0] !== undefined && this.clock.now() - log.pending[0].at >= MAX_CONNECTION_AGE_MS / 2;
    if (stale || (last && (last.reach !== reach || last.mesh !== mesh || last.signerRoot !== this.signerRoot))) this.flushPushes();
    if (log.pending.length === 0) for (const proxy of this.records.values()) if (proxy.started && proxy.kind !== 'ambient') this.reachesConfig(proxy, reach);
    log.pending.push({ at: this.clock.now(), snapshot: this.currentSnapshot(), reach, signerRoot: this.signerRoot, mesh });
    log.gen++;
  }

  /** Brings every proxy up to date with the pushes made, and starts a new run. */
  private flushPushes(): void {
    const log = this.pushLog;
    if (log.pending.length === 0) return;
    for (const proxy of this.records.values()) proxy.current();
    log.base = log.gen;
    log.pending = [];
  }

  /**
   * Applies to a proxy the pushes made since it last looked, as sync would have applied each when
   * it was made: a started proxy that reaches its config source (and, on Istio, trusts istiod's
   * serving certificate) has the last push's config from then; one that does not is disconnected.
   */
  private catchUp(proxy: TwinProxy): void {
    const log = this.pushLog;
    const from = proxy.seen - log.base;
    proxy.seen = log.gen;
    const state = proxy.raw();
    if (from < 0 || from >= log.pending.length || !state.started) return;
    const first = log.pending[from]!;
    const last = log.pending[log.pending.length - 1]!;
    if (proxy.kind === 'ambient') {
      proxy.landed({ snapshot: last.snapshot, lastSync: last.at });
      return;
    }
    if (!this.reachesConfig(proxy, last.reach) || (last.mesh === 'istio' && state.cert && last.signerRoot && !state.trust.has(last.signerRoot))) {
      proxy.landed('refused');
      return;
    }
    if (!state.snapshot && last.mesh === 'istio') this.noteAt(proxy, first.at, 'info', `ads: ADS: new connection for node:${proxy.pod}.${proxy.namespace}`);
    proxy.landed({ snapshot: last.snapshot, lastSync: last.at });
    if (!proxy.reconnect) this.armReconnect(last.mesh, proxy, first.at + MAX_CONNECTION_AGE_MS - this.clock.now());
  }

  /** A line of the proxy container's log, in the mesh's own shape. */
  private note(proxy: Proxy, level: 'info' | 'warn', message: string): void {
    // Lines of pushes it has not applied yet come first: they happened before this one.
    if (proxy instanceof TwinProxy) proxy.current();
    this.noteAt(proxy, this.clock.now(), level, message);
  }

  private noteAt(proxy: Proxy, when: number, level: 'info' | 'warn', message: string): void {
    const at = new Date(when).toISOString();
    proxy.log.push(proxy.kind === 'linkerd' ? `[${at}] ${level.toUpperCase()} ${message}` : `${at}\t${level}\t${message}`);
    if (proxy.log.length > LOG_LINES) proxy.log.splice(0, proxy.log.length - LOG_LINES);
  }

  /** What a container of a meshed pod printed: the proxy's lines, or the application's start. */
  logsOf(pod: KubeObject, container: string): string | undefined {
    const proxy = this.records.get(pod.metadata.uid ?? '')?.current();
    if (!proxy) return undefined;
    if (container === 'istio-proxy' || container === 'linkerd-proxy') return proxy.log.map((l) => `${l}\n`).join('');
    return undefined;
  }

  private forget(uid: string): void {
    const proxy = this.records.get(uid);
    if (!proxy) return;
    proxy.renewal?.cancel();
    proxy.reconnect?.cancel();
    this.records.delete(uid);
    this.proxyChanges.count++;
  }

  private proxyKind(mesh: MeshKind, pod: KubeObject): Proxy['kind'] | undefined {
    const sidecar = hasSidecar(pod);
    if (sidecar) return sidecar;
    if (mesh !== 'istio') return undefined;
    // Ambient capture: namespace or pod labelled istio.io/dataplane-mode=ambient, pod not "none",
    // no sidecar, and a ztunnel on the node (ambient add-workloads doc; CNI skips kube-system).
    const ns = this.cluster.api.find(this.type('namespaces'), undefined, pod.metadata.namespace ?? '');
    const podMode = pod.metadata.labels?.['istio.io/dataplane-mode'];
    const nsMode = ns?.metadata.labels?.['istio.io/dataplane-mode'];
    if (podMode === 'none' || (podMode !== 'ambient' && nsMode !== 'ambient')) return undefined;
    if (['kube-system', 'istio-system'].includes(pod.metadata.namespace ?? '')) return undefined;
    const node = (pod.spec as Obj | undefined)?.['nodeName'];
    const ztunnel = this.ztunnelPods().some((p) => (p.spec as Obj)['nodeName'] === node && isPodReady(p));
    return ztunnel ? 'ambient' : undefined;
  }

  private ensureProxy(pod: KubeObject, kind: Proxy['kind']): TwinProxy {
    const uid = pod.metadata.uid ?? '';
    let proxy = this.records.get(uid);
    if (!proxy) {
      const anchors = kind === 'linkerd' ? rootId(linkerdEnv(pod, LINKERD_TRUST_ENV)) : undefined;
      proxy = new TwinProxy(
        this.pushLog,
        (p) => this.catchUp(p),
        this.proxyChanges,
        uid,
        pod.metadata.namespace ?? '',
        pod.metadata.name,
        pod.metadata.labels?.['app'] ?? pod.metadata.name,
        pod.metadata.labels ?? {},
        String((pod.spec as Obj | undefined)?.['serviceAccountName'] ?? 'default'),
        kind,
        pod.metadata.labels?.[GATEWAY_ROLE_LABEL] === 'gateway',
        String((pod.spec as Obj | undefined)?.['nodeName'] ?? ''),
        new Set(anchors ? [anchors] : []),
        linkerdEnv(pod, LINKERD_POLICY_ENV) ?? 'all-unauthenticated',
      );
      const limits = proxyLimits(pod);
      if (limits.cpu !== undefined) proxy.cpuLimit = limits.cpu;
      if (limits.memory !== undefined) proxy.memoryLimit = limits.memory;
      this.records.set(uid, proxy);
      this.proxyChanges.count++;
      this.note(proxy, 'info', kind === 'linkerd' ? 'linkerd2_proxy: release 2.16 (meshdrill twin) by linkerd' : 'pilot-agent: Version 1.27 (meshdrill twin)');
    }
    return proxy;
  }

  /** Pushes the current config to a proxy that can reach the control plane (Istio: and trusts istiod's serving cert). */
  private sync(mesh: MeshKind, proxy: Proxy, reach: Reach): void {
    if (proxy.kind === 'ambient') {
      proxy.snapshot = this.currentSnapshot();
      proxy.lastSync = this.clock.now();
      return;
    }
    // istiod's xDS serving certificate is signed by its current root: a proxy that trusts another
    // root cannot connect ("x509: certificate signed by unknown authority", istio/istio#36723).
    if (!this.reachesConfig(proxy, reach) || (mesh === 'istio' && proxy.cert && this.signerRoot && !proxy.trust.has(this.signerRoot))) {
      proxy.connected = false;
      return;
    }
    const now = this.clock.now();
    const snapshot = this.currentSnapshot();
    // A new stream (first, or after losing the control plane) and istiod's forced reconnect
    // (--keepaliveMaxServerConnectionAge, 30m by default) each bring a full push.
    let received = !proxy.connected || proxy.lastSync === undefined || now - proxy.lastSync >= MAX_CONNECTION_AGE_MS;
    if (proxy.snapshot !== snapshot) {
      if (!proxy.snapshot && mesh === 'istio') this.note(proxy, 'info', `ads: ADS: new connection for node:${proxy.pod}.${proxy.namespace}`);
      proxy.snapshot = snapshot;
      received = true;
    }
    proxy.connected = true;
    if (!received) return;
    proxy.lastSync = now;
    // istiod closes the stream when it reaches its maximum age; the proxy reconnects at once and
    // gets everything again. A proxy that cannot reach istiod then stays disconnected until a
    // reconcile finds the control plane back.
    if (!proxy.reconnect) this.armReconnect(mesh, proxy, MAX_CONNECTION_AGE_MS);
  }

  /**
   * The stream's maximum age, counted from the last full push. A push before the timer fires moves
   * the deadline: the timer then waits out the rest instead of being set again on every push (a
   * mesh-wide config change pushes to every proxy at once).
   */
  private armReconnect(mesh: MeshKind, proxy: Proxy, delay: number): void {
    proxy.reconnect = this.clock.setTimer(delay, () => {
      // Pushes it has not applied yet land first, with this timer still counted as armed.
      if (proxy instanceof TwinProxy) proxy.current();
      proxy.reconnect = undefined;
      if (this.records.get(proxy.uid) !== proxy || this.mesh !== mesh) return;
      const left = (proxy.lastSync ?? 0) + MAX_CONNECTION_AGE_MS - this.clock.now();
      if (left > 0) return this.armReconnect(mesh, proxy, left);
      this.sync(mesh, proxy, this.reachability(mesh));
    });
  }

  /** Whether a proxy reaches its config source, remembered per answerer (one per mesh and network epoch). */
  private reachesConfig(proxy: Proxy, reach: Reach): boolean {
    if (proxy.configReach?.reach !== reach) proxy.configReach = { reach, value: reach.reachable('config', { namespace: proxy.namespace, labels: proxy.labels }) };
    return proxy.configReach.value;
  }

  private lifetime(mesh: MeshKind): number {
    const cm = mesh === 'istio' ? this.cluster.api.find(this.type('configmaps'), 'istio-system', 'istio') : this.cluster.api.find(this.type('configmaps'), 'linkerd', 'linkerd-config');
    return certLifetime(mesh, cm);
  }

  /** Asks the CA for a certificate; schedules the next renewal either way. */
  private issue(mesh: MeshKind, proxy: Proxy, reach: Reach): void {
    const now = this.clock.now();
    // Linkerd's identity service signs nothing with an expired issuer (linkerd2#3779; #15109: "Linkerd
    // started failing to issue child certificates"), and no leaf outlives its issuer: a leaf expires
    // at the issuer's notAfter at the latest (linkerd2#3893, from #3880).
    const issuerLeft = mesh === 'linkerd' && this.issuerNotAfter !== undefined ? this.issuerNotAfter - now : Number.POSITIVE_INFINITY;
    const canSign = this.signerRoot !== undefined && issuerLeft > 0 && reach.reachable('ca', { namespace: proxy.namespace, labels: proxy.labels });
    const trusted = mesh === 'linkerd' || !proxy.cert || (this.signerRoot !== undefined && proxy.trust.has(this.signerRoot));
    if (canSign && trusted) {
      const lifetime = Math.min(this.lifetime(mesh), issuerLeft);
      proxy.cert = { root: this.signerRoot!, issuedAt: now, expiresAt: now + lifetime, ...(this.anchorNotAfter !== undefined ? { rootExpiresAt: this.anchorNotAfter } : {}) };
      if (mesh === 'istio') proxy.trust = new Set([this.signerRoot!]);
      proxy.renewalFailures = 0;
      this.note(proxy, 'info', mesh === 'linkerd' ? `identity: Certified identity id=${proxy.serviceAccount}.${proxy.namespace}.serviceaccount.identity.linkerd.cluster.local` : `cache: generated new workload certificate resourceName=default ttl=${Math.round(lifetime / 1000)}s`);
      const renewIn = mesh === 'istio' ? lifetime * (1 - ISTIO_GRACE_RATIO) : Math.max(LINKERD_MIN_REFRESH_MS, lifetime * LINKERD_REFRESH_RATIO);
      this.scheduleRenewal(mesh, proxy, renewIn);
      return;
    }
    proxy.renewalFailures++;
    this.note(proxy, 'warn', mesh === 'linkerd' ? 'identity: Failed to obtain identity error=status: Unavailable' : `ca: ca request failed, starting attempt ${proxy.renewalFailures}`);
    const remaining = (proxy.cert?.expiresAt ?? now) - now;
    // Linkerd retries at 70 % of the remaining lifetime against the old expiry (min 10 s);
    // Istio's agent retries with backoff — modelled as a tenth of the remaining lifetime, 10 s to 5 min.
    const retryIn = mesh === 'linkerd' ? Math.max(LINKERD_MIN_REFRESH_MS, remaining * LINKERD_REFRESH_RATIO) : Math.min(300_000, Math.max(10_000, remaining / 10));
    this.scheduleRenewal(mesh, proxy, retryIn);
  }

  private scheduleRenewal(mesh: MeshKind, proxy: Proxy, delay: number): void {
    proxy.renewal?.cancel();
    proxy.renewal = this.clock.setTimer(delay, () => {
      if (this.records.get(proxy.uid) !== proxy) return;
      this.issue(mesh, proxy, this.reachability(mesh));
      this.globalEpoch++;
      this.cluster.controllers.ctx.enqueue('mesh-twin', 'all');
    });
  }

  /**
   * ztunnel holds certificates for the workloads on its node and drops them when it cannot renew:
   * ambient workloads lose mTLS as soon as the CA is gone (../shared/reference/chaos.md §4).
   */
  private ambientIdentity(proxy: Proxy, reach: Reach): void {
    const now = this.clock.now();
    const up = this.signerRoot !== undefined && reach.reachable('ca', { namespace: 'istio-system', labels: { app: 'ztunnel' } });
    if (!up) {
      proxy.cert = undefined;
      return;
    }
    if (!proxy.cert || proxy.cert.root !== this.signerRoot || proxy.cert.expiresAt <= now) {
      proxy.cert = { root: this.signerRoot!, issuedAt: now, expiresAt: now + this.lifetime('istio') };
      proxy.trust = new Set([this.signerRoot!]);
    }
  }

  /** The root the CA signs with now. */
  private updateSigner(mesh: MeshKind): void {
    const api = this.cluster.api;
    if (mesh === 'linkerd') {
      const { issuerRoot, issuerNotAfter, anchorNotAfter } = linkerdRoots(api.find(this.type('configmaps'), 'linkerd', 'linkerd-identity-trust-roots'), api.find(this.type('secrets'), 'linkerd', 'linkerd-identity-issuer'));
      // A new issuer that does not verify is skipped (IssuerUpdateSkipped): the old one stays.
      // Whether identity can sign at all is a question of reachability ('ca' role).
      if (issuerRoot) {
        this.signerRoot = issuerRoot;
        this.issuerNotAfter = issuerNotAfter;
        this.anchorNotAfter = anchorNotAfter;
      }
      return;
    }
    const cacerts = api.find(this.type('secrets'), 'istio-system', 'cacerts');
    const caSecret = api.find(this.type('secrets'), 'istio-system', 'istio-ca-secret');
    const state = istioSigningRoot(cacerts, caSecret);
    this.istiodBroken = state.broken;
    const istiods = api.list(this.type('pods'), 'istio-system').filter((p) => p.metadata.labels?.['app'] === 'istiod' && (p.status as Obj | undefined)?.['phase'] === 'Running');
    if (state.needsSelfSigned && istiods.length > 0) {
      // istiod creates istio-ca-secret with a new self-signed root when neither secret exists.
      const pem = `meshdrill self-signed root ${this.cluster.clock.now()}-${++this.selfSignedCount}`;
      api.create(this.type('secrets'), 'istio-system', { metadata: { name: 'istio-ca-secret', namespace: 'istio-system' }, stringData: { 'ca-cert.pem': pem, 'ca-key.pem': 'generated' } });
      return;
    }
    if (istiods.length === 0) return;
    // Plugged-in cacerts are watched and hot-reloaded (handleCACertsFileWatch). istio-ca-secret is
    // read at start only: deleting it while istiod runs changes nothing until istiod restarts.
    if (cacerts && state.root) {
      this.signerRoot = state.root;
      this.anchorNotAfter = state.rootNotAfter;
    } else if (!this.signerRoot || this.istiodRestartedSince()) {
      this.signerRoot = state.root;
      this.anchorNotAfter = state.rootNotAfter;
    }
  }

  private watching: MeshTwin[] = [];
  private selfSignedCount = 0;
  private istiodStarts = new Set<string>();
  private istiodRestartedSince(): boolean {
    const current = this.cluster.api.list(this.type('pods'), 'istio-system').filter((p) => p.metadata.labels?.['app'] === 'istiod').map((p) => p.metadata.uid ?? '');
    const fresh = current.filter((uid) => !this.istiodStarts.has(uid));
    for (const uid of fresh) this.istiodStarts.add(uid);
    return fresh.length > 0 && current.every((uid) => fresh.includes(uid));
  }

  private buildSnapshot(): ConfigSnapshot {
    const list = (group: string, resource: string) => {
      const type = this.customType(group, resource);
      return type ? this.cluster.api.list(type) : [];
    };
    // Istio multi-primary: the remote clusters' endpoints join the local ones, and a change there
    // is a change of this istiod's config. Those no remote secret names any more are left alone.
    const remotes = this.remoteClusters();
    for (const remote of this.watching) if (!remotes.includes(remote)) remote.endpointWatchers.delete(this.remoteChanged);
    this.watching = remotes;
    for (const remote of remotes) remote.endpointWatchers.add(this.remoteChanged);
    const endpoints = remotes.length === 0 ? this.endpointTable().snapshot() : mergedEndpoints(this.readyEndpoints(), remotes.map((r) => r.readyEndpoints()));
    const meshConfig = this.cluster.api.find(this.type('configmaps'), MESH_CONFIG.namespace, MESH_CONFIG.name);
    const linkerdRetries = new Map<string, LinkerdRetryPolicy>();
    if (this.mesh === 'linkerd') for (const service of this.cluster.api.list(this.type('services'))) {
      const policy = linkerdRetryPolicy(service);
      if (policy) linkerdRetries.set(`${service.metadata.namespace}/${service.metadata.name}`, policy);
    }
    return {
      version: ++this.configVersion,
      takenAt: this.clock.now(),
      trustDomain: meshConfigOf(meshConfig, 'trustDomain', istioTrustDomain),
      peerAuthentications: list('security.istio.io', 'peerauthentications'),
      authorizationPolicies: list('security.istio.io', 'authorizationpolicies'),
      virtualServices: list('networking.istio.io', 'virtualservices'),
      destinationRules: list('networking.istio.io', 'destinationrules'),
      sidecars: list('networking.istio.io', 'sidecars'),
      serviceEntries: list('networking.istio.io', 'serviceentries'),
      waypoints: this.waypoints(list('gateway.networking.k8s.io', 'gateways')),
      egressNetworks: list('policy.linkerd.io', 'egressnetworks'),
      outboundMode: meshConfigOf(meshConfig, 'outboundMode', meshOutboundMode),
      servers: list('policy.linkerd.io', 'servers'),
      linkerdAuthorizations: list('policy.linkerd.io', 'authorizationpolicies'),
      meshTlsAuthentications: list('policy.linkerd.io', 'meshtlsauthentications'),
      networkAuthentications: list('policy.linkerd.io', 'networkauthentications'),
      serverAuthorizations: list('policy.linkerd.io', 'serverauthorizations'),
      httpRoutes: [...list('policy.linkerd.io', 'httproutes'), ...list('gateway.networking.k8s.io', 'httproutes')],
      linkerdRetries,
      endpoints,
    };
  }
}
