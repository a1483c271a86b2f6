import { stringify } from 'yaml';

export { DEFAULT_KUBERNETES, NODE_IMAGES, nodeImage } from '../images.js';
import { nodeImage } from '../images.js';

export interface KindClusterOptions {
  name: string;
  workers: number;
  kubernetesVersion?: string;
  /** Distinct per cluster when several share the kind network (Istio multicluster needs it). */
  podSubnet?: string;
  serviceSubnet?: string;
  /** On the control-plane node: host ports into the node (kind's extraPortMappings). */
  portMappings?: Array<{ containerPort: number; hostPort: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }>;
}

/** The kind cluster config (kind.x-k8s.io/v1alpha4) meshdrill creates clusters from. */
export function kindConfig(options: KindClusterOptions): Record<string, unknown> {
  const image = nodeImage(options.kubernetesVersion);
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: options.name,
    networking: {
      // kindnet enforces NetworkPolicy from kind v0.24 on: control-plane partitions need it (mesh-facts §3.2).
      disableDefaultCNI: false,
      ...(options.podSubnet ? { podSubnet: options.podSubnet } : {}),
      ...(options.serviceSubnet ? { serviceSubnet: options.serviceSubnet } : {}),
    },
    nodes: [{ role: 'control-plane', image, ...(options.portMappings?.length ? { extraPortMappings: options.portMappings.map((p) => ({ ...p, listenAddress: '127.0.0.1' })) } : {}) }, ...Array.from({ length: options.workers }, () => ({ role: 'worker', image }))],
  };
}

export function kindConfigYaml(options: KindClusterOptions): string {
  return stringify(kindConfig(options));
}
