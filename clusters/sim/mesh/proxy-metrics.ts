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

  constructor(private readonly twin: MeshTwin) {}

  /** One tick's series for every started proxy; `costs` is what each proxy carried (proxy-load.ts). */
  update(mesh: 'istio' | 'linkerd', now: number, tickMs: number, costs: Map<Proxy, ProxyCost>, scopeOf: (namespace: string) => number): void {
    const m = this.twin.metrics;
    const ambientByNode = new Map<string, number>();
    let ambient = false;
    for (const proxy of this.twin.proxies.values()) {
      if (!proxy.started) continue;
      if (proxy.kind === 'ambient') {
        ambient = true;
        ambientByNode.set(proxy.node, (ambientByNode.get(proxy.node) ?? 0) + (costs.get(proxy)?.used ?? 0));
        continue;
      }
      const h = this.handlesOf(mesh, proxy);
      const seen = this.twin.scrapable(proxy);
      h.up.value = seen ? 1 : 0;
      if (!seen) {
        for (const gauge of [h.cert, h.configUpdate, h.memory]) if (gauge) gauge.value = Number.NaN;
        continue;
      }
      if (proxy.cert) h.cert.value = mesh === 'istio' ? (proxy.cert.expiresAt - now) / 1000 : proxy.cert.expiresAt / 1000;
      if (proxy.lastSync !== undefined && h.configUpdate) h.configUpdate.value = proxy.lastSync;
      if (h.memory) h.memory.value = proxyMemoryBytes(proxy, scopeOf(proxy.namespace));
      if (h.cpu) h.cpu.value += ((costs.get(proxy)?.used ?? 0) * tickMs) / 1000;
      if (h.restarts) h.restarts.value = restartCount(this.twin.podByUid(proxy.uid), proxy.kind === 'istio' ? 'istio-proxy' : 'linkerd-proxy');
    }
    // Ambient has no sidecars: one ztunnel per node holds the memory, about 12 MB at 1,000 rps
    // (istio.io/docs/ops/deployment/performance-and-scalability, Istio 1.24), and the CPU of the
    // node's workloads' traffic.
    if (ambient) {
      for (const pod of this.twin.ztunnelPods()) {
        const labels = { namespace: 'istio-system', pod: pod.metadata.name, container: 'ztunnel' };
        m.gaugeHandle('container_memory_working_set_bytes', labels).value = 12 * 1_048_576;
        const node = String((pod.spec as Obj | undefined)?.['nodeName'] ?? '');
        m.inc('container_cpu_usage_seconds_total', labels, ((0.002 + (ambientByNode.get(node) ?? 0)) * tickMs) / 1000);
        m.declare('kube_pod_container_status_restarts_total', labels);
      }
    }
    if (mesh === 'istio') {
      // istiod push cost grows with proxies × config size unless Sidecar resources scope it.
      const proxies = [...this.twin.proxies.values()].filter((p) => p.kind === 'istio' && p.started);
      const work = proxies.reduce((sum, p) => sum + scopeOf(p.namespace), 0);
      const seconds = 0.005 + work * 0.00002;
      m.observe('pilot_proxy_convergence_time', {}, [0.1, 0.5, 1, 3, 5, 10, 20, 30], [0.1, 0.5, 1, 3, 5, 10, 20, 30].map((b, i, all) => (seconds <= b && (i === 0 || seconds > all[i - 1]!) ? 1 : 0)), seconds, 1);
    }
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
