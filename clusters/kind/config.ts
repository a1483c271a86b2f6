import { stringify } from 'yaml';
import { ConfigError } from '../../harness/errors.js';

/**
 * Node images by Kubernetes minor version: the default image of the kind release that shipped it
 * (kind's release notes; `pkg/apis/config/defaults/image.go`, mesh-facts §3.1). A full version
 * ("1.33.1") is used as given.
 */
export const NODE_IMAGES: Record<string, string> = {
  '1.31': 'kindest/node:v1.31.2',
  '1.32': 'kindest/node:v1.32.2',
  '1.33': 'kindest/node:v1.33.1',
  '1.34': 'kindest/node:v1.34.0',
  '1.35': 'kindest/node:v1.35.0',
  '1.36': 'kindest/node:v1.36.1',
};

export const DEFAULT_KUBERNETES = '1.34';

export function nodeImage(version: string | undefined): string {
  const v = (version ?? DEFAULT_KUBERNETES).replace(/^v/, '');
  if (/^\d+\.\d+\.\d+$/.test(v)) return `kindest/node:v${v}`;
  const image = NODE_IMAGES[v];
  if (!image) throw new ConfigError(`kubernetesVersion "${version}": no kind node image known for it; give a full version like "1.33.1", or one of ${Object.keys(NODE_IMAGES).join(', ')}`);
  return image;
}

export interface KindClusterOptions {
  name: string;
  workers: number;
  kubernetesVersion?: string;
  /** Distinct per cluster when several share the kind network (Istio multicluster needs it). */
  podSubnet?: string;
  serviceSubnet?: string;
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
    nodes: [{ role: 'control-plane', image }, ...Array.from({ length: options.workers }, () => ({ role: 'worker', image }))],
  };
}

export function kindConfigYaml(options: KindClusterOptions): string {
  return stringify(kindConfig(options));
}
