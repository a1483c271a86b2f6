import { parseDuration, parsePercent, portsOf, postOrder, servicesByRef, type Topology } from '../../../model/index.js';
import type { TimerHandle } from '../../../core/index.js';
import type { KubeObject } from '../api/types.js';
import { isPodReady } from '../controllers/context.js';
import { decide, OUTSIDE_IP, type Decision, type Party } from './decide.js';
import { requestClasses, type RequestClassShare } from './request.js';
import { DEFAULT_TRUST_DOMAIN, istioPrincipal } from './identity.js';
import { ISTIO_BUCKETS, LINKERD_BUCKETS, type Labels, type MetricSink } from './metrics.js';
import { cachedRoute, resolveRoute, type RouteDecision, type ServiceDirectory } from './routing.js';
import { linkerdOutboundRoute } from './routing-linkerd.js';
import type { ClientTlsMode, TrafficPolicy } from './destination-rule.js';
import type { RequestAttributes } from './request.js';
import { egressScope, hostScope, linkerdEgressAllows, serviceEntryFor, sidecarFor, type EgressScope } from './egress.js';
import type { ConfigSnapshot } from './policy.js';
import { serviceFqdn } from './hosts.js';
import { POD_ERROR_RATE_ANNOTATION } from '../../workloads.js';
import type { MeshTwin, Proxy } from './twin.js';
import { ProxyLoad } from './proxy-load.js';
import { INBOUND_LISTENER, ProxyMetrics, proxyMemoryBytes } from './proxy-metrics.js';
import { TickEffects } from './tick-effects.js';
import { StoreMemo } from './store-memo.js';
import type { MetricStore, SlotAdds } from './metrics.js';

type Obj = Record<string, unknown>;

export interface TrafficOptions {
  /** Evaluation resolution: outcomes and metrics are computed per tick. Default 10 s. */
  tickMs?: number;
  /** Multiplies every entrypoint's rps (a load runner sets it). */
  rpsScale?: number;
  /**
   * Applies the last tick's effects again when a tick starts from the same inputs (tick-effects.ts).
   * On by default; off, every tick is worked out in full (tests compare the two).
   */
  repeatUnchangedTicks?: boolean;
}

interface ServiceInfo {
  ref: string;
  namespace: string;
  name: string;
  protocol: 'http' | 'grpc' | 'tcp';
  /** The first port, the one Envoy cluster names carry. */
  port: number;
  errorRate: number;
  mu: number;
  sigma: number;
  calls: Array<{ to: string; share: number; classes: RequestClassShare[] }>;
  /** Calls to hosts outside the mesh (Topology `external`). */
  external: Array<{ host: string; port: number; share: number; mu: number; sigma: number }>;
}

/** Requests arriving at a service in one tick: from a caller (or outside) at a rate, in classes. */
interface Inbound {
  from?: string;
  rps: number;
  classes: RequestClassShare[];
}

// Proxy hop overhead per request, added to service latency: Envoy sidecars ~1.5 ms per side,
// linkerd2-proxy ~1 ms, ztunnel ~0.5 ms (within the 1–3 ms the issue allows per hop).
const HOP_MS: Record<Proxy['kind'], number> = { istio: 1.5, linkerd: 1, ambient: 0.5 };
// Envoy's connect timeout in the mesh: MeshConfig connectTimeout, 10 s by default (istio.io
// reference/config/istio.mesh.v1alpha1).
const CONNECT_TIMEOUT_MS = 10_000;
// Istio's default retry policy: 2 attempts on connect-failure, refused-stream, unavailable, cancelled.
const ISTIO_DEFAULT_RETRIES = 2;
// Linkerd's outbound discovery cache drops entries unused for 5 s
// (proxy.outboundDiscoveryCacheUnusedTimeout, configuring-proxy-discovery-cache.md).
const LINKERD_DISCOVERY_IDLE_MS = 5_000;
const Z99 = 2.3263478740408408;

/**
 * Requests flowing through the topology in virtual time. Each tick, the entry rates propagate
 * down the call graph (only requests a service served successfully make downstream calls); each
 * edge's requests are split evenly over the caller's ready pods and the endpoints each caller's
 * proxy knows, and every (client, server) pair's outcome follows from the twin's state. Counts
 * are expected values, not samples: deterministic, and cheap at thousands of rps.
 */
export class TrafficModel {
  private readonly services = new Map<string, ServiceInfo>();
  private readonly order: string[];
  private readonly tickMs: number;
  private readonly repeatUnchangedTicks: boolean;
  /** The last tick's effects and the inputs it started from, while they are worth repeating. */
  private lastTick?: { inputs: string; effects: TickEffects };
  /** The effects of the tick under way, as it works them out. */
  private effects?: TickEffects;
  /** Ticks so far, and how many of them repeated the last one's effects. */
  readonly ticks = { total: 0, repeated: 0 };
  private timer?: TimerHandle;
  private rpsScale: number;
  /** Requests and CPU per proxy (proxy-load.ts), and each proxy's own series (proxy-metrics.ts). */
  private readonly load = new ProxyLoad();
  private readonly proxyMetrics: ProxyMetrics;
  /**
   * A tick's outcomes, summed by key before they reach the metric store: first by who called what
   * (caller and callee workloads, the service called, where it went: worked out once per pair of
   * parties), then by what happened. Each keeps its emitter from tick to tick.
   */
  private readonly outcomes = new Map<string, Map<string, PendingOutcome>>();
  private readonly touched: PendingOutcome[] = [];
  /** The services each client proxy has a retry counter for. */
  private readonly retryCounters = new WeakMap<object, Set<string>>();

  /** Request classes of each entrypoint, in the topology's order. */
  private readonly entryClasses: RequestClassShare[][];
  /** What decisions met that the twin does not model, deduplicated. */
  private readonly notModelled = new Set<string>();
  /** The share of the entrypoints' load that enters this cluster (a fleet's global load balancer splits it). */
  private entryShare = 1;
  /** A fleet member: its name, the other members' traffic, and the round trip between regions. */
  private fleet?: { name: string; peers: TrafficModel[]; crossClusterMs: number };
  /** Servers in another cluster, by the party that stands for them, with that cluster's traffic. */
  private readonly homes = new WeakMap<Party, TrafficModel>();

  constructor(
    private readonly twin: MeshTwin,
    private readonly topology: Topology,
    options: TrafficOptions = {},
  ) {
    this.tickMs = options.tickMs ?? 10_000;
    this.rpsScale = options.rpsScale ?? 1;
    this.repeatUnchangedTicks = options.repeatUnchangedTicks ?? true;
    this.proxyMetrics = new ProxyMetrics(twin);
    const byRef = servicesByRef(topology);
    const classesTo = (ref: string, port: number | string | undefined, requests: Parameters<typeof requestClasses>[3]) => {
      const callee = byRef.get(ref);
      return callee ? requestClasses(callee.namespace.name, callee.service, port, requests) : [];
    };
    this.entryClasses = topology.spec.entrypoints.map((e) => classesTo(e.service, e.port, e.requests));
    for (const ns of topology.spec.namespaces) {
      for (const svc of ns.services) {
        const p50 = parseDuration(svc.latency.p50) ?? 5;
        const p99 = Math.max(parseDuration(svc.latency.p99) ?? 25, p50 * 1.01);
        this.services.set(`${ns.name}/${svc.name}`, {
          ref: `${ns.name}/${svc.name}`,
          namespace: ns.name,
          name: svc.name,
          protocol: svc.protocol,
          port: portsOf(svc)[0]!.port,
          errorRate: (parsePercent(svc.errorRate) ?? 0) / 100,
          mu: Math.log(p50),
          sigma: (Math.log(p99) - Math.log(p50)) / Z99,
          calls: svc.calls.map((c) => ({ to: c.to, share: (parsePercent(c.share) ?? 100) / 100, classes: classesTo(c.to, c.port, c.requests) })),
          external: svc.external.map((e) => {
            const e50 = parseDuration(e.latency.p50) ?? 40;
            const e99 = Math.max(parseDuration(e.latency.p99) ?? 200, e50 * 1.01);
            return { host: e.host, port: e.port, share: (parsePercent(e.share) ?? 100) / 100, mu: Math.log(e50), sigma: (Math.log(e99) - Math.log(e50)) / Z99 };
          }),
        });
      }
    }
    this.order = topologicalOrder(this.services);
    for (const svc of this.services.values()) this.directory.set(serviceFqdn(svc.namespace, svc.name), svc.ref);
  }

  /** The entrypoints' total rate before scaling. */
  naturalRps(): number {
    return this.topology.spec.entrypoints.reduce((n, e) => n + e.rps, 0);
  }

  /** Everything the traffic met in policies that the twin reads but does not model, once each. */
  notModelledSeen(): string[] {
    return [...this.notModelled].sort();
  }

  setRpsScale(scale: number): void {
    this.rpsScale = scale;
  }

