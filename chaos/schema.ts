import { z } from 'zod';
import { DnsName, documentSchema, Duration, Percent, ServiceRef } from '../model/index.js';

const duration = Duration.optional().describe('How long the fault stays injected; unset: until a later step reverts it by name (revert: <name>) or the run ends.');

function fault<T extends string, S extends z.ZodRawShape>(type: T, shape: S, description: string) {
  return z
    .object({ type: z.literal(type), name: DnsName.optional().describe('Label for reports.'), duration, ...shape })
    .strict()
    .describe(description);
}

export const CaLoss = fault(
  'ca-loss',
  {
    variant: z
      .enum(['signer-unavailable', 'root-replaced', 'secret-deleted'])
      .default('signer-unavailable')
      .describe('signer-unavailable: the CA stops signing; root-replaced: a new root without overlap; secret-deleted: the CA secret is deleted.'),
  },
  'The mesh CA is lost: existing certificates serve until expiry, renewals and new pods fail.',
);

export const ControlPlanePartition = fault(
  'control-plane-partition',
  { namespaces: z.array(DnsName).min(1, { error: 'expected at least one namespace' }).describe('Data-plane namespaces cut off from the control plane.') },
  'A NetworkPolicy cuts the named namespaces off from the control plane; the API server stays reachable.',
);

export const ControlPlaneCrash = fault(
  'control-plane-crash',
  {
    method: z.enum(['delete-pods', 'scale-to-zero']).default('scale-to-zero'),
    pods: z.int().min(1).optional().describe('delete-pods: how many of the control plane\'s pods go (default all): one of two replicas is what high availability must absorb.'),
    every: Duration.optional().describe('Repeat the crash at this interval while the fault lasts.'),
  },
  'Control-plane pods are deleted or scaled to zero; webhook failurePolicy decides pod creation.',
);

export const InjectorOutage = fault('injector-outage', {}, 'The sidecar injector webhook is unreachable.');

export const ProxyCrash = fault(
  'proxy-crash',
  {
    namespaces: z.array(DnsName).min(1, { error: 'expected at least one namespace' }),
    share: Percent.default('25%').describe('Share of meshed pods whose proxy is restarted.'),
  },
  'Proxies are killed in a share of the pods of the named namespaces.',
);

export const HttpFault = fault(
  'http-fault',
  {
    destination: ServiceRef.describe('The service whose callers see the fault.'),
    delay: z.object({ fixed: Duration, percentage: Percent }).strict().optional(),
    abort: z.object({ httpStatus: z.int().min(400).max(599), percentage: Percent }).strict().optional(),
  },
  'A delay or abort for a share of requests, applied at the callers\' proxies.',
);

export const NodeLoss = fault(
  'node-loss',
  { nodes: z.int().min(1).default(1).describe('How many worker nodes go NotReady.') },
  'Nodes are lost; pods are rescheduled and endpoints updated.',
);

export const RegionLoss = fault(
  'region-loss',
  { cluster: DnsName.describe('The fleet\'s cluster whose region goes down.') },
  'A regional outage in a fleet: every node of one cluster stops at once. Its pods stop answering; the other clusters\' callers find out through connect timeouts until Kubernetes marks the nodes NotReady and their endpoints go.',
);

export const CertExpiry = fault(
  'cert-expiry',
  { lifetime: Duration.describe('Workload certificate lifetime installed before the signer stops.') },
  'Short certificate lifetimes plus a stopped signer: certificates expire within the game day.',
);

const Quantity = (example: string) => z.string().regex(/^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, { error: `expected a Kubernetes quantity like "${example}"` });

export const ProxyCpuSaturation = fault(
  'proxy-cpu-saturation',
  {
    namespaces: z.array(DnsName).min(1, { error: 'expected at least one namespace' }).describe('Meshed namespaces whose workloads get the lower limit (their pods restart to take it).'),
    limit: Quantity('50m').default('20m').describe('The proxy container\'s CPU limit during the fault.'),
  },
  'The sidecars\' CPU limit is cut: a proxy short of CPU queues its requests, and past saturation sheds them.',
);

