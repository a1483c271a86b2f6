import { parse } from 'yaml';
import { createKubeClient, inProcessKubeClient, simWorkerNames, startSimCluster, attachMeshTwin, TrafficModel, provisionK3s, kindNodeControl, provisionKind, exec, portForward, clusterIdentity, kubeconfigTarget, type ClusterIdentity, type KubeClient, type SimCluster, type K3sOptions, type KindOptions, type ExecResult, type PortForward } from '../clusters/index.js';
import type { NodeControl } from '../chaos/index.js';
import { installMeshOnCluster, prometheusManifests, prometheusRemoteWriteUrl, PROMETHEUS_NAMESPACE, type DataPlaneMode, type MeshAdapter, type MeshName, type RealInstallOptions } from '../meshes/index.js';
import { ClusterError, type Logger } from '../core/index.js';
import { InClusterTraffic } from './cluster-traffic.js';
import type { Topology } from '../model/index.js';
import { PrometheusClient, ClientViewSource, clientViewOver, EmbeddedSource, k6ViewOver, meshedCallersOver, NoSource, PrometheusSource, type GateSources, type PrometheusAuth } from '../slo/index.js';
import type { RemoteWrite } from '../load/index.js';

/** What a game day needs from the cluster it runs on. */
export interface ClusterHandle {
  readonly provider: string;
  /** Gone when the run ends (the in-process embedded cluster): nothing to tear down. */
  readonly ephemeral: boolean;
  /** Someone else's cluster: its mesh is theirs, checked rather than installed. */
  readonly existing?: boolean;
  /** A proxy's configuration for diagnostics (Envoy's config_dump, Linkerd's proxy metrics); real clusters only. */
  proxyDump?(mesh: MeshName, namespace: string, pod: string): Promise<string>;
  /** Installs the mesh with its real tools; the embedded cluster takes the adapter's manifests instead. */
  installMesh?(adapter: MeshAdapter, certLifetimeMs: number): Promise<void>;
  readonly kube: KubeClient;
  /** The kubeconfig file(s) the cluster is reached through, for `cleanup` (a path, never a copy). */
  readonly kubeconfigPath?: string;
  /** Which cluster this is: recorded in the run's journal before its first change. */
  identity(): Promise<ClusterIdentity>;
  now(): number;
  /**
   * Lets time pass with traffic flowing (virtual on the embedded cluster). A real-time wait ends
   * early when `signal` aborts (Ctrl-C, SIGTERM): the caller checks and stops.
   */
  advance(ms: number, signal?: AbortSignal): Promise<void>;
  sources(mesh: MeshName, mode: DataPlaneMode): GateSources;
  nodes?: NodeControl;
  /** Runs the topology's traffic at its declared rates (in virtual time, or k6 in the cluster). */
  startTraffic(topology: Topology): void | Promise<void>;
  /** What the cluster's twin read but does not model (the embedded cluster only). */
  notModelled?(): string[];
  /** Total rate across the entrypoints, spread as declared; undefined: the declared rates. */
  setTrafficRate(totalRps: number | undefined): void | Promise<void>;
  close(): Promise<void>;
}

/** The embedded cluster in this process, in virtual time, with the mesh twin attached. */
export async function embeddedCluster(options: { seed: number; nodes?: number }): Promise<ClusterHandle & { sim: SimCluster }> {
  const sim = await startSimCluster({ time: 'virtual', nodes: options.nodes ?? 3, seed: options.seed });
  const twin = attachMeshTwin(sim);
  const kube = inProcessKubeClient(sim);
  let traffic: TrafficModel | undefined;
  const workers = simWorkerNames(options.nodes ?? 3);
  return {
    provider: 'embedded',
    ephemeral: true,
    sim,
    kube,
    identity: () => clusterIdentity(kube, sim.kubeconfig),
    now: () => sim.clock.now(),
    advance: (ms) => sim.advance(ms),
    sources: (mesh, mode) => ({ mesh: new EmbeddedSource(twin.metrics, mesh, mode), client: new ClientViewSource(twin.metrics) }),
    nodes: {
      nodes: () => workers,
      setReady: async (node, ready) => {
        if (ready) sim.controllers.startNode(node);
        else sim.controllers.stopNode(node);
        sim.settle();
      },
    },
    startTraffic(topology) {
      traffic?.stop();
      traffic = new TrafficModel(twin, topology, { tickMs: 5_000 });
      traffic.start();
    },
    notModelled: () => [...new Set([...twin.notModelled(), ...(traffic?.notModelledSeen() ?? [])])],
    setTrafficRate(totalRps) {
      if (!traffic) return;
      const natural = traffic.naturalRps();
      traffic.setRpsScale(totalRps === undefined || natural === 0 ? 1 : totalRps / natural);
    },
    async close() {
      traffic?.stop();
      await sim.close();
    },
  };
}

