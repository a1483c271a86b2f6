import { z } from 'zod';

/**
 * Linkerd's policy kinds, written from Linkerd's reference pages (authorization-policy,
 * egress-network) because no published model package for them can be installed here. Unknown
 * fields are refused, as `kubectl apply` (strict field validation) refuses them.
 * https://linkerd.io/2-edge/reference/authorization-policy/ ; https://linkerd.io/2-edge/reference/egress-network/
 */
const LabelSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z.array(z.object({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).optional() }).strict()).optional(),
  })
  .strict();

const Ref = z.object({ group: z.string().optional(), kind: z.string(), name: z.string().optional(), namespace: z.string().optional() }).strict();
const Network = z.object({ cidr: z.string().min(1), except: z.array(z.string()).optional() }).strict();
const Port = z.union([z.int().min(1).max(65_535), z.string().min(1)]);
const ProxyProtocol = z.enum(['unknown', 'HTTP/1', 'HTTP/2', 'gRPC', 'opaque', 'TLS']);

const ServerSpec = z
  .object({
    podSelector: LabelSelector.optional(),
    externalWorkloadSelector: LabelSelector.optional(),
    port: Port,
    proxyProtocol: ProxyProtocol.optional(),
    accessPolicy: z.enum(['all-unauthenticated', 'all-authenticated', 'cluster-authenticated', 'cluster-unauthenticated', 'deny', 'audit']).optional(),
  })
  .strict()
  .refine((s) => (s.podSelector === undefined) !== (s.externalWorkloadSelector === undefined), { error: 'expected exactly one of podSelector and externalWorkloadSelector' });

const SPECS: Record<string, z.ZodType> = {
  Server: ServerSpec,
  AuthorizationPolicy: z.object({ targetRef: Ref.extend({ name: z.string().min(1) }), requiredAuthenticationRefs: z.array(Ref) }).strict(),
  MeshTLSAuthentication: z
    .object({ identities: z.array(z.string().min(1)).optional(), identityRefs: z.array(Ref).optional() })
    .strict()
    .refine((s) => (s.identities === undefined) !== (s.identityRefs === undefined), { error: 'expected exactly one of identities and identityRefs' }),
  NetworkAuthentication: z.object({ networks: z.array(Network).min(1) }).strict(),
  EgressNetwork: z.object({ trafficPolicy: z.enum(['Allow', 'Deny']), networks: z.array(Network).optional() }).strict(),
};

/** The Linkerd policy kinds meshdrill validates; others of policy.linkerd.io stay unchecked. */
export function linkerdSpecSchema(kind: string): z.ZodType | undefined {
  return SPECS[kind];
}

/** Problems with a Linkerd policy object's spec, as `spec.field: message`; empty when valid. */
export function linkerdProblems(kind: string, spec: unknown): string[] | undefined {
  const schema = linkerdSpecSchema(kind);
  if (!schema) return undefined;
  const result = schema.safeParse(spec);
  if (result.success) return [];
  return result.error.issues.map((i) => `${['spec', ...i.path.map(String)].join('.')}: ${i.message}`);
}
