import type { PrometheusClient } from './prometheus-client.js';

/** A call between two services as the mesh's telemetry saw it, in requests per second. */
export interface ObservedCall {
  from: string;
  to: string;
  rps: number;
}

export interface ObservedCallGraph {
  /** Calls whose caller the mesh could name: a meshed client's proxy reported them. */
  calls: ObservedCall[];
  /**
   * Requests into a meshed service from callers without a mesh identity: unmeshed workloads, or
   * traffic from outside the cluster. Telemetry cannot say which; the topology's author can.
   */
  unattributed: Array<{ to: string; rps: number }>;
}

/**
 * The PromQL that finds the call graph.
 * - Istio: the client proxy reports every call it makes (reporter="source", with the destination
 *   service); the server proxy reports callers without a peer identity as source_workload="unknown".
 *   https://istio.io/latest/docs/reference/config/metrics/
 * - Linkerd: the client proxy's outbound request_total names the destination deployment (dst_*);
 *   inbound requests carry tls="true" only over mTLS.
 *   https://linkerd.io/2/reference/proxy-metrics/
 */
export function callGraphQueries(mesh: 'istio' | 'linkerd', window: string): { named: string; unattributed: string } {
  if (mesh === 'istio') {
    return {
      named: `sum by (source_workload_namespace, source_workload, destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter="source"}[${window}]))`,
      unattributed: `sum by (destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter="destination", source_workload="unknown"}[${window}]))`,
    };
  }
  return {
    named: `sum by (namespace, deployment, dst_namespace, dst_deployment) (rate(request_total{direction="outbound"}[${window}]))`,
    unattributed: `sum by (namespace, deployment) (rate(request_total{direction="inbound", tls!="true"}[${window}]))`,
  };
}

/** Reads the call graph from the mesh's own metrics over `window` (a PromQL duration) ending at `at`. */
export async function observeCallGraph(prometheus: PrometheusClient, mesh: 'istio' | 'linkerd', options: { window: string; at?: number }): Promise<ObservedCallGraph> {
  const queries = callGraphQueries(mesh, options.window);
  const [named, unattributed] = await Promise.all([prometheus.query(queries.named, options.at), prometheus.query(queries.unattributed, options.at)]);
  const ref = (ns: string | undefined, name: string | undefined) => (ns && name && ns !== 'unknown' && name !== 'unknown' ? `${ns}/${name}` : undefined);
  const calls: ObservedCall[] = [];
  for (const s of named) {
    const m = s.metric;
    const from = mesh === 'istio' ? ref(m['source_workload_namespace'], m['source_workload']) : ref(m['namespace'], m['deployment']);
    const to = mesh === 'istio' ? ref(m['destination_service_namespace'], m['destination_service_name']) : ref(m['dst_namespace'], m['dst_deployment']);
    if (from && to && from !== to && s.value > 0) calls.push({ from, to, rps: s.value });
  }
  const inbound: Array<{ to: string; rps: number }> = [];
  for (const s of unattributed) {
    const m = s.metric;
    const to = mesh === 'istio' ? ref(m['destination_service_namespace'], m['destination_service_name']) : ref(m['namespace'], m['deployment']);
    if (to && s.value > 0) inbound.push({ to, rps: s.value });
  }
  const byRef = (a: { to: string }, b: { to: string }) => a.to.localeCompare(b.to);
  return { calls: calls.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)), unattributed: inbound.sort(byRef) };
}
