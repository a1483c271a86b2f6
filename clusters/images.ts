import { ConfigError } from '../core/index.js';

// The images kind and k3s clusters are made from, by Kubernetes version: config (validate refuses
// an unknown version) as much as provisioning, so they live on their own, light to load.

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

/**
 * k3s images by Kubernetes minor version (rancher/k3s tags, one per k3s release). k3s ships an
 * embedded NetworkPolicy controller (kube-router's), so control-plane partitions work as on kind.
 * https://docs.k3s.io/networking/basic-network-options
 */
export const K3S_IMAGES: Record<string, string> = {
  '1.32': 'rancher/k3s:v1.32.3-k3s1',
  '1.33': 'rancher/k3s:v1.33.1-k3s1',
  '1.34': 'rancher/k3s:v1.34.1-k3s1',
  '1.35': 'rancher/k3s:v1.35.0-k3s1',
};
export const DEFAULT_K3S_KUBERNETES = '1.34';

export function k3sImage(version: string | undefined): string {
  const v = (version ?? DEFAULT_K3S_KUBERNETES).replace(/^v/, '');
  if (/^\d+\.\d+\.\d+$/.test(v)) return `rancher/k3s:v${v}-k3s1`;
  const image = K3S_IMAGES[v];
  if (!image) throw new ConfigError(`kubernetesVersion "${version}": no k3s image known for it; give a full version like "1.33.1", or one of ${Object.keys(K3S_IMAGES).join(', ')}`);
  return image;
}