/**
 * An embedded cluster served by `meshdrill sim serve`, reached through its kubeconfig: time moves
 * through its admin API. It outlives the run, so the run's changes are taken back at the end.
 * It serves the Prometheus API over its own metrics, and runs the topology's traffic itself.
 */
export async function servedSimCluster(kubeconfig: string, kubeconfigPath?: string): Promise<ClusterHandle | undefined> {
  const server = serverOf(kubeconfig);
  if (!server) return undefined;
  const clock = await fetch(`${server}/sim/v1/clock`).then((r) => (r.ok ? (r.json() as Promise<{ now: string; time?: 'virtual' | 'real' }>) : undefined), () => undefined);
  if (!clock) return undefined;
  const kube = createKubeClient(kubeconfig);
  const workers = (await kube.list('v1', 'Node')).map((n) => n.metadata.name).filter((n) => n !== 'sim-control-plane');
  let now = Date.parse(clock.now);
  // The served cluster answers the Prometheus HTTP API from its own store: SLIs are measured the
  // way they are through a real Prometheus.
  const prometheus = new PrometheusClient({ url: server });
  const post = async (path: string) => {
    const response = await fetch(`${server}${path}`, { method: 'POST' });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response;
  };
  return {
    provider: 'sim (served)',
    ephemeral: false,
    kube,
    ...(kubeconfigPath ? { kubeconfigPath } : {}),
    identity: () => clusterIdentity(kube, kubeconfig),
    now: () => (clock.time === 'real' ? Date.now() : now),
    async advance(ms, signal) {
      // In real time the served cluster's time passes by itself: wait here, where a signal can end it.
      if (clock.time === 'real') return interruptibleSleep(ms, signal);
      const body = (await (await post(`/sim/v1/advance?by=${Math.round(ms)}ms`)).json()) as { now: string };
      now = Date.parse(body.now);
    },
    sources: (mesh, mode) => ({ mesh: new PrometheusSource(prometheus, mesh, mode), client: clientViewOver(prometheus) }),
    nodes: {
      nodes: () => workers,
      setReady: async (node, ready) => {
        await post(`/sim/v1/nodes/${encodeURIComponent(node)}/ready?value=${ready}`);
      },
    },
    // The served cluster runs the topology's traffic model itself, in its own time.
    async startTraffic(topology) {
      const response = await fetch(`${server}/sim/v1/traffic?tickMs=5000`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(topology) });
      if (!response.ok) throw new ClusterError(`starting the topology's traffic on the served cluster: ${response.status} ${await response.text()}`);
    },
    async setTrafficRate(totalRps) {
      await post(`/sim/v1/traffic/rate${totalRps === undefined ? '' : `?rps=${totalRps}`}`);
    },
    async close() {
      await fetch(`${server}/sim/v1/traffic`, { method: 'DELETE' }).catch(() => undefined);
    },
  };
}

function serverOf(kubeconfig: string): string | undefined {
  const config = parse(kubeconfig) as { 'current-context'?: string; contexts?: Array<{ name: string; context: { cluster: string } }>; clusters?: Array<{ name: string; cluster: { server: string } }> } | null;
  const context = config?.contexts?.find((c) => c.name === config['current-context']) ?? config?.contexts?.[0];
  const cluster = config?.clusters?.find((c) => c.name === context?.context.cluster) ?? config?.clusters?.[0];
  return cluster?.cluster.server.replace(/\/$/, '');
}

/**
 * An existing cluster through an isolated kubeconfig: time passes for real, SLIs come from the
 * Prometheus given (the mesh's own metrics), nodes are the provider's business, and traffic is
 * whatever runs there.
 */