  /**
   * Makes this cluster's traffic one member of a fleet's (Istio multi-primary, one network): its
   * callers reach the pods of other clusters that its istiod lists as endpoints, across the
   * regions' round trip, and those pods serve them and make their own calls there.
   */
  joinFleet(fleet: { name: string; peers: TrafficModel[]; crossClusterMs: number; entryShare: number }): void {
    this.fleet = { name: fleet.name, peers: fleet.peers, crossClusterMs: fleet.crossClusterMs };
    this.entryShare = fleet.entryShare;
  }

  /** Where an endpoint's pod runs: this cluster, or (in a fleet) the member that has it. */
  private locate(local: Map<string, KubeObject>, ref: string, uid: string): { pod: KubeObject; home: TrafficModel } | undefined {
    const pod = local.get(uid);
    if (pod) return { pod, home: this };
    for (const peer of this.fleet?.peers ?? []) {
      const there = peer.podOf(ref, uid);
      if (there) return { pod: there, home: peer };
    }
    return undefined;
  }

  /**
   * Requests the load balancer sent to endpoints on a stopped node: the connection attempt gets no
   * answer and ends at the connect timeout. An Istio sidecar retries a connect failure on another
   * host (the default retry policy: 2 attempts, retryOn connect-failure among others, the
   * previous-hosts predicate; a route's retries replace it, and 5xx covers connect failures), each
   * failed attempt costing Envoy's connect timeout (MeshConfig connectTimeout, 10 s by default):
   * with a share f of the endpoints stopped, a request fails only when every attempt met one (f to
   * the power of the attempts). linkerd2-proxy's balancer sends a request only to an endpoint it
   * holds a ready connection to, so the stopped ones take none. A caller without a proxy connects
   * through kube-proxy to whichever endpoint it picks and fails there.
   */
  private toStoppedPods(mesh: 'istio' | 'linkerd', client: Party, server: ServiceInfo, route: Extract<RouteDecision, { kind: 'forward' }>, n: number, f: number, elsewhere: ((count: number, waitedMs: number) => void) | undefined, now: number): void {
    const proxy = client.proxy;
    if (proxy?.kind === 'linkerd' && proxy.snapshot && elsewhere) {
      elsewhere(n, 0);
      return;
    }
    const sidecar = proxy?.kind === 'istio' && proxy.snapshot !== undefined;
    const retryOn = route.retries?.retryOn;
    const retriesConnectFailures = sidecar && !route.request.opaque && (retryOn === undefined || retryOn.some((r) => r === 'connect-failure' || r === '5xx' || r === 'gateway-error'));
    const attempts = retriesConnectFailures ? (route.retries?.attempts ?? ISTIO_DEFAULT_RETRIES) : 0;
    let remaining = n;
    for (let k = 1; k <= attempts && elsewhere; k++) {
      // The k-th retry reaches a live host with probability 1 − f, having waited k connect timeouts.
      const reached = remaining * (1 - f);
      this.countRetries('istio', client, server, remaining);
      if (reached > 0) elsewhere(reached, k * CONNECT_TIMEOUT_MS);
      remaining -= reached;
    }
    if (remaining > 0) this.record(mesh, client, server, undefined, { result: 'connect-failure', mtls: false, reachedServer: false, code: proxy ? 503 : 0 }, remaining, proxy ? (attempts + 1) * CONNECT_TIMEOUT_MS : 0, now, proxy ? (attempts > 0 ? 'UF,URX' : 'UF') : '-');
  }

  /** A pod of this cluster behind a service, by uid, in the tick under way. */
  private podOf(ref: string, uid: string): KubeObject | undefined {
    return this.current ? this.podsByUid(this.current.pods, ref).get(uid) : undefined;
  }

  /** Starts ticking on the cluster's clock. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.tick();
      this.timer = this.twin.clockHandle().setTimer(this.tickMs, tick);
    };
    this.timer = this.twin.clockHandle().setTimer(this.tickMs, tick);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /**
   * One tick's traffic, ending now. A tick that starts where the last one did (the same cluster,
   * proxies' load and entry rates, before a certificate its decisions relied on expires) repeats
   * the last one's effects (tick-effects.ts); a tick during which what it reads moved (a proxy
   * caught up with a push as it was asked) is not repeated.
   */
  tick(): void {
    this.ticks.total++;
    const inputs = this.tickInputs();
    const last = this.lastTick;
    if (inputs !== undefined && last?.inputs === inputs && this.twin.clockHandle().now() < last.effects.validUntil) {
      this.current = { now: this.twin.clockHandle().now(), mesh: this.twin.mesh ?? 'istio', pods: new Map(), incoming: new Map(), served: new Map() };
      this.ticks.repeated++;
      last.effects.replay(this.twin.metrics);
      this.finishTick({ effects: last.effects, repeated: true });
      return;
    }
    this.lastTick = undefined;
    this.effects = inputs === undefined ? undefined : new TickEffects();
    this.beginTick();
    for (const ref of this.order) {
      this.serve(ref);
      this.callOn(ref);
    }
    if (this.effects && this.tickInputs() === inputs) this.lastTick = { inputs: inputs!, effects: this.effects };
    this.effects = undefined;
    this.finishTick(this.lastTick && { effects: this.lastTick.effects, repeated: false });
  }

  /** What a tick's effects follow from, or undefined where they are not repeated (a fleet member's depend on the others). */
  private tickInputs(): string | undefined {
    if (!this.repeatUnchangedTicks || this.fleet) return undefined;
    return `${this.twin.stateStamp()}|${this.load.version}|${this.rpsScale}`;
  }

  /** Adds to a counter (as MetricStore.inc does), one of the tick's effects. */
  private count(metrics: MetricStore, name: string, labels: Labels, n: number): void {
    if (n === 0) return;
    const counter = metrics.counterHandle(name, labels);
    counter.value += n;
    this.effects?.add(counter, n);
  }

  /** Sets a gauge, one of the tick's effects. */
  private setGauge(metrics: MetricStore, name: string, labels: Labels, value: number): void {
    const gauge = metrics.gaugeHandle(name, labels);
    gauge.value = value;
    this.effects?.set(gauge, value);
  }

  /** The services in the order a tick visits them: every caller before what it calls. */
  get serviceOrder(): readonly string[] {
    return this.order;
  }

  /** What one tick has so far: the pods, the requests waiting at each service, what each served. */
  private current?: { now: number; mesh: 'istio' | 'linkerd'; pods: Map<string, KubeObject[]>; incoming: Map<string, Inbound[]>; served: Map<string, number> };

  /** Starts a tick: the entrypoints' requests wait at their services. */
  beginTick(): void {
    const now = this.twin.clockHandle().now();
    const mesh = this.twin.mesh ?? 'istio';
    // A stopped node's pods neither call nor answer (their endpoints stay until the API notices).
    const pods = this.podsByService();
    const incoming = new Map<string, Inbound[]>();
    this.current = { now, mesh, pods, incoming, served: new Map() };
    this.topology.spec.entrypoints.forEach((entry, i) => push(incoming, entry.service, { rps: entry.rps * this.rpsScale * this.entryShare, classes: this.entryClasses[i]! }));
  }

  /** The requests waiting at one service reach it (or a route's destination). */
  serve(ref: string): void {
    const { mesh, pods, incoming, served, now } = this.current!;
    const svc = this.services.get(ref);
    if (!svc) return;
    for (const inbound of incoming.get(ref) ?? []) this.edge(mesh, inbound, svc, pods, now, served);
  }

  /**
   * What a service served (routes may have sent it requests for other hosts; in a fleet, callers in
   * other clusters too) makes its calls. A route to a service earlier in the order serves, but its
   * calls are not followed this tick.
   */
  callOn(ref: string): void {
    const { mesh, pods, incoming, served, now } = this.current!;
    const svc = this.services.get(ref);
    if (!svc) return;
    const rps = ((served.get(ref) ?? 0) * 1000) / this.tickMs;
    for (const call of svc.calls) if (rps > 0) push(incoming, call.to, { from: ref, rps: rps * call.share, classes: call.classes });
    for (const ext of svc.external) if (rps > 0) this.externalCall(mesh, svc, ext, rps * ext.share, pods, now);
  }

  /** Ends a tick: its requests reach the metric store, and the proxies' own series are updated. */
  endTick(): void {
    this.finishTick(undefined);
  }

  /**
   * Ends a tick. One that repeated a recorded tick's effects costs what that one cost, and the
   * proxies' series are written as they were then (ProxyMetrics.repeat); the end of the recorded
   * tick itself keeps what it wrote.
   */
  private finishTick(tick: { effects: TickEffects; repeated: boolean } | undefined): void {
    const { mesh, now } = this.current!;
    // A repeated tick's outcomes reached the store with the rest of its effects.
    if (!tick?.repeated) this.flush(tick?.effects.outcomes);
    const scopeOf = (namespace: string) => this.twin.servicesInScope(namespace, this.services.size);
    const costs = tick?.repeated ? this.load.repeatTick() : this.load.endTick(this.tickMs, this.twin.proxies.values(), (proxy) => scopeOf(proxy.namespace));
    // A sidecar whose working set passed its memory limit is OOM-killed (and restarted after its
    // back-off). Not looked at again on a repeated tick: working sets are as at the recorded tick's
    // end, where a kill would have changed the cluster (and this tick would not have repeated).
    if (!tick?.repeated) for (const proxy of this.twin.proxies.values()) {
      if (proxy.started && proxy.kind !== 'ambient' && proxy.memoryLimit !== undefined && proxyMemoryBytes(proxy, scopeOf(proxy.namespace)) > proxy.memoryLimit) this.twin.oomKill(proxy);
    }
    if (!(tick?.repeated && this.proxyMetrics.repeat(tick.effects, now))) this.proxyMetrics.update(mesh, now, this.tickMs, costs, scopeOf, tick?.effects);
    this.twin.metrics.sample(now);
    this.current = undefined;
  }

