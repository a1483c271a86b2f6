import { ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { ClusterError } from '../../core/index.js';
import type { KubeClient, KubeObject } from './types.js';

const FIELD_MANAGER = 'meshdrill';

/** A KubeClient over @kubernetes/client-node for a kubeconfig (YAML text) and optional context. */
export function createKubeClient(kubeconfig: string, context?: string): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  if (context) kc.setCurrentContext(context);
  const api = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const header = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => ({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } });
  return {
    async get(apiVersion, kind, namespace, name) {
      try {
        return (await api.read(header(apiVersion, kind, namespace, name))) as unknown as KubeObject;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw toClusterError(error, `get ${kind} ${name}`);
      }
    },
    async list(apiVersion, kind, options = {}) {
      try {
        const result = await api.list(apiVersion, kind, options.namespace, undefined, undefined, undefined, undefined, options.labelSelector);
        return result.items as unknown as KubeObject[];
      } catch (error) {
        throw toClusterError(error, `list ${kind}`);
      }
    },
    async apply(object) {
      try {
        return (await api.patch(object as never, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)) as unknown as KubeObject;
      } catch (error) {
        throw toClusterError(error, `apply ${object.kind} ${object.metadata.name}`);
      }
    },
    async mergePatch(apiVersion, kind, namespace, name, patch) {
      try {
        const body = { ...header(apiVersion, kind, namespace, name), ...patch, metadata: { ...header(apiVersion, kind, namespace, name).metadata, ...((patch['metadata'] as object | undefined) ?? {}) } };
        return (await api.patch(body as never, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch)) as unknown as KubeObject;
      } catch (error) {
        throw toClusterError(error, `patch ${kind} ${name}`);
      }
    },
    async logs(namespace, pod, container) {
      try {
        return await core.readNamespacedPodLog({ namespace, name: pod, ...(container ? { container } : {}) });
      } catch (error) {
        throw toClusterError(error, `logs of pod ${namespace}/${pod}`);
      }
    },
    async delete(apiVersion, kind, namespace, name) {
      try {
        await api.delete(header(apiVersion, kind, namespace, name), undefined, undefined, undefined, undefined, 'Background');
        return true;
      } catch (error) {
        if (statusOf(error) === 404) return false;
        throw toClusterError(error, `delete ${kind} ${name}`);
      }
    },
  };
}

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** Converts a client-node failure once, here at the edge; the message never carries request headers. */
function toClusterError(error: unknown, what: string): ClusterError {
  if (error instanceof ApiException) {
    let message = String(error.body ?? '');
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // keep the raw body
    }
    return new ClusterError(`${what}: ${error.code} ${message}`.trim(), { cause: error });
  }
  return new ClusterError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
