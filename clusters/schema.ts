import { z } from 'zod';
import { DnsName, documentSchema, Duration, Percent } from '../model/index.js';

export const PROVIDERS = ['sim', 'kind', 'kubeconfig', 'k3s'] as const;

export const ClusterSpecBody = z
  .object({
    provider: z.enum(PROVIDERS).default('sim').describe('sim: the embedded cluster; kind or k3s: a Docker-based cluster meshdrill creates; kubeconfig: an existing cluster.'),
    nodes: z.int().min(1).max(100).default(3).describe('Worker nodes (sim, kind, k3s).'),
    kubernetesVersion: z
      .string()
      .regex(/^v?\d+\.\d+(\.\d+)?$/, { error: 'expected a Kubernetes version like "1.31" or "v1.31.2"' })
      .optional()
      .describe('Kubernetes version of the node image.'),
    kubeconfig: z
      .object({
        path: z.string().min(1).optional().describe('Defaults to $KUBECONFIG or ~/.kube/config.'),
        context: z.string().min(1).describe('The context to use; never the current one implicitly.'),
      })
      .strict()
      .optional()
      .describe('Required for provider kubeconfig.'),
    allowChaos: z.boolean().default(false).describe('Allow faults on a kubeconfig cluster; sim, kind and k3s always allow them.'),
    images: z.array(z.string().min(1)).optional().describe('kind: local Docker images loaded into the nodes (`kind load docker-image`) before anything is deployed, e.g. your own build of the test server.'),
    portMappings: z
      .array(
        z
          .object({
            containerPort: z.int().min(1).max(65_535).describe('Port on the node, e.g. a NodePort of an ingress gateway.'),
            hostPort: z.int().min(1).max(65_535).describe('Port on this machine.'),
            protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
          })
          .strict(),
      )
      .optional()
      .describe('kind: extra port mappings on the control-plane node, so a NodePort is reachable from this machine.'),
    fleet: z
      .object({
        clusters: z
          .array(z.object({ name: DnsName.describe('The cluster\'s name (its context, and what region-loss names).'), region: z.string().min(1).max(63).describe('Its region: the nodes\' topology.kubernetes.io/region.') }).strict())
          .min(2, { error: 'a fleet is two clusters or more' })
          .max(5)
          .describe('The fleet\'s clusters; the first is where measurements are read.'),
        crossClusterLatency: Duration.default('30ms').describe('What a request to a pod in another cluster takes more than one to a pod in its own (the regions\' round trip).'),
        entry: z.record(DnsName, Percent).optional().describe('How a global load balancer splits the entrypoints\' load across the clusters, e.g. {west: "100%"}; default: all into the first.'),
      })
      .strict()
      .optional()
      .describe('sim: several embedded clusters as one Istio multi-primary mesh on one network — one root CA with an intermediate per cluster, remote secrets between their istiods, the topology deployed and meshed in each.'),
  })
  .strict();

export const ClusterSpec = documentSchema('Cluster', ClusterSpecBody, 'Where a game day, suite or gate runs.');
export type ClusterSpec = z.infer<typeof ClusterSpec>;

// The versions the providers can make, checked by validate as the providers check them.
export { k3sImage, nodeImage } from './images.js';