  /** The hostnames of the topology's services (route destinations name hosts). */
  private readonly directory: ServiceDirectory = new Map();

  /** The service a caller called while its requests are recorded: the caller's view is of that one. */
  private calledAs?: ServiceInfo;

  /** Requests of one edge in this tick; adds what each destination served to `served`. */
  private edge(mesh: 'istio' | 'linkerd', inbound: Inbound, called: ServiceInfo, pods: Map<string, KubeObject[]>, now: number, served: Map<string, number>): void {
    const { from, rps } = inbound;
    const total = (rps * this.tickMs) / 1000;
    const callers = from ? (pods.get(from) ?? []).filter((p) => isPodReady(p) && !this.twin.onStoppedNode(p)) : [undefined];
    if (callers.length === 0 || total === 0) return;
    this.calledAs = called;
    for (const callerPod of callers) {
      const client = this.party(callerPod, from);
      const perClient = total / callers.length;
      const proxy = client.proxy;
      const sidecar = proxy?.kind === 'istio' && proxy.snapshot !== undefined;
      // Pass 1: each class's route (the client's sidecar decides; without one the request goes where it was sent).
      // A host the client's Sidecar resource leaves out: the BlackHoleCluster or the passthrough (egress.ts).
      const scope = sidecar ? this.egressScopeOf(proxy.snapshot!, proxy.namespace, proxy.labels, called) : 'known';
      const routed = inbound.classes.map((cls) => {
        // Plain TCP: no HTTP route applies; the proxies still do mTLS and authorization.
        if (this.opaqueTo(mesh, called, cls.request.port)) return { cls, decision: { kind: 'forward', destinations: [{ ref: called.ref, weight: 1, policy: {} }], request: { ...cls.request, opaque: true } } as RouteDecision };
        // A Linkerd client routes by the HTTPRoutes attached to the Service it calls (routing-linkerd.ts).
        if (proxy?.kind === 'linkerd' && proxy.snapshot) {
          const routed = linkerdOutboundRoute(proxy.snapshot.httpRoutes, called, cls.request, (ref) => this.services.has(ref));
          if (routed) return { cls, decision: routed };
        }
        if (scope === 'blackhole') return { cls, decision: { kind: 'respond', code: 502, flags: '-', by: 'BlackHoleCluster (Sidecar egress, REGISTRY_ONLY)' } as RouteDecision };
        if (scope === 'passthrough') return { cls, decision: { kind: 'forward', destinations: [{ ref: called.ref, weight: 1, policy: { tlsMode: 'DISABLE' } }], request: cls.request, by: 'PassthroughCluster' } as RouteDecision };
        if (!sidecar) return { cls, decision: { kind: 'forward', destinations: [{ ref: called.ref, weight: 1, policy: {} }], request: cls.request } as RouteDecision };
        const { decision, notModelled } = cachedRoute(proxy.snapshot, client, `${called.ref}|${cls.id}`, (nm) => resolveRoute(proxy.snapshot, called, client, cls.request, this.directory, nm));
        for (const note of notModelled) this.notModelled.add(note);
        return { cls, decision };
      });
      // Pass 2: the rate this client sends to each destination, which its circuit breakers see.
      const rateTo = new Map<string, number>();
      for (const { cls, decision } of routed) if (decision.kind === 'forward') for (const d of decision.destinations) rateTo.set(d.ref, (rateTo.get(d.ref) ?? 0) + (perClient * cls.share * d.weight * 1000) / this.tickMs);
      // Pass 3: outcomes per class, destination and endpoint.
      for (const { cls, decision } of routed) {
        const nClass = perClient * cls.share;
        if (decision.kind === 'respond') {
          this.record(mesh, client, called, undefined, { result: 'ok', mtls: false, reachedServer: false, code: decision.code }, nClass, 0, now, decision.flags);
          continue;
        }
        const requestId = decision.request === cls.request ? cls.id : `${cls.id}>${decision.request.host}${decision.request.path}`;
        for (const dest of decision.destinations) {
          const server = this.services.get(dest.ref);
          const n = nClass * dest.weight;
          if (!server) continue;
          const serverPods = this.podsByUid(pods, dest.ref);
          // Without a sidecar, kube-proxy picks among this cluster's endpoints only; istiod's list spans the fleet.
          const all = this.twin.currentSnapshot().endpoints.get(dest.ref) ?? [];
          const current = this.fleet ? all.filter((uid) => serverPods.has(uid)) : all;
          const knows = proxy && proxy.kind !== 'ambient' && proxy.snapshot ? (proxy.snapshot.endpoints.get(dest.ref) ?? []) : current;
          const inSubset = dest.subsetLabels ? knows.filter((uid) => { const pod = this.locate(serverPods, dest.ref, uid)?.pod; return pod !== undefined && Object.entries(dest.subsetLabels!).every(([k, v]) => pod.metadata.labels?.[k] === v); }) : knows;
          const discoveryLost = mesh === 'linkerd' && proxy?.kind === 'linkerd' && !this.twin.configReachable(proxy) && perClient / (this.tickMs / 1000) < 1000 / LINKERD_DISCOVERY_IDLE_MS;
          if (inSubset.length === 0 || discoveryLost) {
            // No healthy upstream (Envoy 503 UH) or a dropped discovery entry.
            this.record(mesh, client, server, undefined, { result: 'connect-failure', mtls: false, reachedServer: false, code: proxy ? 503 : 0 }, n, 0, now, proxy ? 'UH' : '-');
            continue;
          }
          // An endpoint is a pod of this cluster or, in a fleet, of another one (Istio multi-primary).
          const located = inSubset.map((uid) => this.locate(serverPods, dest.ref, uid));
          const targets = located.map((at) => at && at.home.party(at.pod, dest.ref));
          located.forEach((at, i) => at && at.home !== this && this.homes.set(targets[i]!, at.home));
          // A pod whose node has stopped is still an endpoint until the API notices: it answers nothing.
          const dead = located.map((at) => at !== undefined && at.home.twin.onStoppedNode(at.pod));
          // Envoy's circuit breakers: requests beyond the connection pool overflow at the client (503 UO).
          if (sidecar) this.declareOverflow(client, server);
          const overflow = sidecar ? this.poolOverflow(client, server, dest.policy, rateTo.get(dest.ref) ?? 0) : 0;
          const sent = n * (1 - overflow);
          if (overflow > 0) this.record(mesh, client, server, undefined, { result: 'ok', mtls: false, reachedServer: false, code: 503 }, n * overflow, 0, now, 'UO');
          // With outlierDetection, Envoy prioritises endpoints by locality (istio.io locality failover):
          // the twin still spreads over every cluster's endpoints, and says so.
          if (sidecar && dest.policy.outlierDetection && located.some((at) => at && at.home !== this)) this.notModelled.add(`locality load balancing for ${dest.ref}: a DestinationRule with outlierDetection makes Istio prefer endpoints in the caller's own region; the twin spreads requests over every cluster's endpoints`);
          const shares = sidecar && dest.policy.outlierDetection ? this.outlierShares(client, server, targets, dest.policy, (rateTo.get(dest.ref) ?? 0) / targets.length) : targets.map(() => 1 / targets.length);
          const serve = (i: number, count: number, waitedMs = 0) => {
            const target = targets[i];
            // A NetworkPolicy that keeps the caller out: the connection never opens (Envoy 503 UF).
            // Another cluster's policies see only addresses from outside it: not modelled across clusters.
            const home = target ? this.homes.get(target) : undefined;
            const blocked = target !== undefined && !home && !this.connects(client, target, server.port);
            if (target && home?.twin.hasNetworkPolicies(target.namespace)) this.notModelled.add(`NetworkPolicy in ${target.namespace} of cluster ${home.fleet?.name ?? '?'}: not applied to callers in other clusters (their addresses match only ipBlock rules there); the twin lets them in`);
            const decided: Decision = target && !blocked ? this.decided(mesh, client, target, now, decision.request, requestId, sidecar ? dest.policy.tlsMode : undefined) : { result: 'connect-failure', mtls: false, reachedServer: false, code: proxy ? 503 : 0 };
            const decisionFor: Decision = decision.request.opaque ? { ...decided, opaque: true } : decided;
            if (decisionFor.notModelled) for (const note of decisionFor.notModelled) this.notModelled.add(note);
            const ok = this.outcome(mesh, client, server, target, decisionFor, count, decision, now, waitedMs);
            const sink = home?.current?.served ?? served;
            sink.set(dest.ref, (sink.get(dest.ref) ?? 0) + ok);
          };
          const deadShare = dead.reduce((sum, d, i) => sum + (d ? shares[i]! : 0), 0);
          const live = dead.map((d, i) => (d ? 0 : shares[i]!));
          const liveShare = 1 - deadShare;
          targets.forEach((_, i) => {
            if (!dead[i]) serve(i, sent * shares[i]!);
          });
          if (deadShare > 0) this.toStoppedPods(mesh, client, server, decision, sent * deadShare, deadShare, liveShare > 0 ? (count, waitedMs) => live.forEach((share, i) => share > 0 && serve(i, (count * share) / liveShare, waitedMs)) : undefined, now);
        }
        if (decision.mirror && sidecar) this.mirrorTo(client, decision.mirror, nClass);
      }
    }
    this.calledAs = undefined;
  }