export const ProxyMemoryLeak = fault(
  'proxy-memory-leak',
  {
    namespaces: z.array(DnsName).min(1, { error: 'expected at least one namespace' }).describe('Meshed namespaces whose workloads get the lower limit (their pods restart to take it).'),
    limit: Quantity('64Mi').default('32Mi').describe('The proxy container\'s memory limit during the fault: below what the proxy uses, it is OOM-killed and restarted.'),
  },
  'A proxy\'s memory reaches its limit: the container is OOM-killed and restarted (CrashLoopBackOff), and its pod serves nothing while it is down.',
);

export const CircuitBreaker = fault(
  'circuit-breaker',
  {
    destination: ServiceRef.describe('The service whose callers\' connection pools are tightened.'),
    maxConnections: z.int().min(1).default(1).describe('connectionPool.tcp.maxConnections.'),
    maxPendingRequests: z.int().min(1).default(1).describe('connectionPool.http.http1MaxPendingRequests.'),
  },
  'A DestinationRule\'s connection pool is tightened until the callers\' circuit breakers trip (503 UO).',
);

export const TelemetryDrop = fault(
  'telemetry-drop',
  {
    namespaces: z.array(DnsName).min(1, { error: 'expected at least one namespace' }).describe('Namespaces whose proxies Prometheus can no longer scrape.'),
    prometheusNamespace: DnsName.default('meshdrill-monitoring').describe('Where the Prometheus that scrapes the mesh runs.'),
  },
  'The metrics pipeline loses the mesh\'s targets in the named namespaces: gates there must go Inconclusive, never pass.',
);

export const RoutingLoop = fault(
  'routing-loop',
  {
    services: z.tuple([ServiceRef, ServiceRef]).describe('Two services whose routes send each one\'s requests to the other.'),
  },
  'Two routes that send each service\'s requests to the other (VirtualServices on Istio, HTTPRoutes on Linkerd).',
);

export const ZonePartition = fault(
  'zone-partition',
  {
    zone: z.string().min(1).optional().describe('The zone (topology.kubernetes.io/zone of the nodes) cut off from the rest.'),
    nodes: z.array(z.string().min(1)).min(1).optional().describe('Or the nodes cut off, by name.'),
  },
  'The pods on a zone\'s nodes are cut off from every pod elsewhere (NetworkPolicy on labelled pods); pods on either side still reach their own side.',
);

export const MtlsRelaxation = fault(
  'mtls-relaxation',
  {
    namespaces: z.array(DnsName).min(1, { error: 'expected at least one namespace' }).describe('Namespaces whose mTLS is relaxed.'),
    plaintext: z.boolean().default(false).describe('Istio: also make the callers\' sidecars send plaintext (DestinationRule tls DISABLE), which is what carries traffic once certificates have expired.'),
  },
  'The emergency relaxation an on-call applies: PERMISSIVE in place of STRICT (and, asked for, plaintext from the callers). A game day applies and removes it, and asserts that it did not outlive the incident (assert mtlsAsPlanned).',
);

export const FaultSpec = z
  .discriminatedUnion('type', [CaLoss, ControlPlanePartition, ControlPlaneCrash, InjectorOutage, ProxyCrash, HttpFault, NodeLoss, RegionLoss, CertExpiry, ProxyCpuSaturation, ProxyMemoryLeak, CircuitBreaker, TelemetryDrop, RoutingLoop, ZonePartition, MtlsRelaxation])
  .describe('A mesh-specific fault from the catalogue, selected by type.');
export type FaultSpec = z.infer<typeof FaultSpec>;

export const FAULT_TYPES = FaultSpec.options.map((option) => option.shape.type.value);

export const Fault = documentSchema('Fault', FaultSpec, 'A reusable fault definition, referenced by name from game days and suites.');
export type Fault = z.infer<typeof Fault>;
