import type * as K8s from '@kubernetes/client-node';
import { ClusterError } from '../../core/index.js';
import type { KubeClient, KubeObject } from './types.js';

const FIELD_MANAGER = 'meshdrill';

let clientNode: Promise<typeof K8s> | undefined;

/** @kubernetes/client-node, imported once on first use. */
export function loadClientNode(): Promise<typeof K8s> {
  clientNode ??= import('@kubernetes/client-node');
  return clientNode;
}

interface ModelSerializer {
  deserialize(data: unknown, type: string): unknown;
  serialize(data: unknown, type: string): unknown;
}
let serializer: Promise<ModelSerializer> | undefined;

/** client-node's ObjectSerializer (JSON ⇄ model names); the package's index does not export it. */
function loadSerializer(): Promise<ModelSerializer> {
  serializer ??= import('@kubernetes/client-node/dist/serializer.js').then((module: { ObjectSerializer: ModelSerializer }) => module.ObjectSerializer);
  return serializer;
}

/** The model client-node serializes a kind with ("<Version><Kind>", as its util.getSerializationType names it). */
function modelType(apiVersion: string, kind: string): string {
  const version = apiVersion.includes('/') ? apiVersion.split('/')[1]! : apiVersion;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/**
 * client-node serializes a known kind by its model's TypeScript names: JSON keys that differ (a
 * NetworkPolicy rule's "from" is _from, a CRD schema's "x-kubernetes-preserve-unknown-fields" is
 * x_kubernetes_preserve_unknown_fields) would be dropped on the way out. Objects are plain JSON
 * in meshdrill, so each is turned into its model first and reaches the server as written.
 */
async function toModel(object: KubeObject): Promise<unknown> {
  return (await loadSerializer()).deserialize(object, modelType(object.apiVersion, object.kind));
}

/**
 * And back: what client-node reads is a model instance (_from, Date objects); meshdrill works on
 * the JSON the server sent, so it is serialized back to the API's field names.
 */
async function fromModel<T>(object: T, apiVersion: string, kind: string): Promise<T> {
  if (object === null || typeof object !== 'object') return object;
  const o = object as unknown as KubeObject;
  // The serializer writes every attribute of the model, absent ones as undefined: drop those, so
  // the object has the keys the server sent and no others (a diff must not see a key it lacks).
  return JSON.parse(JSON.stringify((await loadSerializer()).serialize(o, modelType(o.apiVersion ?? apiVersion, o.kind ?? kind)))) as T;
}

/** A KubeClient over @kubernetes/client-node for a kubeconfig (YAML text) and optional context. */
export function createKubeClient(kubeconfig: string, context?: string): KubeClient {
  // client-node is loaded on first use: commands that never reach a cluster do not pay for it.
  const ready = loadClientNode().then((k8s) => {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(kubeconfig);
    if (context) kc.setCurrentContext(context);
    return { k8s, api: k8s.KubernetesObjectApi.makeApiClient(kc), core: kc.makeApiClient(k8s.CoreV1Api) };
  });
  // A kubeconfig that cannot load fails the first call, not an unobserved promise.
  ready.catch(() => undefined);
  const header = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => ({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } });
  return {
    async get(apiVersion, kind, namespace, name) {
      const { api, k8s } = await ready;
      try {
        return await fromModel((await api.read(header(apiVersion, kind, namespace, name))) as unknown as KubeObject, apiVersion, kind);
      } catch (error) {
        if (statusOf(k8s, error) === 404) return undefined;
        throw toClusterError(k8s, error, `get ${kind} ${name}`);
      }
    },
    async list(apiVersion, kind, options = {}) {
      const { api, k8s } = await ready;
      try {
        const result = await api.list(apiVersion, kind, options.namespace, undefined, undefined, undefined, undefined, options.labelSelector);
        return await Promise.all((result.items as unknown as KubeObject[]).map((item) => fromModel(item, apiVersion, kind)));
      } catch (error) {
        throw toClusterError(k8s, error, `list ${kind}`);
      }
    },
    async apply(object) {
      const { api, k8s } = await ready;
      try {
        return await fromModel((await api.patch((await toModel(object)) as never, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply)) as unknown as KubeObject, object.apiVersion, object.kind);
      } catch (error) {
        throw toClusterError(k8s, error, `apply ${object.kind} ${object.metadata.name}`);
      }
    },
    async create(object) {
      const { api, k8s } = await ready;
      try {
        return await fromModel((await api.create((await toModel(object)) as never, undefined, undefined, FIELD_MANAGER)) as unknown as KubeObject, object.apiVersion, object.kind);
      } catch (error) {
        throw toClusterError(k8s, error, `create ${object.kind} ${object.metadata.name}`);
      }
    },
    async mergePatch(apiVersion, kind, namespace, name, patch) {
      const { api, k8s } = await ready;
      try {
        const body = { ...header(apiVersion, kind, namespace, name), ...patch, metadata: { ...header(apiVersion, kind, namespace, name).metadata, ...((patch['metadata'] as object | undefined) ?? {}) } };
        return await fromModel((await api.patch((await toModel(body as KubeObject)) as never, undefined, undefined, FIELD_MANAGER, undefined, k8s.PatchStrategy.MergePatch)) as unknown as KubeObject, apiVersion, kind);
      } catch (error) {
        throw toClusterError(k8s, error, `patch ${kind} ${name}`);
      }
    },
    async logs(namespace, pod, container) {
      const { core, k8s } = await ready;
      try {
        return await core.readNamespacedPodLog({ namespace, name: pod, ...(container ? { container } : {}) });
      } catch (error) {
        throw toClusterError(k8s, error, `logs of pod ${namespace}/${pod}`);
      }
    },
    async delete(apiVersion, kind, namespace, name) {
      const { api, k8s } = await ready;
      try {
        await api.delete(header(apiVersion, kind, namespace, name), undefined, undefined, undefined, undefined, 'Background');
        return true;
      } catch (error) {
        if (statusOf(k8s, error) === 404) return false;
        throw toClusterError(k8s, error, `delete ${kind} ${name}`);
      }
    },
  };
}

function statusOf(k8s: typeof K8s, error: unknown): number | undefined {
  return error instanceof k8s.ApiException ? error.code : undefined;
}

/** Converts a client-node failure once, here at the edge; the message never carries request headers. */
function toClusterError(k8s: typeof K8s, error: unknown, what: string): ClusterError {
  if (error instanceof k8s.ApiException) {
    let message = String(error.body ?? '');
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // keep the raw body
    }
    return new ClusterError(`${what}: ${error.code} ${message}`.trim(), { cause: error, status: error.code });
  }
  return new ClusterError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
