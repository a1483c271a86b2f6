import { z } from 'zod';
import { DnsName, documentSchema, Duration, Percent, ServiceRef } from '../model/index.js';

const duration = Duration.optional().describe('How long the fault stays injected; unset means until the step ends.');

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

export const CertExpiry = fault(
  'cert-expiry',
  { lifetime: Duration.describe('Workload certificate lifetime installed before the signer stops.') },
  'Short certificate lifetimes plus a stopped signer: certificates expire within the game day.',
);

export const FaultSpec = z
  .discriminatedUnion('type', [CaLoss, ControlPlanePartition, ControlPlaneCrash, InjectorOutage, ProxyCrash, HttpFault, NodeLoss, CertExpiry])
  .describe('A mesh-specific fault from the catalogue, selected by type.');
export type FaultSpec = z.infer<typeof FaultSpec>;

export const FAULT_TYPES = FaultSpec.options.map((option) => option.shape.type.value);

export const Fault = documentSchema('Fault', FaultSpec, 'A reusable fault definition, referenced by name from game days and suites.');
export type Fault = z.infer<typeof Fault>;