  /**
   * Requests to a host outside the mesh, as the caller's proxy lets them out (egress.ts): Istio
   * sends a host no ServiceEntry registers to the passthrough (ALLOW_ANY) or the BlackHoleCluster
   * (REGISTRY_ONLY, 502), and a registered one only where the caller's Sidecar lists it; Linkerd's
   * EgressNetwork with trafficPolicy Deny answers 403 unless a route names the host. The outside
   * host always answers when reached. Counted as the caller saw it, and by the caller's proxy.
   */
  private externalCall(mesh: 'istio' | 'linkerd', from: ServiceInfo, ext: ServiceInfo['external'][number], rps: number, pods: Map<string, KubeObject[]>, now: number): void {
    const callers = (pods.get(from.ref) ?? []).filter(isPodReady);
    if (callers.length === 0) return;
    const n = (rps * this.tickMs) / 1000 / callers.length;
    const m = this.twin.metrics;
    for (const pod of callers) {
      const client = this.party(pod, from.ref);
      const proxy = client.proxy;
      let code = 200;
      let cluster = `outbound|${ext.port}||${ext.host}`;
      if (proxy?.kind === 'istio' && proxy.snapshot) {
        const snapshot = proxy.snapshot;
        const entry = serviceEntryFor(snapshot.serviceEntries, ext.host, ext.port, client.namespace);
        const scope = hostScope(sidecarFor(snapshot.sidecars, client.namespace, proxy.labels), snapshot.outboundMode, { fqdn: ext.host, namespace: entry?.metadata.namespace ?? client.namespace }, entry !== undefined);
        if (scope === 'blackhole') ((code = 502), (cluster = 'BlackHoleCluster'));
        else if (scope === 'passthrough') cluster = 'PassthroughCluster';
      } else if (proxy?.kind === 'linkerd' && proxy.snapshot) {
        if (!linkerdEgressAllows(proxy.snapshot.egressNetworks, proxy.snapshot.httpRoutes, ext.host, client.namespace).allowed) code = 403;
      }
      const outcome = code === 200 ? 'success' : 'http-error';
      this.count(m, 'meshdrill_client_requests_total', { source_workload: client.workload, source_namespace: client.namespace, destination_service: ext.host, destination_namespace: 'external', outcome, code: String(code) }, n);
      if (proxy?.kind === 'istio' && proxy.snapshot) {
        const name = cluster === 'BlackHoleCluster' || cluster === 'PassthroughCluster' ? cluster : ext.host;
        this.count(m, 'istio_requests_total', { reporter: 'source', source_workload: client.workload, source_workload_namespace: client.namespace, destination_service: name, destination_service_name: name, destination_service_namespace: 'unknown', destination_workload: 'unknown', destination_workload_namespace: 'unknown', request_protocol: 'http', response_code: String(code), connection_security_policy: 'unknown', response_flags: '-', source_principal: `spiffe://${istioPrincipal(proxy.snapshot.trustDomain, client.namespace, client.serviceAccount)}` }, n);
      }
      void now;
    }
  }

  private readonly opaqueMemo = new StoreMemo(() => new Map<string, boolean>());

  /** Whether requests to this service's port go as plain TCP (opaque.ts), remembered while the store does not change. */
  private opaqueTo(mesh: 'istio' | 'linkerd', server: ServiceInfo, port: number): boolean {
    if (server.protocol === 'tcp') return true;
    void mesh;
    const answers = this.opaqueMemo.at(this.twin.revision);
    const key = `${server.ref}|${port}`;
    let opaque = answers.get(key);
    if (opaque === undefined) {
      opaque = this.twin.opaquePort(server.namespace, server.name, port);
      answers.set(key, opaque);
    }
    return opaque;
  }

  private readonly overflowDeclared = new WeakMap<object, Set<ServiceInfo>>();

  /** Envoy's cluster stats exist at zero from a client's first request to the cluster, as its retry counter does. */
  private declareOverflow(client: Party, server: ServiceInfo): void {
    // Declaring twice changes nothing: remembered per proxy, so the common case is two lookups.
    const declared = entry(this.overflowDeclared, client.proxy ?? client, () => new Set<ServiceInfo>());
    if (declared.has(server)) return;
    declared.add(server);
    this.twin.metrics.declare('envoy_cluster_upstream_rq_pending_overflow', { namespace: client.namespace, pod: client.proxy?.pod ?? '', cluster_name: `outbound|${server.port}||${server.name}.${server.namespace}.svc.cluster.local` });
  }

  private readonly egressMemo = new WeakMap<ConfigSnapshot, Map<string, EgressScope>>();

  private egressScopeOf(snapshot: ConfigSnapshot, namespace: string, labels: Record<string, string>, called: ServiceInfo): EgressScope {
    if (snapshot.sidecars.length === 0) return 'known';
    let memo = this.egressMemo.get(snapshot);
    if (!memo) this.egressMemo.set(snapshot, (memo = new Map()));
    const key = `${namespace}|${Object.entries(labels).sort().join(',')}|${called.ref}`;
    let scope = memo.get(key);
    if (scope === undefined) {
      scope = egressScope(sidecarFor(snapshot.sidecars, namespace, labels), snapshot.outboundMode, called);
      memo.set(key, scope);
    }
    return scope;
  }

  private podsByUid(pods: Map<string, KubeObject[]>, ref: string): Map<string, KubeObject> {
    let byUid = this.uidIndex.get(pods)?.get(ref);
    if (!byUid) {
      let perTick = this.uidIndex.get(pods);
      if (!perTick) this.uidIndex.set(pods, (perTick = new Map()));
      byUid = new Map((pods.get(ref) ?? []).map((p) => [p.metadata.uid ?? '', p]));
      perTick.set(ref, byUid);
    }
    return byUid;
  }

  private readonly uidIndex = new WeakMap<Map<string, KubeObject[]>, Map<string, Map<string, KubeObject>>>();

  /**
   * The share of a client's requests to a cluster that Envoy's circuit breakers refuse, as an
   * M/M/c/K queue: c connections (connectionPool.tcp.maxConnections), K = c + pending requests
   * (http.http1MaxPendingRequests) for HTTP/1.1, or c = http2MaxRequests and no queue for HTTP/2;
   * the offered load is the client's rate times the upstream's mean latency (Little's law). Envoy
   * counts the refusals in upstream_rq_pending_overflow (Envoy circuit breaking docs; Istio's
   * circuit-breaking task). Istio's defaults are unlimited.
   */
  private poolOverflow(client: Party, server: ServiceInfo, policy: TrafficPolicy, rps: number): number {
    const pool = policy.connectionPool;
    if (!pool || rps <= 0) return 0;
    const http2 = server.protocol === 'grpc';
    const c = http2 ? pool.http2MaxRequests : pool.maxConnections;
    if (c === undefined && (http2 || pool.http1MaxPendingRequests === undefined)) return 0;
    const servers = Math.max(1, c ?? 1_000_000);
    const queue = http2 ? 0 : Math.max(0, pool.http1MaxPendingRequests ?? 1_000_000);
    const load = (rps * (Math.exp(server.mu + (server.sigma * server.sigma) / 2) + 2 * HOP_MS.istio)) / 1000;
    const share = blocking(load, servers, servers + queue);
    if (share > 0) this.count(this.twin.metrics, 'envoy_cluster_upstream_rq_pending_overflow', { namespace: client.namespace, pod: client.proxy?.pod ?? '', cluster_name: `outbound|${server.port}||${server.name}.${server.namespace}.svc.cluster.local` }, (share * rps * this.tickMs) / 1000);
    return share;
  }

