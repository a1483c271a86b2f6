import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { ClusterError } from '../core/index.js';
import type { KubeClient } from './kube/types.js';

/**
 * Which cluster a run changed, recorded in its journal so that `cleanup` can refuse any other.
 * The kube-system namespace's uid is the identity: it survives renamed contexts, new API server
 * addresses and kubeconfig files; the server and CA say where the cluster was reached.
 */
export interface ClusterIdentity {
  /** The API server URL the context points at. */
  server: string;
  /** SHA-256 (hex) of the CA bundle the kubeconfig trusts for it, when it names one. */
  caFingerprint?: string;
  /** The uid of the kube-system namespace. */
  kubeSystemUid: string;
  /** The context the run used. */
  context: string;
}

interface KubeconfigDocument {
  'current-context'?: string;
  contexts?: Array<{ name: string; context?: { cluster?: string } }>;
  clusters?: Array<{ name: string; cluster?: { server?: string; 'certificate-authority-data'?: string } }>;
}

/** The context a kubeconfig names (or its current one), its server and the fingerprint of its CA. */
export function kubeconfigTarget(kubeconfig: string, context?: string): { context: string; server: string; caFingerprint?: string } {
  const config = (parse(kubeconfig) ?? {}) as KubeconfigDocument;
  const name = context ?? config['current-context'];
  const entry = config.contexts?.find((c) => c.name === name);
  if (!name || !entry) throw new ClusterError(`the kubeconfig has no context ${name ? `"${name}"` : '(and no current-context)'}; contexts: ${(config.contexts ?? []).map((c) => c.name).join(', ') || 'none'}`);
  const cluster = config.clusters?.find((c) => c.name === entry.context?.cluster)?.cluster;
  if (!cluster?.server) throw new ClusterError(`context "${name}" names cluster "${entry.context?.cluster ?? ''}", which the kubeconfig does not define`);
  const ca = cluster['certificate-authority-data'];
  return { context: name, server: cluster.server.replace(/\/$/, ''), ...(ca ? { caFingerprint: createHash('sha256').update(Buffer.from(ca, 'base64')).digest('hex') } : {}) };
}

/** The contexts a kubeconfig holds, in order. */
export function kubeconfigContexts(kubeconfig: string): string[] {
  return (((parse(kubeconfig) ?? {}) as KubeconfigDocument).contexts ?? []).map((c) => c.name);
}

/** Reads the identity of the cluster a client reaches. */
export async function clusterIdentity(kube: KubeClient, kubeconfig: string, context?: string): Promise<ClusterIdentity> {
  const target = kubeconfigTarget(kubeconfig, context);
  const namespace = await kube.get('v1', 'Namespace', undefined, 'kube-system');
  const uid = namespace?.metadata.uid;
  if (!uid) throw new ClusterError(`the cluster at ${target.server} has no kube-system namespace to identify it by`);
  return { ...target, kubeSystemUid: uid };
}

/** Why `actual` is not the cluster `recorded` names, or undefined when it is. */
export function identityMismatch(recorded: ClusterIdentity, actual: ClusterIdentity): string | undefined {
  if (recorded.kubeSystemUid === actual.kubeSystemUid) return undefined;
  return `it was written on the cluster at ${recorded.server} (context "${recorded.context}", kube-system uid ${recorded.kubeSystemUid}), and the cluster at ${actual.server} (context "${actual.context}") is another one (kube-system uid ${actual.kubeSystemUid})`;
}