export function existingCluster(options: { kubeconfig: string; context: string; kubeconfigPath?: string; prometheusUrl?: string; prometheusAuth?: PrometheusAuth; sleep?: (ms: number, signal?: AbortSignal) => Promise<void>; now?: () => number; run?: (binary: string, args: string[]) => Promise<ExecResult>; traffic?: { runId: string; logger: Pick<Logger, 'info'>; remoteWrite?: RemoteWrite } }): ClusterHandle {
  const kube = createKubeClient(options.kubeconfig);
  const sleep = options.sleep ?? interruptibleSleep;
  const none = new NoSource((sli) => `no Prometheus given (--prometheus): ${sli} cannot be measured on context ${options.context}`);
  // Traffic there is whatever runs there, unless asked for (--traffic): then k6 drives the entrypoints.
  const traffic = options.traffic ? new InClusterTraffic(kube, { ...options.traffic, wait: (ms) => sleep(ms) }) : undefined;
  return {
    provider: `kubeconfig (${options.context})`,
    ephemeral: false,
    existing: true,
    kube,
    ...(options.kubeconfigPath ? { kubeconfigPath: options.kubeconfigPath } : {}),
    identity: () => clusterIdentity(kube, options.kubeconfig, options.context),
    now: options.now ?? (() => Date.now()),
    advance: sleep,
    sources: (mesh, mode) => {
      if (!options.prometheusUrl) return { mesh: none };
      const client = new PrometheusClient({ url: options.prometheusUrl, ...(options.prometheusAuth ? { auth: options.prometheusAuth } : {}) });
      // The callers' view there is what meshed callers' proxies report: baselines of namespaces not meshed yet.
      return { mesh: new PrometheusSource(client, mesh, mode), client: meshedCallersOver(client, mesh, mode) };
    },
    startTraffic: (topology) => traffic?.start(topology),
    setTrafficRate: (totalRps) => traffic?.setRate(totalRps),
    close: async () => traffic?.stop(),
    ...(options.kubeconfigPath
      ? {
          async proxyDump(mesh: MeshName, namespace: string, pod: string) {
            const run = options.run ?? ((binary: string, args: string[]) => exec(binary, args, { env: { ...process.env, KUBECONFIG: options.kubeconfigPath! }, timeoutMs: 60_000 }));
            // Envoy's full config through pilot-agent; Linkerd's proxy metrics through its CLI (mesh-facts).
            // The user's kubeconfig with the context named: never its current context.
            const context = ['--context', options.context];
            const result = mesh === 'istio' ? await run('kubectl', ['exec', ...context, '-n', namespace, pod, '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'config_dump']) : await run('linkerd', ['diagnostics', 'proxy-metrics', ...context, '-n', namespace, `po/${pod}`]);
            if (result.code !== 0) throw new Error(result.stderr.trim() || `exit ${result.code}`);
            return result.stdout;
          },
        }
      : {}),
  };
}

/** A real cluster meshdrill made for the run (kind, k3s): what the handle needs of it. */
export interface MadeCluster {
  name: string;
  kubeconfig: string;
  kubeconfigPath: string;
  close(): Promise<void>;
}

interface MadeClusterOptions {
  /** e.g. "kind (meshdrill-run-1)". */
  provider: string;
  runId: string;
  keep: boolean;
  runDir: string;
  logger: Pick<Logger, 'info' | 'warn'>;
  meshVersion: string;
  /** Real time by default; tests inject a clock. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  prometheusUrl?: string;
  prometheusAuth?: PrometheusAuth;
  installRun?: RealInstallOptions['run'];
  env?: NodeJS.ProcessEnv;
}

/**
 * A cluster made for the run: the mesh installed with its own tools (Helm, istioctl or the
 * linkerd CLI), a Prometheus for its metrics reached by port-forward, time real, taken down at the
 * end unless kept. kind and k3s differ only in how the cluster is made.
 */
function madeCluster(made: MadeCluster, options: MadeClusterOptions): ClusterHandle {
  const sleep = options.sleep ?? interruptibleSleep;
  let prometheusUrl = options.prometheusUrl;
  let forward: PortForward | undefined;
  // Nothing runs on a cluster made for the run: its traffic comes from k6 in the cluster.
  // kind names its context kind-<name>, k3s "default": the kubeconfig says which.
  // k6 remote-writes to the bundled Prometheus: the callers' view is a time series there.
  const bundled = !options.prometheusUrl;
  const base = existingCluster({ kubeconfig: made.kubeconfig, context: kubeconfigTarget(made.kubeconfig).context, kubeconfigPath: made.kubeconfigPath, sleep, ...(options.now ? { now: options.now } : {}), traffic: { runId: options.runId, logger: options.logger, ...(bundled ? { remoteWrite: { url: prometheusRemoteWriteUrl() } } : {}) } });
  return {
    ...base,
    provider: options.provider,
    existing: false,
    // The cluster goes away at the end unless kept: nothing to take back change by change.
    ephemeral: !options.keep,
    sources: (mesh, mode) => {
      if (!prometheusUrl) return base.sources(mesh, mode);
      const client = new PrometheusClient({ url: prometheusUrl, ...(options.prometheusAuth && options.prometheusUrl === prometheusUrl ? { auth: options.prometheusAuth } : {}) });
      return { mesh: new PrometheusSource(client, mesh, mode), client: bundled ? k6ViewOver(client, options.runId) : meshedCallersOver(client, mesh, mode) };
    },
    async installMesh(adapter, certLifetimeMs) {
      await installMeshOnCluster({ mesh: adapter.name, mode: adapter.mode, version: options.meshVersion, certLifetimeMs, kube: base.kube, kubeconfigPath: made.kubeconfigPath, workDir: options.runDir, logger: options.logger, ...(options.installRun ? { run: options.installRun } : {}) });
      if (prometheusUrl) return;
      // The mesh's metrics need a Prometheus in the cluster; meshdrill reaches it by port-forward.
      for (const object of prometheusManifests()) await base.kube.apply(object);
      for (let waited = 0; ; waited += 2_000) {
        const deployment = await base.kube.get('apps/v1', 'Deployment', PROMETHEUS_NAMESPACE, 'prometheus');
        if (((deployment?.['status'] as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0) >= 1) break;
        if (waited > 300_000) throw new ClusterError(`Prometheus in ${PROMETHEUS_NAMESPACE} did not become available within 5 minutes`);
        await sleep(2_000);
      }
      forward = await portForward({ kubeconfigPath: made.kubeconfigPath, namespace: PROMETHEUS_NAMESPACE, service: 'prometheus', port: 9090, ...(options.env ? { env: options.env } : {}) });
      prometheusUrl = forward.url;
      options.logger.info({ url: prometheusUrl }, 'Prometheus reachable through a port-forward');
    },
    async close() {
      await base.close().catch((error: Error) => options.logger.warn({ error: error.message }, `stopping the traffic failed: ${error.message}`));
      forward?.close();
      await made.close();
    },
  };
}

type ClusterOptions = Omit<MadeClusterOptions, 'provider' | 'keep' | 'runDir' | 'logger' | 'runId'>;

/** A kind cluster made for the run, deleted at the end with its logs exported first (unless kept); its worker containers can be stopped (node-loss). */
export async function kindCluster(options: ClusterOptions & { kind: KindOptions; docker?: (binary: string, args: string[]) => Promise<ExecResult> }): Promise<ClusterHandle> {
  const made = await provisionKind(options.kind);
  const { kind, docker, ...rest } = options;
  const handle = madeCluster(made, { ...rest, provider: `kind (${made.name})`, runId: kind.runId, keep: kind.keep || kind.reuse, runDir: kind.runDir, logger: kind.logger });
  try {
    return { ...handle, nodes: await kindNodeControl(handle.kube, docker ? { run: docker } : {}) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** A one-node k3s cluster in a container started through testcontainers, stopped at the end (unless kept). */
export async function k3sCluster(options: ClusterOptions & { k3s: K3sOptions }): Promise<ClusterHandle> {
  const made = await provisionK3s(options.k3s);
  const { k3s, ...rest } = options;
  return madeCluster(made, { ...rest, provider: `k3s (${made.name})`, runId: k3s.runId, keep: k3s.keep, runDir: k3s.runDir, logger: k3s.logger });
}

/** A real-time wait that ends early, without error, when the signal aborts: the caller checks why. */
export function interruptibleSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Waits, in the cluster's own time, until the namespaces a run made and deleted are gone: a
 * deleted namespace is Terminating until the namespace controller has emptied it. Returns the
 * names still terminating when `limitMs` of cluster time has passed (a stuck finalizer).
 */
export async function namespacesGone(kube: KubeClient, runId: string, advance: (ms: number) => Promise<void>, limitMs = 60_000): Promise<string[]> {
  for (let waited = 0; ; waited += 500) {
    const terminating = (await kube.list('v1', 'Namespace', { labelSelector: `meshdrill.dev/run-id=${runId}` })).filter((n) => n.metadata['deletionTimestamp']).map((n) => n.metadata.name);
    if (terminating.length === 0 || waited >= limitMs) return terminating;
    await advance(500);
  }
}
