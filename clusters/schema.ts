import { z } from 'zod';
import { documentSchema } from '../model/index.js';

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
  })
  .strict();

export const ClusterSpec = documentSchema('Cluster', ClusterSpecBody, 'Where a game day, suite or gate runs.');
export type ClusterSpec = z.infer<typeof ClusterSpec>;

// The versions the providers can make, checked by validate as the providers check them.
export { k3sImage, nodeImage } from './images.js';
