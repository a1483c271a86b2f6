/** Any Kubernetes object as plain data. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid?: string;
    resourceVersion?: string;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/**
 * The port every part of meshdrill uses to read and write a cluster — kind, an existing cluster
 * and the embedded cluster alike. Writes that meshdrill owns go through server-side apply;
 * changes to objects owned by someone else are merge patches.
 */
export interface KubeClient {
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, options?: { namespace?: string; labelSelector?: string }): Promise<KubeObject[]>;
  apply(object: KubeObject): Promise<KubeObject>;
  /** Creates an object that must not exist yet; fails with a ClusterError of status 409 when it does. */
  create(object: KubeObject): Promise<KubeObject>;
  /** A JSON merge patch; `metadata.resourceVersion` in it is a precondition (409 when the object moved on). */
  mergePatch(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: Record<string, unknown>): Promise<KubeObject>;
  /** What a pod's container printed (the pod's log subresource). */
  logs(namespace: string, pod: string, container?: string): Promise<string>;
  /** Returns false when the object was already gone. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<boolean>;
}

/** Node readiness is provider-specific (the embedded cluster flips it; kind stops a container). */
export interface NodeControl {
  nodes(): string[];
  setReady(node: string, ready: boolean): Promise<void>;
}