  /**
   * How a client spreads requests over endpoints when outlier detection ejects some: a host whose
   * tries fail `consecutive5xxErrors` times in a row is ejected for baseEjectionTime; the expected
   * share of time each host is ejected follows from its error rate and the requests it gets per
   * interval, capped at maxEjectionPercent of the hosts (at least one, as Envoy does) and off below
   * minHealthPercent. The expected hosts ejected go to envoy_cluster_outlier_detection_ejections_active.
   */
  private outlierShares(client: Party, server: ServiceInfo, targets: Array<Party | undefined>, policy: TrafficPolicy, perHostRps: number): number[] {
    const od = policy.outlierDetection!;
    const k = od.consecutive5xxErrors;
    const m = (perHostRps * od.intervalMs) / 1000;
    const ejected = targets.map((t) => {
      const e = this.errorRateOf(server, t);
      if (k <= 0 || e <= 0) return 0;
      const runs = m * (1 - e) * e ** k + e ** k;
      const p = 1 - Math.exp(-runs);
      return (p * od.baseEjectionTimeMs) / (p * od.baseEjectionTimeMs + od.intervalMs);
    });
    const cap = Math.max(1, Math.floor((targets.length * od.maxEjectionPercent) / 100));
    const sum = ejected.reduce((a, b) => a + b, 0);
    const scale = sum > cap ? cap / sum : 1;
    const healthy = targets.length - sum * scale;
    const effective = (healthy / targets.length) * 100 < od.minHealthPercent ? ejected.map(() => 0) : ejected.map((f) => f * scale);
    this.setGauge(this.twin.metrics, 'envoy_cluster_outlier_detection_ejections_active', { namespace: client.namespace, pod: client.proxy?.pod ?? '', cluster_name: `outbound|${server.port}||${server.name}.${server.namespace}.svc.cluster.local` }, effective.reduce((a, b) => a + b, 0));
    const weights = effective.map((f) => 1 - f);
    const total = weights.reduce((a, b) => a + b, 0) || 1;
    return weights.map((w) => w / total);
  }

  /** A pod's own failure rate: its `meshdrill.dev/error-rate` annotation (a degraded pod), else its service's. */
  private errorRateOf(server: ServiceInfo, target: Party | undefined): number {
    const own = target?.errorRate;
    return own ?? server.errorRate;
  }

  /** Mirrored requests reach the mirror's proxy; nobody waits for their answers. */
  private mirrorTo(client: Party, mirror: { ref: string; share: number }, n: number): void {
    const server = this.services.get(mirror.ref);
    if (!server || n * mirror.share <= 0) return;
    this.count(this.twin.metrics, 'istio_requests_total', { reporter: 'destination', source_workload: client.workload, source_workload_namespace: client.namespace, destination_service: `${server.name}.${server.namespace}.svc.cluster.local`, destination_service_name: server.name, destination_service_namespace: server.namespace, destination_workload: server.name, destination_workload_namespace: server.namespace, request_protocol: 'http', response_code: '200', connection_security_policy: 'mutual_tls', response_flags: '-', source_principal: `spiffe://${istioPrincipal(client.proxy?.snapshot?.trustDomain ?? DEFAULT_TRUST_DOMAIN, client.namespace, client.serviceAccount)}` }, n * mirror.share);
  }

  /** Applies faults, app errors and retries to `n` requests with one decision; records them; returns successes. */
  private outcome(mesh: 'istio' | 'linkerd', client: Party, server: ServiceInfo, target: Party | undefined, decision: Decision, n: number, route: Extract<RouteDecision, { kind: 'forward' }>, now: number, waitedMs = 0): number {
    const proxied = client.proxy?.kind === 'istio' && client.proxy.snapshot !== undefined;
    const fault = proxied ? route.fault : undefined;
    const abortShare = (fault?.abortPercent ?? 0) / 100;
    const delayShare = (fault?.delayPercent ?? 0) / 100;
    // Faults apply at the client's proxy, before the request leaves it (mesh-facts §1.9).
    if (abortShare > 0) this.record(mesh, client, server, target, { result: 'ok', mtls: decision.mtls, reachedServer: false, code: fault!.abortStatus }, n * abortShare, 0, now, 'FI');
    const offered = n * (1 - abortShare);
    if (offered === 0) return 0;
    // HTTP retries need HTTP; plain TCP is not retried.
    const retries = proxied && !decision.opaque ? (route.retries?.attempts ?? ISTIO_DEFAULT_RETRIES) : 0;
    if (decision.result !== 'ok') {
      const retryable = decision.result === 'connect-failure' || decision.result === 'tls-failure' || decision.result === 'reset';
      const attempts = retryable ? retries : 0;
      if (attempts > 0) this.countRetries('istio', client, server, offered * attempts);
      if (decision.result === 'tls-failure') this.handshakesFailed(target, decision, offered * (1 + attempts));
      this.record(mesh, client, server, target, decision, offered, 0, now);
      return 0;
    }
    // A proxy short of CPU cannot keep up: what exceeds its capacity times out at the caller (proxy-load.ts).
    const shed = 1 - (1 - this.load.shed(client.proxy)) * (1 - (decision.reachedServer ? this.load.shed(target?.proxy) : 0));
    if (shed > 0) this.record(mesh, client, server, target, { ...decision, code: 503 }, offered * shed, 0, now, 'UF');
    const sent = offered * (1 - shed);
    if (sent === 0) return 0;
    // The application's own failures (500); Istio retries 5xx only when the route's retryOn asks
    // for it, Linkerd when the Service's retry.linkerd.io/http lists the status.
    const retry5xx = proxied && route.retries !== undefined && route.retries.retryOn.some((r) => r === '5xx' || r === 'gateway-error');
    // Two hops, the regions' round trip when the server is in another cluster, and any connect timeouts first.
    const home = target ? this.homes.get(target) : undefined;
    const extra = this.hopMs(client.proxy) + (home ?? this).hopMs(target?.proxy) + (home ? this.fleet!.crossClusterMs : 0) + waitedMs;
    const perTry = proxied ? route.retries?.perTryTimeoutMs : undefined;
    const errorRate = this.errorRateOf(server, target);
    if (perTry !== undefined && perTry > 0) return this.withPerTryTimeout(mesh, client, server, target, decision, sent, extra, perTry, retry5xx ? retries : 0, delayShare > 0 ? fault!.delayMs : 0, delayShare, now, errorRate);
    const linkerdRetry = client.proxy?.kind === 'linkerd' && !decision.opaque ? client.proxy.snapshot?.linkerdRetries.get(server.ref) : undefined;
    const linkerdRetries = linkerdRetry?.retries(500) ? linkerdRetry.limit : 0;
    const retriesOf5xx = retry5xx ? retries : linkerdRetries;
    const failAll = errorRate ** (retriesOf5xx + 1);
    const retried = expectedRetries(sent, errorRate, retriesOf5xx);
    if (proxied) this.countRetries('istio', client, server, retried);
    else if (linkerdRetry) this.countRetries('linkerd', client, server, retried);
    const failed = sent * failAll;
    let ok = sent - failed;
    if (failed > 0) this.record(mesh, client, server, target, { ...decision, code: 500 }, failed, extra, now);
    const timeout = proxied ? route.timeoutMs : undefined;
    if (timeout !== undefined && timeout > 0) {
      // The route's timeout ends the slow requests with 504 UT at the timeout (HTTPRoute.timeout;
      // Envoy route timeout, response flag UT); the rest arrive within it.
      // A delay fault on the same route does not count: Envoy's fault filter holds the request
      // before the router sees it, and the router's timeout starts then (istio/istio#6860: the
      // observed timeout was the route's plus fixedDelay; #13313: a 10 s delay under a 5 s
      // timeout did not time out). So the delayed requests wait the delay, then the usual odds.
      const within = (bound: number) => (bound <= 0 ? 0 : (this.buckets(server, [bound], extra, 1)[0][0] ?? 1));
      const late = ok * (1 - within(timeout));
      const delay = delayShare > 0 ? fault!.delayMs : 0;
      if (late > 0) {
        this.record(mesh, client, server, target, { ...decision, code: 504 }, late * (1 - delayShare), timeout, now, 'UT');
        if (delayShare > 0) this.record(mesh, client, server, target, { ...decision, code: 504 }, late * delayShare, timeout + delay, now, 'UT');
      }
      ok -= late;
      if (delayShare > 0) this.record(mesh, client, server, target, decision, ok * delayShare, extra + delay, now, '-', timeout + delay);
      this.record(mesh, client, server, target, decision, ok * (1 - delayShare), extra, now, '-', timeout);
      return ok;
    }
    if (delayShare > 0) this.record(mesh, client, server, target, decision, ok * delayShare, extra + fault!.delayMs, now);
    this.record(mesh, client, server, target, decision, ok * (1 - delayShare), extra, now);
    return ok;
  }

  /**
   * Whether the caller's pod may connect to the server's under the NetworkPolicies. The load from
   * outside is k6 in its own namespace on a real cluster (cluster-traffic.ts): a pod there.
   */
  private connects(client: Party, target: Party, port: number): boolean {
    const from = client === OUTSIDE ? LOAD_GENERATOR : { namespace: client.namespace, labels: client.labels };
    return this.twin.podsConnect(from, { namespace: target.namespace, labels: target.labels }, port);
  }

  /** What a proxy adds to a request: its hop, and the queueing of a proxy short of CPU. */
  private hopMs(proxy: Proxy | undefined): number {
    return proxy ? HOP_MS[proxy.kind] + this.load.delayMs(proxy) : 0;
  }

