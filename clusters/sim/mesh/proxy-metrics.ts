import type { KubeObject } from '../api/types.js';
import type { MetricStore } from './metrics.js';
import type { ProxyCost } from './proxy-load.js';
import type { MeshTwin, Proxy } from './twin.js';

type Obj = Record<string, unknown>;

/** Istio's inbound listener, where the TLS handshake stats of a sidecar's mTLS connections are. */
export const INBOUND_LISTENER = '0.0.0.0_15006';

interface Handles {
  cert: { value: number };
  configUpdate?: { value: number };
  memory?: { value: number };
  cpu?: { value: number };
  restarts?: { value: number };
  up: { value: number };
}

/**
 * Each proxy's own series, tick by tick, as Prometheus scrapes them from a real cluster: its
 * certificate expiry, Envoy's last config update, its container's memory and CPU (cAdvisor),
 * its restarts (kube-state-metrics), the TLS handshake counters it creates at zero, and `up` for
 * its scrape target. A proxy Prometheus cannot reach (a NetworkPolicy in the way) is down: `up` 0
 * and its gauges stale (NaN, which queries skip), as after a failed scrape.
 */
export class ProxyMetrics {
  private readonly handles = new Map<string, Handles>();
  /** What the last update did, for the tick whose effects it was recorded with (repeat()). */
  private recorded?: { key: object; writes: ProxyWrites };

  constructor(private readonly twin: MeshTwin) {}

  /**
   * One tick's series for every started proxy; `costs` is what each proxy carried (proxy-load.ts).
   * With `record`, what it writes is kept for ticks that repeat that tick's effects (repeat()).
   */
  update(mesh: 'istio' | 'linkerd', now: number, tickMs: number, costs: Map<Proxy, ProxyCost>, scopeOf: (namespace: string) => number, record?: object): void {
    const m = this.twin.metrics;
    const writes = new ProxyWrites();
    const ambientByNode = new Map<string, number>();
    let ambient = false;
    for (const proxy of this.twin.proxies.values()) {
      if (!proxy.started) continue;
      const cost = costs.get(proxy);
      if (proxy.kind === 'ambient') {
        ambient = true;
        ambientByNode.set(proxy.node, (ambientByNode.get(proxy.node) ?? 0) + (cost?.used ?? 0));
        continue;
      }
      const h = this.handlesOf(mesh, proxy);
      const seen = this.twin.scrapable(proxy);
      writes.set(h.up, seen ? 1 : 0);
      if (!seen) {
        for (const gauge of [h.cert, h.configUpdate, h.memory]) if (gauge) writes.set(gauge, Number.NaN);
        continue;
      }
      if (proxy.cert) {
        if (mesh === 'istio') writes.until(h.cert, proxy.cert.expiresAt);
        else writes.set(h.cert, proxy.cert.expiresAt / 1000);
      }
      if (h.configUpdate) writes.lastSync(h.configUpdate, proxy);
      if (h.memory) writes.set(h.memory, proxyMemoryBytes(proxy, scopeOf(proxy.namespace)));
      if (h.cpu) writes.add(h.cpu, ((cost?.used ?? 0) * tickMs) / 1000);
      if (h.restarts) writes.set(h.restarts, restartCount(this.twin.podByUid(proxy.uid), proxy.kind === 'istio' ? 'istio-proxy' : 'linkerd-proxy'));
    }
    // Ambient has no sidecars: one ztunnel per node holds the memory, about 12 MB at 1,000 rps
    // (istio.io/docs/ops/deployment/performance-and-scalability, Istio 1.24), and the CPU of the
    // node's workloads' traffic.
    if (ambient) {
      for (const pod of this.twin.ztunnelPods()) {
        const labels = { namespace: 'istio-system', pod: pod.metadata.name, container: 'ztunnel' };
        writes.set(m.gaugeHandle('container_memory_working_set_bytes', labels), 12 * 1_048_576);
        const node = String((pod.spec as Obj | undefined)?.['nodeName'] ?? '');
        const cpu = ((0.002 + (ambientByNode.get(node) ?? 0)) * tickMs) / 1000;
        // As MetricStore.inc: a counter is made by its first count.
        if (cpu !== 0) writes.add(m.counterHandle('container_cpu_usage_seconds_total', labels), cpu);
        m.declare('kube_pod_container_status_restarts_total', labels);
      }
    }
    if (mesh === 'istio') {
      // istiod push cost grows with proxies × config size unless Sidecar resources scope it.
      let work = 0;
      for (const p of this.twin.proxies.values()) if (p.kind === 'istio' && p.started) work += scopeOf(p.namespace);
      writes.convergence(0.005 + work * 0.00002);
    }
    writes.apply(m, now);
    this.recorded = record ? { key: record, writes } : undefined;
  }

  /**
   * The update of a tick that repeats the effects `key` was recorded with (tick-effects.ts): the
   * proxies, their load and what Prometheus reaches are as they were, so every write is too, but
   * for what moves with time (Istio's seconds to certificate expiry) and Envoy's last config update
   * (istiod's reconnects move it without changing the config). False when nothing was recorded for it.
   */
  repeat(key: object, now: number): boolean {
    if (this.recorded?.key !== key) return false;
    this.recorded.writes.apply(this.twin.metrics, now);
    return true;
  }

