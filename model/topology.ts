import { z } from 'zod';
import { DnsName, documentSchema } from './document.js';
import { Duration, Percent } from './quantity.js';

export const SERVICE_REF_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const ServiceRef = z
  .string()
  .regex(SERVICE_REF_PATTERN, { error: 'expected a service reference like "payments/api" (namespace/service)' })
  .describe('A service of the topology, written "namespace/service".');

export const LatencyProfile = z
  .object({
    p50: Duration.describe('Median latency of the service itself, without downstream calls or proxy hops.'),
    p99: Duration.describe('99th percentile latency of the service itself; the tail of a log-normal fitted to p50 and p99.'),
  })
  .strict()
  .describe('Latency of a service, before mesh overhead and downstream calls.');

export const Call = z
  .object({
    to: ServiceRef.describe('The callee, "namespace/service".'),
    share: Percent.default('100%').describe('Share of this service\'s incoming requests that make this call.'),
  })
  .strict()
  .describe('An edge of the call graph.');

export const Service = z
  .object({
    name: DnsName.describe('Service name, unique within its namespace.'),
    replicas: z.int().min(1).max(1000).default(2).describe('Pods behind the service.'),
    protocol: z.enum(['http', 'grpc', 'tcp']).default('http').describe('What the service speaks; tcp services have no L7 metrics.'),
    stateful: z.boolean().optional().describe('A StatefulSet rather than a Deployment; defaults to the namespace\'s flag.'),
    latency: LatencyProfile.default({ p50: '5ms', p99: '25ms' }),
    errorRate: Percent.default('0%').describe('Share of requests the service itself fails with a 5xx, before any mesh effect.'),
    calls: z.array(Call).default([]).describe('Downstream calls made while serving a request.'),
    gateway: z
      .boolean()
      .default(false)
      .describe('An ingress gateway: traffic from outside enters here. Meshed, it is a proxy with no inbound sidecar (Istio\'s gateway: PeerAuthentication does not govern what it accepts, it calls inward with mTLS; Linkerd: an ingress controller in ingress mode, its inbound policy still applies).'),
  })
  .strict()
  .describe('A service of the topology: a workload with its pods and its calls.');

export const Namespace = z
  .object({
    name: DnsName.describe('Kubernetes namespace name.'),
    stateful: z.boolean().default(false).describe('Holds stateful workloads (databases, queues); meshing them needs an explicit opt-in.'),
    meshable: z.boolean().default(true).describe('False when the workloads cannot take a proxy (legacy clients); they stay plaintext.'),
    services: z.array(Service).min(1, { error: 'expected at least one service' }),
  })
  .strict()
  .describe('A namespace and the services in it.');

export const Entrypoint = z
  .object({
    service: ServiceRef.describe('Where outside traffic enters, "namespace/service".'),
    rps: z.number().positive().max(1_000_000).describe('Requests per second arriving from outside the mesh.'),
  })
  .strict()
  .describe('Traffic entering the topology from outside.');

export const TopologySpec = z
  .object({
    namespaces: z.array(Namespace).min(1, { error: 'expected at least one namespace' }),
    entrypoints: z.array(Entrypoint).min(1, { error: 'expected at least one entrypoint' }),
  })
  .strict();

export const Topology = documentSchema(
  'Topology',
  TopologySpec,
  'The workloads a migration moves onto the mesh: namespaces, services, their call graph and load.',
);
export type Topology = z.infer<typeof Topology>;
export type TopologyService = z.infer<typeof Service>;
export type TopologyNamespace = z.infer<typeof Namespace>;

/** Every service keyed by "namespace/service". */
export function servicesByRef(topology: Topology): Map<string, { namespace: TopologyNamespace; service: TopologyService }> {
  const out = new Map<string, { namespace: TopologyNamespace; service: TopologyService }>();
  for (const namespace of topology.spec.namespaces) {
    for (const service of namespace.services) out.set(`${namespace.name}/${service.name}`, { namespace, service });
  }
  return out;
}