  /**
   * Failed mTLS handshakes, counted where the SLI reads them: Envoy's inbound listener of the
   * server (connection_error when the client refused the server's certificate, fail_verify_error
   * when the server refused the client's; envoyproxy.io listener SSL statistics), or Linkerd's
   * inbound connection errors (error="i/o": rustls fails the connection as an I/O error).
   */
  private handshakesFailed(target: Party | undefined, decision: Decision, handshakes: number): void {
    const s = target?.proxy;
    const there = (target && this.homes.get(target)) ?? this;
    if (!s || handshakes <= 0 || !there.twin.scrapable(s)) return;
    const labels = { namespace: s.namespace, pod: s.pod };
    if (s.kind === 'istio' && !s.gateway) this.count(there.twin.metrics, decision.refusedBy === 'server' ? 'envoy_listener_ssl_fail_verify_error' : 'envoy_listener_ssl_connection_error', { ...labels, listener_address: INBOUND_LISTENER }, handshakes);
    else if (s.kind === 'linkerd') this.count(there.twin.metrics, 'inbound_tcp_errors_total', { ...labels, error: 'i/o' }, handshakes);
  }

  /**
   * A route with a per-try timeout (VirtualService retries.perTryTimeout): a try slower than it is
   * cut off and, when retryOn covers it (5xx, gateway-error), retried like a 5xx; a request whose
   * every try failed gets 504 when the last one timed out. Successful tries are the fast ones, so
   * their latency is cut at the timeout, and a success after k timeouts waited k timeouts first
   * (istio/api networking/v1alpha3 HTTPRetry; Envoy router per_try_timeout). The retries, the
   * load a tight timeout adds, show in envoy_cluster_upstream_rq_retry (retries-per-request).
   */
  private withPerTryTimeout(mesh: 'istio' | 'linkerd', client: Party, server: ServiceInfo, target: Party | undefined, decision: Decision, sent: number, extra: number, perTry: number, attempts: number, delayMs: number, delayShare: number, now: number, errorRate: number): number {
    // A delay fault holds a share of the requests once, before the router's first try starts
    // (the fault filter runs ahead of the router), so it lengthens those requests but does not
    // count against the per-try timeout.
    const fast = (bound: number) => (bound <= 0 ? 0 : (this.buckets(server, [bound], extra, 1)[0][0] ?? 1));
    const timeout = 1 - fast(perTry);
    const held = delayShare * delayMs;
    const e = errorRate;
    const failTry = e + (1 - e) * timeout;
    const allFail = failTry ** (attempts + 1);
    this.countRetries('istio', client, server, expectedRetries(sent, failTry, attempts));
    const failed = sent * allFail;
    const timedOutShare = failTry > 0 ? ((1 - e) * timeout) / failTry : 0;
    if (failed > 0) {
      this.record(mesh, client, server, target, { ...decision, code: 500 }, failed * (1 - timedOutShare), extra + held, now);
      this.record(mesh, client, server, target, { ...decision, code: 504 }, failed * timedOutShare, perTry * (attempts + 1) + held, now, 'UT');
    }
    const firstTry = sent * (1 - failTry);
    const later = sent - failed - firstTry;
    // The delay is spread as its mean over the requests (a share held delayMs each).
    this.record(mesh, client, server, target, decision, firstTry, extra + held, now, '-', perTry + held);
    if (later > 0) this.record(mesh, client, server, target, decision, later, extra + perTry + held, now, '-', perTry * 2 + held);
    return sent - failed;
  }

  /**
   * Counts a client proxy's retries towards a service. Envoy has an upstream_rq_retry counter per
   * outbound cluster (kept when proxyStatsMatcher asks), Linkerd one per route with a retry
   * policy; both exist at zero from the proxy's first request, before any retry.
   */
  private countRetries(mesh: 'istio' | 'linkerd', client: Party, server: ServiceInfo, retried: number): void {
    if (retried <= 0 && !this.firstRetryCount(client, server)) return;
    const [counter, labels]: [string, Labels] =
      mesh === 'istio'
        ? ['envoy_cluster_upstream_rq_retry', { namespace: client.namespace, pod: client.proxy?.pod ?? '', cluster_name: `outbound|8080||${server.name}.${server.namespace}.svc.cluster.local` }]
        : ['outbound_http_route_retry_requests_total', { namespace: client.namespace, deployment: client.workload, pod: client.proxy?.pod ?? '', parent_kind: 'Service', parent_namespace: server.namespace, parent_name: server.name }];
    if (retried > 0) this.count(this.twin.metrics, counter, labels, retried);
    else this.twin.metrics.declare(counter, labels);
  }

  /** True the first time a client pod's proxy sends to a service. */
  private firstRetryCount(client: Party, server: ServiceInfo): boolean {
    if (!client.proxy) return false;
    let known = this.retryCounters.get(client.proxy);
    if (!known) {
      known = new Set();
      this.retryCounters.set(client.proxy, known);
    }
    if (known.has(server.ref)) return false;
    known.add(server.ref);
    return true;
  }

  /**
   * Buffers `n` requests with one outcome; a tick's requests are summed per distinct (caller
   * workload, server, outcome) before they reach the metric store, since pods of a workload share
   * their labels.
   */
  private record(mesh: 'istio' | 'linkerd', client: Party, server: ServiceInfo, target: Party | undefined, d: Decision, n: number, extraMs: number, _now: number, flags = '-', capMs = 0): void {
    if (n <= 0) return;
    const c = client.proxy;
    const s = target?.proxy;
    // A server in another cluster: its proxy's load and series are that cluster's.
    const home = target ? this.homes.get(target) : undefined;
    const there = home ?? this;
    // A repeated tick adds no load: the same requests cost what they cost (ProxyLoad.repeatTick).
    this.load.add(c, n);
    if (d.reachedServer) there.load.add(s, n);
    const called = this.calledAs && this.calledAs !== server ? this.calledAs : undefined;
    // A proxy Prometheus cannot scrape reports nothing: its series stop where they were.
    const seen: Seen = { client: !c || this.twin.scrapable(c), server: !s || there.twin.scrapable(s) };
    // The same outcome from any pod of a workload adds up: the keys name workloads, not pods.
    const who = this.pairKey(client, called, server, target);
    const what = `${c?.snapshot ? 1 : 0}${d.result}|${d.mtls ? 1 : 0}${d.reachedServer ? 1 : 0}|${d.code}|${d.opaque ? 'tcp' : ''}|${flags}|${extraMs}|${capMs}|${seen.client ? 1 : 0}${seen.server ? 1 : 0}|${home?.fleet?.name ?? ''}`;
    const pending = entry(entry(this.outcomes, who, () => new Map<string, PendingOutcome>()), what, () => ({ mesh, client, server, target, d, n: 0, extraMs, flags, capMs, seen, ...(called ? { called } : {}), ...(home ? { home } : {}) }));
    if (pending.n === 0) this.touched.push(pending);
    pending.n += n;
  }

  /** Who called what, as an outcome's first key: worked out once per pair of parties and services. */
  private pairKey(client: Party, called: ServiceInfo | undefined, server: ServiceInfo, target: Party | undefined): string {
    const byTarget = entry(entry(entry(this.pairKeys, client, () => new Map()), server, () => new Map()), called ?? NO_SERVICE, () => new Map<Party, string>());
    return entry(byTarget, target ?? NO_PARTY, () => {
      // A party's proxy never changes (a pod whose proxy does is a new party).
      const caller = `${client.namespace}|${client.workload}|${client.serviceAccount}|${client.proxy?.kind ?? '-'}|`;
      const callee = target ? `${target.workload}|${target.proxy?.kind ?? '-'}${target.proxy?.gateway ? '+gateway' : ''}` : '-|-';
      return `${caller}${called ? `${called.ref}>` : ''}${server.ref}|${callee}`;
    });
  }

  private readonly pairKeys = new WeakMap<Party, Map<ServiceInfo, Map<ServiceInfo, Map<Party, string>>>>();

  /**
   * decide(), remembered per pair of parties, request and client TLS mode while nothing it reads
   * has moved: either proxy's config, certificate, trusted roots and start, and the time until the
   * first of the certificates it found valid expires (an expired one stays expired). A party's
   * own fields (address, labels, account, ports) never change: a pod that changes is a new party.
   */
  private decided(mesh: 'istio' | 'linkerd', client: Party, target: Party, now: number, request: RequestAttributes, requestId: string, tls: ClientTlsMode | undefined): Decision {
    const byRequest = entry(entry(this.decisions, client, () => new WeakMap()), target, () => new Map<string, RememberedDecision>());
    const key = tls === undefined ? requestId : `${requestId}|${tls}`;
    const c = client.proxy;
    const s = target.proxy;
    const known = byRequest.get(key);
    if (known && known.mesh === mesh && known.request === request && now < known.until && sameProxyState(known.c, c) && sameProxyState(known.s, s)) {
      this.effects?.holdsUntil(known.until);
      return known.decision;
    }
    const decision = decide(mesh, client, target, now, request, requestId, tls);
    const until = Math.min(validUntil(c, now), validUntil(s, now));
    byRequest.set(key, { decision, mesh, request, until, c: proxyState(c), s: proxyState(s) });
    this.effects?.holdsUntil(until);
    return decision;
  }

