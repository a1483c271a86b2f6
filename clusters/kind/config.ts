import { stringify } from 'yaml';
import { ConfigError } from '../../core/index.js';

/**
 * Node images by Kubernetes minor version: the image the kind release that shipped it publishes,
 * pinned by digest. kind's release notes: "You must use the @sha256 digest to guarantee an image
 * built for this release" (a tag is rebuilt for later kind releases). Digests from the release
 * notes of kind v0.25.0 (1.31), v0.27.0 (1.32), v0.29.0 (1.33), v0.30.0 (1.34), v0.31.0 (1.35)
 * and v0.32.0 (1.36); mesh-facts §3.1. A full version ("1.33.1") is looked up the same way, and
 * used by tag only when no digest is known for it.
 */
export const NODE_IMAGES: Record<string, string> = {
  '1.31': 'kindest/node:v1.31.2@sha256:18fbefc20a7113353c7b75b5c869d7145a6abd6269154825872dc59c1329912e',
  '1.32': 'kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f',
  '1.33': 'kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f',
  '1.34': 'kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a',
  '1.35': 'kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f',
  '1.36': 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5',
};

export const DEFAULT_KUBERNETES = '1.34';

export function nodeImage(version: string | undefined): string {
  const v = (version ?? DEFAULT_KUBERNETES).replace(/^v/, '');
  if (/^\d+\.\d+\.\d+$/.test(v)) return Object.values(NODE_IMAGES).find((image) => image.startsWith(`kindest/node:v${v}@`)) ?? `kindest/node:v${v}`;
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
