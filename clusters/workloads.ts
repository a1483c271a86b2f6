import { DEFAULT_SERVICE_PORT, portOf, portsOf, serviceAccountOf, servicesByRef, type Topology } from '../model/index.js';
import type { KubeObject } from './kube/types.js';

/**
 * The topology's ingress gateways carry this label: the mesh twin plays them as gateways (Envoy with
 * no inbound sidecar on Istio). On a real cluster the workload stays an ordinary one; put a real
 * gateway in front of it to measure one.
 */
export const GATEWAY_ROLE_LABEL = 'meshdrill.dev/role';

/** A pod's own failure rate ("50%"): the embedded cluster's twin makes the pod fail that share. */
export const POD_ERROR_RATE_ANNOTATION = 'meshdrill.dev/error-rate';

/** The port a topology service listens on unless its document names others. */
export const SERVICE_PORT = DEFAULT_SERVICE_PORT;
/** A small HTTP server that calls its upstreams, with configurable latency and errors (nicholasjackson/fake-service). */
export const FAKE_SERVICE_IMAGE = 'nicholasjackson/fake-service:v0.26.2';

/** What a workload of the config repo lends the topology service of the same namespace and name. */
export interface LentWorkload {
  serviceAccountName?: string;
  /** The pod template's labels (selectors in policies match them). */
  labels?: Record<string, string>;
  /** Container port names by number (a Linkerd Server may select a port by its name). */
  portNames?: Record<number, string>;
}

/**
 * The topology as workloads: a Namespace per namespace, and per service a ServiceAccount (its mesh
 * identity), a Deployment (or a StatefulSet when stateful) and a Service on port 8080. Legacy
 * namespaces (meshable: false) get pods that opt out of injection. The same objects go to kind and
 * to the embedded cluster. `lent` holds what the repo's own Deployments say of the same services.
 */
export function topologyWorkloads(topology: Topology, options: { runId?: string; lent?: Map<string, LentWorkload> } = {}): KubeObject[] {
  const runLabel: Record<string, string> = options.runId ? { 'meshdrill.dev/run-id': options.runId } : {};
  const objects: KubeObject[] = [];
  const byRef = servicesByRef(topology);
  for (const ns of topology.spec.namespaces) {
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels: { 'app.kubernetes.io/part-of': topology.metadata.name, ...runLabel } } });
    const accounts = new Set<string>();
    for (const svc of ns.services) {
      const lent = options.lent?.get(`${ns.name}/${svc.name}`);
      const account = lent?.serviceAccountName ?? serviceAccountOf(svc);
      if (account !== 'default' && !accounts.has(account)) {
        accounts.add(account);
        objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: ns.name, labels: { 'app.kubernetes.io/part-of': topology.metadata.name, ...runLabel } } });
      }
    }
    for (const svc of ns.services) {
      const lent = options.lent?.get(`${ns.name}/${svc.name}`);
      const account = lent?.serviceAccountName ?? serviceAccountOf(svc);
      const labels = { ...lent?.labels, app: svc.name, 'app.kubernetes.io/name': svc.name, 'app.kubernetes.io/part-of': topology.metadata.name };
      const stateful = svc.stateful ?? ns.stateful;
      const optOut = ns.meshable ? {} : { 'sidecar.istio.io/inject': 'false', 'istio.io/dataplane-mode': 'none' };
      const upstreams = svc.calls.map((c) => {
        const [cns, cname] = c.to.split('/');
        const callee = byRef.get(c.to)?.service;
        return `http://${cname}.${cns}.svc.cluster.local:${(callee ? portOf(callee, c.port)?.port : undefined) ?? SERVICE_PORT}`;
      });
      const ports = portsOf(svc);
      const template = {
        metadata: {
          labels: { ...labels, ...optOut, ...runLabel, ...(svc.gateway ? { [GATEWAY_ROLE_LABEL]: 'gateway' } : {}) },
          ...(ns.meshable ? {} : { annotations: { 'linkerd.io/inject': 'disabled' } }),
        },
        spec: {
          serviceAccountName: account,
          containers: [
            {
              name: svc.name,
              image: FAKE_SERVICE_IMAGE,
              ports: ports.map((p) => ({ containerPort: p.port, name: lent?.portNames?.[p.port] ?? p.name })),
              env: [
                { name: 'NAME', value: `${ns.name}/${svc.name}` },
                { name: 'LISTEN_ADDR', value: `0.0.0.0:${ports[0]!.port}` },
                { name: 'UPSTREAM_URIS', value: upstreams.join(',') },
                { name: 'TIMING_50_PERCENTILE', value: svc.latency.p50 },
                { name: 'TIMING_99_PERCENTILE', value: svc.latency.p99 },
                { name: 'ERROR_RATE', value: String(Number(svc.errorRate.replace('%', '')) / 100) },
                { name: 'ERROR_CODE', value: '500' },
              ],
            },
          ],
        },
      };
      const workloadLabels = { app: svc.name, 'app.kubernetes.io/name': svc.name, 'app.kubernetes.io/part-of': topology.metadata.name, ...runLabel };
      // One workload per version, its pods labelled version=<name> (the bookinfo reviews pattern).
      const versions = svc.versions ?? [undefined];
      for (const version of versions) {
        const versioned = version
          ? {
              ...template,
              metadata: {
                ...template.metadata,
                labels: { ...template.metadata.labels, version: version.name },
                annotations: { ...template.metadata.annotations, ...(version.errorRate ? { [POD_ERROR_RATE_ANNOTATION]: version.errorRate } : {}) },
              },
            }
          : template;
        objects.push({
          apiVersion: 'apps/v1',
          kind: stateful ? 'StatefulSet' : 'Deployment',
          metadata: { name: version ? `${svc.name}-${version.name}` : svc.name, namespace: ns.name, labels: { ...workloadLabels, ...(version ? { version: version.name } : {}) } },
          spec: {
            replicas: version ? version.replicas : svc.replicas,
            selector: { matchLabels: { app: svc.name, ...(version ? { version: version.name } : {}) } },
            template: versioned,
            ...(stateful ? { serviceName: svc.name, podManagementPolicy: 'Parallel' } : {}),
          },
        });
      }
      objects.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: svc.name, namespace: ns.name, labels: { app: svc.name, 'app.kubernetes.io/name': svc.name, 'app.kubernetes.io/part-of': topology.metadata.name, ...runLabel } },
        spec: { selector: { app: svc.name }, ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port })) },
      });
    }
  }
  return objects;
}