  private readonly decisions = new WeakMap<Party, WeakMap<Party, Map<string, RememberedDecision>>>();


  /** The tick's outcomes reach the metric store; with `adds`, what they added is kept (a tick to repeat). */
  private flush(adds?: SlotAdds): void {
    for (const p of this.touched) {
      let apply = p.apply;
      if (!apply) {
        if (p.home) {
          // The caller's side here; the server's side in the server's cluster, where its Prometheus scrapes it.
          const home = p.home;
          const here = this.twin.metrics.prepare((sink) => this.emit(sink, p.mesh, p.client, p.server, p.target, p.d, 1, p.extraMs, p.flags, p.capMs, p.called, { ...p.seen, server: false }, home));
          const there = home.twin.metrics.prepare((sink) => this.emit(sink, p.mesh, p.client, p.server, p.target, p.d, 1, p.extraMs, p.flags, p.capMs, p.called, { client: false, server: p.seen.server, caller: false }, home));
          // Only this store's additions are kept (a fleet's ticks are not repeated in any case).
          apply = (n: number, adds?: SlotAdds) => {
            here(n, adds);
            there(n);
          };
        } else {
          apply = this.twin.metrics.prepare((sink) => this.emit(sink, p.mesh, p.client, p.server, p.target, p.d, 1, p.extraMs, p.flags, p.capMs, p.called, p.seen));
        }
        p.apply = apply;
      }
      apply(p.n, adds);
      p.n = 0;
    }
    this.touched.length = 0;
  }

  private emit(m: MetricSink, mesh: 'istio' | 'linkerd', client: Party, server: ServiceInfo, target: Party | undefined, d: Decision, n: number, extraMs: number, flags: string, capMs = 0, calledAs?: ServiceInfo, seen: Seen = { client: true, server: true }, home?: TrafficModel): void {
    const outcome = d.code === 0 ? 'connection-error' : d.code >= 500 || d.code === 403 || d.code >= 400 ? 'http-error' : 'success';
    // The caller's view is of the service it called, wherever a route sent the request.
    const called = calledAs ?? server;
    const caller = seen.caller !== false;
    if (caller) m.inc('meshdrill_client_requests_total', { source_workload: client.workload, source_namespace: client.namespace, destination_service: called.name, destination_namespace: called.namespace, outcome, code: String(d.code) }, n);
    const latency = (bounds: number[]) => this.buckets(server, bounds, extraMs, n, capMs);
    // In a fleet, Istio's standard metrics say which cluster each side is in (source_cluster, destination_cluster).
    const clusters: Labels = this.fleet ? { source_cluster: this.fleet.name, destination_cluster: home?.fleet?.name ?? (target ? this.fleet.name : 'unknown') } : {};
    if (caller && d.code !== 0) {
      // The caller's own view of latency: the load generator's (as k6 measures it) or an
      // application's client library's — there before any proxy is, so unmeshed baselines have it.
      const [perBucket, sum] = latency(ISTIO_BUCKETS);
      m.observe('meshdrill_client_request_duration_milliseconds', { source_workload: client.workload, source_namespace: client.namespace, destination_service: called.name, destination_namespace: called.namespace }, ISTIO_BUCKETS, perBucket, sum, n);
    }
    // The proxies' own telemetry, for those Prometheus can scrape.
    const c = seen.client ? client.proxy : undefined;
    const s = seen.server ? target?.proxy : undefined;
    if (d.opaque) {
      this.emitTcp(m, mesh, client, server, target, d, n, seen);
      return;
    }
    if (mesh === 'istio') {
      const base = { destination_service: `${server.name}.${server.namespace}.svc.cluster.local`, destination_service_name: server.name, destination_service_namespace: server.namespace, destination_workload: target?.workload ?? 'unknown', destination_workload_namespace: server.namespace, request_protocol: 'http', response_code: String(d.code) };
      const source = c && c.kind !== 'ambient' ? { source_workload: client.workload, source_workload_namespace: client.namespace, source_principal: `spiffe://${istioPrincipal(c.snapshot?.trustDomain ?? DEFAULT_TRUST_DOMAIN, client.namespace, client.serviceAccount)}` } : { source_workload: 'unknown', source_workload_namespace: 'unknown', source_principal: 'unknown' };
      if (c?.kind === 'istio' && c.snapshot) {
        const labels: Labels = { reporter: 'source', ...source, ...base, connection_security_policy: 'unknown', response_flags: d.result === 'ok' || flags !== '-' ? flags : 'UF', ...clusters };
        m.inc('istio_requests_total', labels, n);
        const [perBucket, sum] = latency(ISTIO_BUCKETS);
        m.observe('istio_request_duration_milliseconds', labels, ISTIO_BUCKETS, perBucket, sum, n);
      }
      // A gateway has no inbound sidecar: it reports what it sends on (reporter=source), not what it takes in.
      if (s?.kind === 'istio' && d.reachedServer && !s.gateway) {
        const peer = d.mtls ? { source_workload: client.workload, source_workload_namespace: client.namespace, source_principal: `spiffe://${istioPrincipal(s.snapshot?.trustDomain ?? DEFAULT_TRUST_DOMAIN, client.namespace, client.serviceAccount)}` } : { source_workload: 'unknown', source_workload_namespace: 'unknown', source_principal: 'unknown' };
        const labels: Labels = { reporter: 'destination', ...peer, ...base, connection_security_policy: d.mtls ? 'mutual_tls' : 'none', response_flags: '-', ...clusters };
        m.inc('istio_requests_total', labels, n);
        const [perBucket, sum] = latency(ISTIO_BUCKETS);
        m.observe('istio_request_duration_milliseconds', labels, ISTIO_BUCKETS, perBucket, sum, n);
      }
      // Ambient without a waypoint: ztunnel reports only L4 (mesh-facts §1.8).
      if (s?.kind === 'ambient' && d.result !== 'reset') {
        m.inc('istio_tcp_connections_opened_total', { reporter: 'destination', ...source, destination_workload: target?.workload ?? 'unknown', destination_workload_namespace: server.namespace, destination_service_name: server.name, destination_service_namespace: server.namespace, connection_security_policy: d.mtls ? 'mutual_tls' : 'unknown' }, n);
      }
      return;
    }
    const classification = d.code >= 200 && d.code < 500 && d.code !== 403 ? 'success' : 'failure';
    if (c?.kind === 'linkerd') {
      const labels: Labels = { direction: 'outbound', namespace: client.namespace, deployment: client.workload, dst_namespace: server.namespace, dst_deployment: server.name, dst_service: server.name, tls: d.mtls ? 'true' : 'no_identity' };
      m.inc('request_total', labels, n);
      m.inc('response_total', { ...labels, status_code: String(d.code), classification }, n);
      // The route-level view (Linkerd ≥ 2.16): one count per request after retries (proxy-metrics reference).
      m.inc('outbound_http_route_request_statuses_total', { namespace: client.namespace, deployment: client.workload, parent_kind: 'Service', parent_namespace: server.namespace, parent_name: server.name, http_status: d.code === 0 ? '' : String(d.code), error: d.code === 0 ? 'UNKNOWN' : '' }, n);
      const [perBucket, sum] = latency(LINKERD_BUCKETS);
      m.observe('response_latency_ms', labels, LINKERD_BUCKETS, perBucket, sum, n);
    }
    if (s?.kind === 'linkerd' && d.reachedServer) {
      const labels: Labels = { direction: 'inbound', namespace: server.namespace, deployment: server.name, tls: d.mtls ? 'true' : 'no_identity', ...(d.mtls ? { client_id: `${client.serviceAccount}.${client.namespace}.serviceaccount.identity.linkerd.cluster.local` } : {}) };
      m.inc('request_total', labels, n);
      m.inc('response_total', { ...labels, status_code: String(d.code), classification }, n);
      if (d.result === 'denied') m.inc('inbound_http_authz_deny_total', { namespace: server.namespace, deployment: server.name }, n);
      const [perBucket, sum] = latency(LINKERD_BUCKETS);
      m.observe('response_latency_ms', labels, LINKERD_BUCKETS, perBucket, sum, n);
    }
  }

