import type { CertificateAuthority } from './pki/index.js';
import type { KubeClient, KubeObject } from '../clusters/index.js';
import type { SliKey, Scope } from '../model/index.js';

export type MeshName = 'istio' | 'linkerd';
export type DataPlaneMode = 'sidecar' | 'ambient';
export type MtlsMode = 'PERMISSIVE' | 'STRICT';

export interface InstallOptions {
  /** Workload certificate lifetime; game days shorten it to compress CA-loss timelines. Default 24 h. */
  certLifetimeMs?: number;
  /** Istio revision (istio.io/rev); default revision when unset. */
  revision?: string;
  now?: Date;
  /**
   * Istio multicluster: sign with an intermediate of this root, named for the cluster, so every
   * cluster's workloads trust every other's (istio.io "Plug in CA certificates"; multi-primary).
   */
  sharedRoot?: { root: CertificateAuthority; cluster: string };
}

/** Where the control plane lives and how proxies reach it. */
export interface ControlPlane {
  namespace: string;
  /** Pod labels of the deployments that matter for the data plane. */
  components: Array<{ name: string; labels: Record<string, string>; ports: number[]; role: 'ca' | 'config' | 'injector' | 'ca+config' }>;
}

/** One adapter per mesh: used on every provider, through the Kubernetes API only. */
export interface MeshAdapter {
  readonly name: MeshName;
  readonly mode: DataPlaneMode;
  readonly controlPlane: ControlPlane;
  /** The CA material: Istio `cacerts`/`istio-ca-secret`, Linkerd trust roots and issuer. */
  readonly caObjects: Array<{ kind: 'Secret' | 'ConfigMap'; namespace: string; name: string; role: string }>;
  /** Control-plane objects for the embedded cluster (real installs go through Helm or the mesh CLI). */
  installManifests(options?: InstallOptions): Promise<KubeObject[]>;
  /** Removes what installManifests creates (the control plane, its webhooks, CRDs and CA material). */
  uninstall(kube: KubeClient): Promise<number>;
  /** The labels and annotations that mesh a namespace (values) or unmesh it (null: remove). Pure. */
  namespaceMarks(meshed: boolean): { labels: Record<string, string | null>; annotations: Record<string, string | null> };
  /** Marks the namespace for the mesh and restarts its workloads when the data plane needs it. */
  meshNamespace(kube: KubeClient, namespace: string, options?: { restart?: boolean; now?: Date }): Promise<void>;
  unmeshNamespace(kube: KubeClient, namespace: string, options?: { restart?: boolean; now?: Date }): Promise<void>;
  /** The policy objects that put `namespace` (or the whole mesh, undefined) in `mode`. */
  mtlsObjects(namespace: string | undefined, mode: MtlsMode, workload?: Record<string, string>): { apply: KubeObject[]; remove: KubeObject[] };
  /** PromQL for an SLI in a scope over a window ("5m"), on this mesh's metric names. */
  promql(sli: SliKey, scope: Scope, window: string): string;
}
