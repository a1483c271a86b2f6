/** One kind of object the API server serves: where it lives in the URL space and what it allows. */
export interface ResourceType {
  group: string;
  version: string;
  /** Plural, lowercase: "pods", "deployments". */
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: Array<'status' | 'scale'>;
  /** client-node model name carrying the real schema ("V1Pod"); undefined for custom resources. */
  model?: string;
  /** Custom resources: the CRD's openAPIV3Schema for the served version, if any. */
  crdSchema?: unknown;
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function builtin(
  group: string,
  resource: string,
  kind: string,
  options: { namespaced?: boolean; shortNames?: string[]; subresources?: ResourceType['subresources']; model?: string; categories?: string[] } = {},
): ResourceType {
  return {
    group,
    version: 'v1',
    resource,
    kind,
    listKind: `${kind}List`,
    singular: kind.toLowerCase(),
    namespaced: options.namespaced ?? true,
    shortNames: options.shortNames ?? [],
    categories: options.categories ?? [],
    subresources: options.subresources ?? [],
    model: options.model ?? `V1${kind}`,
  };
}

/** The built-in resources: what kubectl, client-node and the mesh adapters use. */
export const BUILTIN_RESOURCES: ResourceType[] = [
  builtin('', 'namespaces', 'Namespace', { namespaced: false, shortNames: ['ns'], subresources: ['status'] }),
  builtin('', 'nodes', 'Node', { namespaced: false, shortNames: ['no'], subresources: ['status'] }),
  builtin('', 'pods', 'Pod', { shortNames: ['po'], subresources: ['status'], categories: ['all'] }),
  builtin('', 'services', 'Service', { shortNames: ['svc'], subresources: ['status'], categories: ['all'] }),
  builtin('', 'endpoints', 'Endpoints', { shortNames: ['ep'] }),
  builtin('', 'secrets', 'Secret'),
  builtin('', 'configmaps', 'ConfigMap', { shortNames: ['cm'] }),
  builtin('', 'serviceaccounts', 'ServiceAccount', { shortNames: ['sa'] }),
  builtin('', 'events', 'Event', { shortNames: ['ev'], model: 'CoreV1Event' }),
  builtin('apps', 'deployments', 'Deployment', { shortNames: ['deploy'], subresources: ['status', 'scale'], categories: ['all'] }),
  builtin('apps', 'replicasets', 'ReplicaSet', { shortNames: ['rs'], subresources: ['status', 'scale'], categories: ['all'] }),
  builtin('apps', 'statefulsets', 'StatefulSet', { shortNames: ['sts'], subresources: ['status', 'scale'], categories: ['all'] }),
  builtin('apps', 'daemonsets', 'DaemonSet', { shortNames: ['ds'], subresources: ['status'], categories: ['all'] }),
  builtin('apps', 'controllerrevisions', 'ControllerRevision'),
  builtin('batch', 'jobs', 'Job', { subresources: ['status'], categories: ['all'] }),
  // Stored and served (meshdrill's in-cluster CronJobs are applied and validated); nothing schedules them.
  builtin('batch', 'cronjobs', 'CronJob', { shortNames: ['cj'], subresources: ['status'], categories: ['all'] }),
  builtin('networking.k8s.io', 'networkpolicies', 'NetworkPolicy', { shortNames: ['netpol'] }),
  builtin('coordination.k8s.io', 'leases', 'Lease'),
  // Stored and served: nothing drains nodes on the embedded cluster, so nothing consults them.
  builtin('policy', 'poddisruptionbudgets', 'PodDisruptionBudget', { shortNames: ['pdb'], subresources: ['status'] }),
  // RBAC holds every request with a service-account token (api/rbac.ts); the kubeconfig's user is the admin.
  builtin('rbac.authorization.k8s.io', 'roles', 'Role'),
  builtin('rbac.authorization.k8s.io', 'rolebindings', 'RoleBinding'),
  builtin('rbac.authorization.k8s.io', 'clusterroles', 'ClusterRole', { namespaced: false }),
  builtin('rbac.authorization.k8s.io', 'clusterrolebindings', 'ClusterRoleBinding', { namespaced: false }),
  builtin('admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', { namespaced: false }),
  builtin('admissionregistration.k8s.io', 'validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', { namespaced: false }),
  builtin('apiextensions.k8s.io', 'customresourcedefinitions', 'CustomResourceDefinition', {
    namespaced: false,
    shortNames: ['crd', 'crds'],
    subresources: ['status'],
  }),
];

export function groupVersion(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** Store key of a resource type, version-independent: "apps/deployments", "pods". */
export function resourceKey(type: Pick<ResourceType, 'group' | 'resource'>): string {
  return type.group === '' ? type.resource : `${type.group}/${type.resource}`;
}

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: unknown };
  subresources?: { status?: unknown; scale?: unknown };
}

interface Crd {
  spec?: {
    group?: string;
    scope?: string;
    names?: { plural?: string; singular?: string; kind?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
    versions?: CrdVersion[];
  };
}

/** The resource types a CustomResourceDefinition adds: one per served version. */
export function resourcesFromCrd(crd: Crd): ResourceType[] {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  if (!spec.group || !names.plural || !names.kind) return [];
  return (spec.versions ?? [])
    .filter((v) => v.served !== false)
    .map((v) => ({
      group: spec.group ?? '',
      version: v.name,
      resource: names.plural ?? '',
      kind: names.kind ?? '',
      listKind: names.listKind ?? `${names.kind}List`,
      singular: names.singular ?? (names.kind ?? '').toLowerCase(),
      namespaced: spec.scope !== 'Cluster',
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      subresources: [...(v.subresources?.status ? (['status'] as const) : []), ...(v.subresources?.scale ? (['scale'] as const) : [])],
      crdSchema: v.schema?.openAPIV3Schema,
    }));
}