  /**
   * Plain TCP as the proxies report it: connections, not requests, with no status or latency.
   * Istio: istio_tcp_connections_opened_total from both proxies (istio.io reference/config/metrics);
   * Linkerd: tcp_open_total, with tls as for HTTP (linkerd.io reference/proxy-metrics). Each
   * request is one connection here.
   */
  private emitTcp(m: MetricSink, mesh: 'istio' | 'linkerd', client: Party, server: ServiceInfo, target: Party | undefined, d: Decision, n: number, seen: Seen): void {
    const c = seen.client ? client.proxy : undefined;
    const s = seen.server ? target?.proxy : undefined;
    if (mesh === 'istio') {
      const base = { destination_workload: target?.workload ?? 'unknown', destination_workload_namespace: server.namespace, destination_service_name: server.name, destination_service_namespace: server.namespace };
      if (c?.kind === 'istio' && c.snapshot) m.inc('istio_tcp_connections_opened_total', { reporter: 'source', source_workload: client.workload, source_workload_namespace: client.namespace, ...base, connection_security_policy: 'unknown' }, n);
      if ((s?.kind === 'istio' || s?.kind === 'ambient') && d.reachedServer !== false && d.result !== 'reset') {
        const peer = d.mtls ? { source_workload: client.workload, source_workload_namespace: client.namespace } : { source_workload: 'unknown', source_workload_namespace: 'unknown' };
        m.inc('istio_tcp_connections_opened_total', { reporter: 'destination', ...peer, ...base, connection_security_policy: d.mtls ? 'mutual_tls' : 'none' }, n);
      }
      return;
    }
    if (c?.kind === 'linkerd') m.inc('tcp_open_total', { direction: 'outbound', namespace: client.namespace, deployment: client.workload, dst_namespace: server.namespace, dst_deployment: server.name, tls: d.mtls ? 'true' : 'no_identity' }, n);
    if (s?.kind === 'linkerd' && d.result !== 'reset') m.inc('tcp_open_total', { direction: 'inbound', namespace: server.namespace, deployment: server.name, tls: d.mtls ? 'true' : 'no_identity', ...(d.mtls ? { client_id: `${client.serviceAccount}.${client.namespace}.serviceaccount.identity.linkerd.cluster.local` } : {}) }, n);
  }

  /**
   * Expected observations per bucket for n requests: the service's log-normal latency shifted by
   * extraMs, and cut at capMs when a per-try timeout ended the slower tries.
   */
  private buckets(server: ServiceInfo, bounds: number[], extraMs: number, n: number, capMs = 0): [number[], number] {
    const full = (x: number) => (x <= extraMs ? 0 : normalCdf((Math.log(x - extraMs) - server.mu) / server.sigma));
    const atCap = capMs > 0 ? full(capMs) : 1;
    const cdf = capMs > 0 && atCap > 0 ? (x: number) => Math.min(1, full(x) / atCap) : full;
    let previous = 0;
    const perBucket = bounds.map((bound) => {
      const at = cdf(bound);
      const count = (at - previous) * n;
      previous = at;
      return count;
    });
    const mean = Math.exp(server.mu + (server.sigma * server.sigma) / 2) + extraMs;
    return [perBucket, mean * n];
  }

  /** Parties by pod object: a stored object is replaced, never changed, so this is safe to keep. */
  private readonly parties = new WeakMap<KubeObject, Party>();

  private party(pod: KubeObject | undefined, ref: string | undefined): Party {
    if (!pod || !ref) return OUTSIDE;
    const proxy = this.twin.proxies.get(pod.metadata.uid ?? '');
    const known = this.parties.get(pod);
    if (known && known.proxy === proxy) return known;
    const spec = (pod.spec ?? {}) as { serviceAccountName?: string; containers?: Array<{ name?: string; ports?: Array<{ name?: string; containerPort: number }> }> };
    const app = (spec.containers ?? []).find((c) => c.name !== 'istio-proxy' && c.name !== 'linkerd-proxy');
    const party: Party = {
      namespace: pod.metadata.namespace ?? '',
      workload: ref.split('/')[1] ?? '',
      labels: pod.metadata.labels ?? {},
      serviceAccount: String(spec.serviceAccountName ?? 'default'),
      ip: String((pod.status as Obj | undefined)?.['podIP'] ?? ''),
      ports: app?.ports ?? [],
      ...(proxy ? { proxy } : {}),
    };
    const own = parsePercent(pod.metadata.annotations?.[POD_ERROR_RATE_ANNOTATION] ?? '');
    if (own !== undefined) party.errorRate = own / 100;
    this.parties.set(pod, party);
    return party;
  }

  /** Each service's pods, kept while the store does not change (readers never change it). */
  private readonly podsMemo = new StoreMemo(() => this.groupPodsByService());

  private podsByService(): Map<string, KubeObject[]> {
    return this.podsMemo.at(this.twin.revision);
  }

  private groupPodsByService(): Map<string, KubeObject[]> {
    const out = new Map<string, KubeObject[]>();
    const known = new Set(this.services.keys());
    for (const pod of this.twin.pods()) {
      const ref = `${pod.metadata.namespace}/${pod.metadata.labels?.['app'] ?? ''}`;
      if (known.has(ref)) push(out, ref, pod);
    }
    return out;
  }
}


/**
 * Blocking probability of an M/M/c/K queue with offered load `a` (Erlang): the share of arrivals
 * that find all c servers and K − c places taken. Computed in logs; 0 beyond a million places.
 */
function blocking(a: number, c: number, k: number): number {
  if (a <= 0) return 0;
  if (k > 1_000_000) return 0;
  const la = Math.log(a);
  let log = 0;
  const logs: number[] = [0];
  for (let i = 1; i <= k; i++) {
    log += la - Math.log(Math.min(i, c));
    logs.push(log);
  }
  const max = Math.max(...logs);
  const sum = logs.reduce((acc, l) => acc + Math.exp(l - max), 0);
  return Math.exp(logs[k]! - max) / sum;
}

/** Requests of one outcome in this tick, and how they reach the metric store. */
interface PendingOutcome {
  mesh: 'istio' | 'linkerd';
  client: Party;
  server: ServiceInfo;
  target: Party | undefined;
  d: Decision;
  n: number;
  extraMs: number;
  flags: string;
  capMs: number;
  called?: ServiceInfo;
  seen: Seen;
  home?: TrafficModel;
  apply?: (n: number, adds?: SlotAdds) => void;
}

/** What decide() reads of a proxy that can change while the proxy lives. */
interface ProxyState {
  started: boolean;
  snapshot: unknown;
  cert: unknown;
  trust: unknown;
}

interface RememberedDecision {
  decision: Decision;
  mesh: 'istio' | 'linkerd';
  request: RequestAttributes;
  until: number;
  c: ProxyState | undefined;
  s: ProxyState | undefined;
}

function proxyState(proxy: Proxy | undefined): ProxyState | undefined {
  return proxy && { started: proxy.started, snapshot: proxy.snapshot, cert: proxy.cert, trust: proxy.trust };
}

function sameProxyState(known: ProxyState | undefined, proxy: Proxy | undefined): boolean {
  if (!known || !proxy) return known === undefined && proxy === undefined;
  return known.started === proxy.started && known.snapshot === proxy.snapshot && known.cert === proxy.cert && known.trust === proxy.trust;
}

/** Until when a proxy's certificate and its root, valid now, stay valid (an expired one stays so). */
function validUntil(proxy: Proxy | undefined, now: number): number {
  const cert = proxy?.cert;
  if (!cert) return Number.POSITIVE_INFINITY;
  let until = Number.POSITIVE_INFINITY;
  if (cert.expiresAt > now) until = Math.min(until, cert.expiresAt);
  if (cert.rootExpiresAt !== undefined && cert.rootExpiresAt > now) until = Math.min(until, cert.rootExpiresAt);
  return until;
}

/** Stand-ins for "no service called by another name" and "no callee" in the outcome keys' maps. */
const NO_SERVICE = {} as ServiceInfo;
const NO_PARTY = {} as Party;

/** Whether the client's and the server's proxies are scraped (their series count). */
interface Seen {
  client: boolean;
  server: boolean;
  /** Whether the caller's own view (meshdrill_client_*) is counted here: not where the server's cluster records its side. */
  caller?: boolean;
}

/** Where the load that enters from outside runs on a real cluster: k6 pods in meshdrill-load. */
const LOAD_GENERATOR = { namespace: 'meshdrill-load', labels: Object.freeze({ app: 'k6' }) };

/** Traffic from outside the cluster: no pod, no identity, an address outside the cluster networks. */
const OUTSIDE: Party = { namespace: 'external', workload: 'external', labels: {}, serviceAccount: 'default', ip: OUTSIDE_IP };

/** The value under `key`, made and kept the first time it is asked for. */
function entry<K, V>(map: { get(key: K): V | undefined; set(key: K, value: V): unknown }, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Callers before the services they call (the graph is acyclic: validated), without recursion. */
function topologicalOrder(services: Map<string, ServiceInfo>): string[] {
  const callers = new Map<string, string[]>();
  for (const caller of services.values()) for (const call of caller.calls) push(callers, call.to, caller.ref);
  // Each service after all of its callers: post-order over who calls whom.
  return postOrder(services.keys(), (ref) => callers.get(ref) ?? []).filter((ref) => services.has(ref));
}

// Abramowitz–Stegun 7.1.26 approximation of the standard normal CDF (error < 1.5e-7).
/**
 * Retries for `sent` requests whose tries each fail with probability q, retried up to `attempts`
 * times: the k-th retry happens with q^k, so q(1 - q^attempts)/(1 - q) per request.
 */
function expectedRetries(sent: number, q: number, attempts: number): number {
  if (q <= 0 || attempts <= 0) return 0;
  return (sent * q * (1 - q ** attempts)) / Math.max(1e-12, 1 - q);
}

function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(z) / Math.SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}