  private handlesOf(mesh: 'istio' | 'linkerd', proxy: Proxy): Handles {
    let h = this.handles.get(proxy.uid);
    if (h) return h;
    const m = this.twin.metrics;
    const labels = { namespace: proxy.namespace, pod: proxy.pod };
    const container = { ...labels, container: proxy.kind === 'istio' ? 'istio-proxy' : 'linkerd-proxy' };
    h = {
      cert: m.gaugeHandle(mesh === 'istio' ? 'istio_agent_cert_expiry_seconds' : 'identity_cert_expiration_timestamp_seconds', labels),
      // Envoy's cluster_manager.cds.update_time, milliseconds since the epoch; Istio keeps the
      // cluster_manager stats by default (istio.io/docs/ops/configuration/telemetry/envoy-stats).
      // linkerd2-proxy and ztunnel expose no time of their last config update.
      ...(proxy.kind === 'istio' ? { configUpdate: m.gaugeHandle('envoy_cluster_manager_cds_update_time', labels) } : {}),
      memory: m.gaugeHandle('container_memory_working_set_bytes', container),
      cpu: counterHandle(m, 'container_cpu_usage_seconds_total', container),
      restarts: counterHandle(m, 'kube_pod_container_status_restarts_total', container),
      // The scrape target: the merged metrics (Istio, job kubernetes-pods) or the proxy's admin port (Linkerd).
      up: m.gaugeHandle('up', { job: proxy.kind === 'linkerd' ? 'linkerd-proxy' : 'kubernetes-pods', ...labels }),
    };
    // Envoy creates a TLS listener's SSL counters with the listener, at zero (kept by meshdrill's proxyStatsMatcher).
    if (proxy.kind === 'istio' && !proxy.gateway) for (const name of ['envoy_listener_ssl_connection_error', 'envoy_listener_ssl_fail_verify_error']) m.declare(name, { ...labels, listener_address: INBOUND_LISTENER });
    this.handles.set(proxy.uid, h);
    return h;
  }
}

const SET = 0;
const ADD = 1;
const UNTIL = 2;
const LAST_SYNC = 3;
const CONVERGENCE_BOUNDS = [0.1, 0.5, 1, 3, 5, 10, 20, 30];

/** One update's writes to the proxies' series, in order, to apply now and again on repeated ticks. */
class ProxyWrites {
  private readonly kinds: number[] = [];
  private readonly targets: Array<{ value: number }> = [];
  private readonly amounts: number[] = [];
  private readonly proxies: Array<Proxy | undefined> = [];
  private convergenceSeconds?: number;

  set(target: { value: number }, value: number): void {
    this.push(SET, target, value);
  }

  add(target: { value: number }, amount: number): void {
    this.push(ADD, target, amount);
  }

  /** Seconds until `expiresAt` (ms), as of each tick. */
  until(target: { value: number }, expiresAt: number): void {
    this.push(UNTIL, target, expiresAt);
  }

  /** The proxy's last config update, read at each tick. */
  lastSync(target: { value: number }, proxy: Proxy): void {
    this.push(LAST_SYNC, target, 0, proxy);
  }

  /** istiod's push time this tick (pilot_proxy_convergence_time, one observation). */
  convergence(seconds: number): void {
    this.convergenceSeconds = seconds;
  }

  apply(m: MetricStore, now: number): void {
    const { kinds, targets, amounts, proxies } = this;
    for (let i = 0; i < kinds.length; i++) {
      const target = targets[i]!;
      switch (kinds[i]) {
        case SET:
          target.value = amounts[i]!;
          break;
        case ADD:
          target.value += amounts[i]!;
          break;
        case UNTIL:
          target.value = (amounts[i]! - now) / 1000;
          break;
        default: {
          const lastSync = proxies[i]!.lastSync;
          if (lastSync !== undefined) target.value = lastSync;
        }
      }
    }
    const seconds = this.convergenceSeconds;
    if (seconds !== undefined) m.observe('pilot_proxy_convergence_time', {}, CONVERGENCE_BOUNDS, CONVERGENCE_BOUNDS.map((b, i, all) => (seconds <= b && (i === 0 || seconds > all[i - 1]!) ? 1 : 0)), seconds, 1);
  }

  private push(kind: number, target: { value: number }, amount: number, proxy?: Proxy): void {
    this.kinds.push(kind);
    this.targets.push(target);
    this.amounts.push(amount);
    this.proxies.push(proxy);
  }
}

/**
 * A sidecar's working set: Envoy 50–100 MB growing with the services in its config, linkerd2-proxy
 * 10–20 MB (istio.io performance and scalability; Linkerd's benchmarks), plus what a leak added.
 */
export function proxyMemoryBytes(proxy: Proxy, servicesInScope: number): number {
  const base = proxy.kind === 'linkerd' ? 10 + Math.min(10, servicesInScope * 0.05) : 50 + Math.min(50, servicesInScope * 0.25);
  return base * 1_048_576 + (proxy.leakedBytes ?? 0);
}

/** A counter whose value the caller sets (CPU seconds, kube-state-metrics' restart count). */
function counterHandle(m: MetricStore, name: string, labels: Record<string, string>): { value: number } {
  m.declare(name, labels);
  return m.counterHandle(name, labels);
}

/** The container's restartCount in the pod's status, as kube-state-metrics exports it. */
function restartCount(pod: KubeObject | undefined, container: string): number {
  if (!pod) return 0;
  // A stored pod never changes (a new status is a new object): read once per pod version.
  let byContainer = restarts.get(pod);
  if (!byContainer) restarts.set(pod, (byContainer = new Map()));
  let count = byContainer.get(container);
  if (count === undefined) byContainer.set(container, (count = readRestartCount(pod, container)));
  return count;
}

const restarts = new WeakMap<KubeObject, Map<string, number>>();

function readRestartCount(pod: KubeObject | undefined, container: string): number {
  const statuses = ((pod?.status as Obj | undefined)?.['containerStatuses'] as Array<{ name?: string; restartCount?: number }> | undefined) ?? [];
  return statuses.find((c) => c.name === container)?.restartCount ?? 0;
}
