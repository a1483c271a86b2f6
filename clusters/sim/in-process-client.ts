import { ClusterError } from '../../core/index.js';
import type { KubeClient, KubeObject } from '../kube/types.js';
import { podLog, type AdminTarget } from './admin.js';
import type { ResourceType } from './api/resources.js';
import { byNamespaceName } from './api/service.js';
import { ApiError } from './api/status.js';
import { copyJson } from './api/store.js';

const FIELD_MANAGER = 'meshdrill';

/**
 * A KubeClient that calls the embedded cluster's API service in this process: the same
 * validation, defaulting, admission and optimistic concurrency as over HTTP (the HTTP handler
 * calls the same service), without encoding every object to JSON, sending it over loopback and
 * decoding it again. It is for the cluster's own runs (game days, `check`, benchmarks), where no
 * one watches the wire; kubectl, Prometheus and a served cluster's users still go through HTTP.
 * It acts as the kubeconfig's admin, as the HTTP client of an embedded cluster does.
 */
export function inProcessKubeClient(cluster: AdminTarget): KubeClient {
  const api = cluster.api;
  // Each request is its own turn, as one over HTTP is: the controllers' work queued by a write
  // settles (in a microtask) before the caller goes on.
  const call = async <T>(what: string, work: () => T): Promise<T> => {
    try {
      return work();
    } catch (error) {
      throw toClusterError(error, what);
    }
  };
  const typeOf = (apiVersion: string, kind: string, what: string): ResourceType => {
    const type = api.types.byKind(apiVersion, kind);
    if (!type) throw new ClusterError(`${what}: Unrecognized API version and kind: ${apiVersion} ${kind}`);
    return type;
  };
  // Stored objects are frozen and shared; callers get their own copy, as they would from JSON.
  // (What callers send needs none: the service copies a request's body before it changes it.)
  const out = (object: object): KubeObject => copyJson(object) as KubeObject;
  return {
    get: (apiVersion, kind, namespace, name) =>
      call(`get ${kind} ${name}`, () => {
        const found = api.find(typeOf(apiVersion, kind, `get ${kind} ${name}`), namespace, name);
        return found && out(found);
      }),
    list: (apiVersion, kind, options = {}) =>
      call(`list ${kind}`, () => api.select(typeOf(apiVersion, kind, `list ${kind}`), options.namespace, { labelSelector: options.labelSelector ?? null }).sort(byNamespaceName).map(out)),
    apply: (object) =>
      call(`apply ${object.kind} ${object.metadata.name}`, () => {
        const type = typeOf(object.apiVersion, object.kind, `apply ${object.kind} ${object.metadata.name}`);
        return out(api.patchWith(type, object.metadata.namespace, object.metadata.name, 'application/apply-patch+yaml', object, { fieldManager: FIELD_MANAGER, force: true }).object);
      }),
    create: (object) =>
      call(`create ${object.kind} ${object.metadata.name}`, () => {
        const type = typeOf(object.apiVersion, object.kind, `create ${object.kind} ${object.metadata.name}`);
        return out(api.create(type, object.metadata.namespace, object, { fieldManager: FIELD_MANAGER }).object);
      }),
    mergePatch: (apiVersion, kind, namespace, name, patch) =>
      call(`patch ${kind} ${name}`, () => {
        const type = typeOf(apiVersion, kind, `patch ${kind} ${name}`);
        const body = { apiVersion, kind, ...patch, metadata: { name, ...(namespace ? { namespace } : {}), ...((patch['metadata'] as object | undefined) ?? {}) } };
        return out(api.patchWith(type, namespace, name, 'application/merge-patch+json', body, { fieldManager: FIELD_MANAGER }).object);
      }),
    logs: (namespace, pod, container) => call(`logs of pod ${namespace}/${pod}`, () => podLog(cluster, namespace, pod, container)),
    delete: (apiVersion, kind, namespace, name) =>
      call(`delete ${kind} ${name}`, () => {
        try {
          api.delete(typeOf(apiVersion, kind, `delete ${kind} ${name}`), namespace, name, { propagationPolicy: 'Background' });
          return true;
        } catch (error) {
          if (error instanceof ApiError && error.code === 404) return false;
          throw error;
        }
      }),
  };
}

/** As the HTTP client reports a refusal: what was asked, the status code and the server's message. */
function toClusterError(error: unknown, what: string): ClusterError {
  if (error instanceof ClusterError) return error;
  if (error instanceof ApiError) return new ClusterError(`${what}: ${error.code} ${error.message}`.trim(), { cause: error, status: error.code });
  return new ClusterError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
