import { parse } from 'yaml';
import type { KubeObject } from '../api/types.js';

/** The label istiod finds remote secrets by (istioctl create-remote-secret sets it). */
export const REMOTE_SECRET_LABEL = 'istio/multiCluster';

/**
 * The API servers a remote secret's kubeconfigs name: each data key holds one cluster's
 * kubeconfig (istioctl create-remote-secret; pilot/pkg/secretcontroller reads every key). A value
 * that is not a kubeconfig names nothing; istiod logs it and skips it.
 */
export function remoteSecretServers(secret: KubeObject): string[] {
  const data = (secret['data'] as Record<string, string> | undefined) ?? {};
  const servers: string[] = [];
  for (const value of Object.values(data)) {
    try {
      const config = parse(Buffer.from(value, 'base64').toString('utf8')) as { clusters?: Array<{ cluster?: { server?: string } }> } | null;
      for (const cluster of config?.clusters ?? []) if (typeof cluster.cluster?.server === 'string') servers.push(cluster.cluster.server);
    } catch {
      // Not YAML: nothing to read.
    }
  }
  return servers;
}
