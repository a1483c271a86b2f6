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

/** An IANA service name, the form Kubernetes gives port names: at most 15 characters, a letter in it. */
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const PortName = z
  .string()
  .max(15, { error: 'expected a port name of at most 15 characters' })
  .regex(PORT_NAME, { error: 'expected a port name (lowercase letters, digits and "-", with at least one letter)' })
  .describe('A port name as Kubernetes takes it (IANA service name): at most 15 characters.');

export const ServicePort = z
  .object({
    name: PortName.describe('The port\'s name on the Service and the container; Istio reads the protocol from its prefix (http, grpc, tcp…), Linkerd Servers may select it by name.'),
    port: z.int().min(1).max(65535).describe('Port number, the same on the Service and the container.'),
  })
  .strict()
  .describe('A port a service listens on.');

export const RequestClass = z
  .object({
    method: z.string().regex(/^[A-Z]+$/, { error: 'expected an HTTP method in capitals, e.g. "GET"' }).default('GET').describe('HTTP method.'),
    path: z.string().regex(/^\/\S*$/, { error: 'expected a path starting with "/"' }).default('/').describe('Request path, with its query if any.'),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, { error: 'expected a header name' }), z.string()).default({}).describe('Request headers policies and routes may match on (names are case-insensitive).'),
    share: Percent.default('100%').describe('Share of the call\'s requests that look like this; the shares of a call add up to 100%.'),
  })
  .strict()
  .describe('One kind of request on an edge: what a policy or a route can tell apart.');

export const Call = z
  .object({
    to: ServiceRef.describe('The callee, "namespace/service".'),
    share: Percent.default('100%').describe('Share of this service\'s incoming requests that make this call.'),
    port: z.union([z.int().min(1).max(65535), PortName]).optional().describe('The callee\'s port, by number or name; default its first port.'),
    requests: z.array(RequestClass).min(1).optional().describe('The mix of requests on this edge; default one class, GET / on the port.'),
  })
  .strict()
  .describe('An edge of the call graph.');

/** A host outside the mesh: a DNS name with at least one dot ("api.stripe.com"). */
const EXTERNAL_HOST = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const ExternalCall = z
  .object({
    host: z.string().regex(EXTERNAL_HOST, { error: 'expected a host name outside the cluster, e.g. "api.stripe.com"' }).describe('The host called, outside the mesh.'),
    port: z.int().min(1).max(65535).default(443).describe('Its port.'),
    share: Percent.default('100%').describe('Share of this service\'s incoming requests that make this call.'),
    latency: LatencyProfile.default({ p50: '40ms', p99: '200ms' }),
  })
  .strict()
  .describe('A call to a host outside the mesh (a payment provider, a SaaS API): what egress policy (Istio ServiceEntry, Sidecar REGISTRY_ONLY, Linkerd EgressNetwork) allows or blocks.');

export const Service = z
  .object({
    name: DnsName.describe('Service name, unique within its namespace.'),
    replicas: z.int().min(1).max(1000).default(2).describe('Pods behind the service.'),
    protocol: z.enum(['http', 'grpc', 'tcp']).default('http').describe('What the service speaks; tcp services have no L7 metrics.'),
    stateful: z.boolean().optional().describe('A StatefulSet rather than a Deployment; defaults to the namespace\'s flag.'),
    latency: LatencyProfile.default({ p50: '5ms', p99: '25ms' }),
    errorRate: Percent.default('0%').describe('Share of requests the service itself fails with a 5xx, before any mesh effect.'),
    calls: z.array(Call).default([]).describe('Downstream calls made while serving a request.'),
    external: z.array(ExternalCall).default([]).describe('Calls to hosts outside the mesh made while serving a request.'),
    versions: z
      .array(
        z
          .object({
            name: DnsName.describe('The version\'s name: its pods carry the label version=<name> (what DestinationRule subsets select).'),
            replicas: z.int().min(1).max(1000).default(1).describe('Pods of this version.'),
            errorRate: Percent.optional().describe('Share of requests this version fails itself; default the service\'s.'),
          })
          .strict(),
      )
      .min(1)
      .optional()
      .describe('Versions of the service running side by side behind one Service (a Deployment each, labelled version=<name>): what routes split and subsets select. With versions, replicas is their sum.'),
    ports: z.array(ServicePort).min(1).optional().describe('Ports the service listens on; default one, named after the protocol, on 8080. (On a real cluster the stand-in workload serves the first port only.)'),
    serviceAccount: DnsName.optional().describe('The ServiceAccount its pods run as, which is its mesh identity (Istio principal cluster.local/ns/<ns>/sa/<account>, Linkerd <account>.<ns>.serviceaccount.identity.linkerd.cluster.local). Default: the service\'s name, as the Istio and Linkerd samples do; write "default" for the namespace\'s default account.'),
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
    port: z.union([z.int().min(1).max(65535), PortName]).optional().describe('The port outside traffic arrives on, by number or name; default the first.'),
    requests: z.array(RequestClass).min(1).optional().describe('The mix of requests arriving; default one class, GET /.'),
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

export type TopologyCall = z.infer<typeof Call>;
export type TopologyExternalCall = z.infer<typeof ExternalCall>;
export type TopologyRequestClass = z.infer<typeof RequestClass>;

/** The port every topology service listens on unless it says otherwise. */
export const DEFAULT_SERVICE_PORT = 8080;

/** A service's ports: its own, or one named after its protocol on 8080. */
export function portsOf(service: Pick<TopologyService, 'ports' | 'protocol'>): Array<{ name: string; port: number }> {
  return service.ports ?? [{ name: service.protocol, port: DEFAULT_SERVICE_PORT }];
}

/** The port a call or entrypoint goes to, by number or name; undefined when the service has no such port. */
export function portOf(service: Pick<TopologyService, 'ports' | 'protocol'>, port: number | string | undefined): { name: string; port: number } | undefined {
  const ports = portsOf(service);
  if (port === undefined) return ports[0];
  return ports.find((p) => (typeof port === 'number' ? p.port === port : p.name === port));
}

/** The ServiceAccount a service's pods run as: its own name unless the document says otherwise. */
export function serviceAccountOf(service: Pick<TopologyService, 'name' | 'serviceAccount'>): string {
  return service.serviceAccount ?? service.name;
}

/** Every service keyed by "namespace/service". */
export function servicesByRef(topology: Topology): Map<string, { namespace: TopologyNamespace; service: TopologyService }> {
  const out = new Map<string, { namespace: TopologyNamespace; service: TopologyService }>();
  for (const namespace of topology.spec.namespaces) {
    for (const service of namespace.services) out.set(`${namespace.name}/${service.name}`, { namespace, service });
  }
  return out;
}
