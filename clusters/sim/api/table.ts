import type { KubeObject } from './types.js';

// Server-side printing: kubectl asks for `as=Table` and prints the rows it gets, so these columns
// are what `kubectl get` shows. Column names and cell formats follow the real server's printers
// (k8s.io/kubernetes/pkg/printers/internalversion).

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
}

type Obj = Record<string, unknown>;
type Printer = { columns: Column[]; cells: (o: KubeObject, age: string) => unknown[] };

const name: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 };
const age: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 };
const col = (n: string, description: string, priority = 0, type = 'string'): Column => ({ name: n, type, description, priority });

export function humanAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  return `${d}d`;
}

function podStatus(o: KubeObject): { ready: string; status: string; restarts: number } {
  const spec = (o.spec ?? {}) as Obj;
  const status = (o.status ?? {}) as Obj;
  const containers = (spec['containers'] as Obj[] | undefined) ?? [];
  const statuses = (status['containerStatuses'] as Obj[] | undefined) ?? [];
  const ready = statuses.filter((c) => c['ready'] === true).length;
  const restarts = statuses.reduce((n, c) => n + Number(c['restartCount'] ?? 0), 0);
  let reason = String(status['reason'] ?? status['phase'] ?? 'Unknown');
  const waiting = statuses.map((c) => (c['state'] as Obj | undefined)?.['waiting'] as Obj | undefined).find((w) => w?.['reason']);
  if (waiting) reason = String(waiting['reason']);
  if (o.metadata.deletionTimestamp) reason = 'Terminating';
  return { ready: `${ready}/${containers.length}`, status: reason, restarts };
}

const containerNames = (spec: Obj | undefined) => ((spec?.['containers'] as Obj[] | undefined) ?? []).map((c) => String(c['name'])).join(',');
const images = (spec: Obj | undefined) => ((spec?.['containers'] as Obj[] | undefined) ?? []).map((c) => String(c['image'])).join(',');
const selectorText = (s: unknown) => Object.entries(((s as Obj | undefined)?.['matchLabels'] as Record<string, string> | undefined) ?? (s as Record<string, string> | undefined) ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
const templateSpec = (o: KubeObject) => ((o.spec as Obj | undefined)?.['template'] as Obj | undefined)?.['spec'] as Obj | undefined;
const num = (o: unknown, key: string) => Number((o as Obj | undefined)?.[key] ?? 0);

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [name, col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'), col('Status', 'The aggregate status of the containers in this pod.'), col('Restarts', 'The number of times the containers in this pod have been restarted.', 0, 'string'), age, col('IP', 'IP address allocated to the pod.', 1), col('Node', 'Name of the node assigned to the pod.', 1), col('Nominated Node', 'Name of the node nominated for the pod.', 1), col('Readiness Gates', 'Pod readiness gates.', 1)],
    cells: (o, a) => {
      const s = podStatus(o);
      const status = (o.status ?? {}) as Obj;
      return [o.metadata.name, s.ready, s.status, String(s.restarts), a, status['podIP'] ?? '<none>', (o.spec as Obj | undefined)?.['nodeName'] ?? '<none>', '<none>', '<none>'];
    },
  },
  Deployment: {
    columns: [name, col('Ready', 'Number of the pod with ready state'), col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', 0, 'integer'), col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', 0, 'integer'), age, col('Containers', 'Names of each container in the template.', 1), col('Images', 'Images referenced by each container in the template.', 1), col('Selector', 'Label selector for pods.', 1)],
    cells: (o, a) => [o.metadata.name, `${num(o.status, 'readyReplicas')}/${num(o.spec, 'replicas')}`, num(o.status, 'updatedReplicas'), num(o.status, 'availableReplicas'), a, containerNames(templateSpec(o)), images(templateSpec(o)), selectorText((o.spec as Obj | undefined)?.['selector'])],
  },
  ReplicaSet: {
    columns: [name, col('Desired', 'Number of desired pods.', 0, 'integer'), col('Current', 'Number of actual pods.', 0, 'integer'), col('Ready', 'Number of ready pods.', 0, 'integer'), age, col('Containers', 'Container names.', 1), col('Images', 'Images.', 1), col('Selector', 'Label selector.', 1)],
    cells: (o, a) => [o.metadata.name, num(o.spec, 'replicas'), num(o.status, 'replicas'), num(o.status, 'readyReplicas'), a, containerNames(templateSpec(o)), images(templateSpec(o)), selectorText((o.spec as Obj | undefined)?.['selector'])],
  },
  StatefulSet: {
    columns: [name, col('Ready', 'Number of the pod with ready state'), age, col('Containers', 'Container names.', 1), col('Images', 'Images.', 1)],
    cells: (o, a) => [o.metadata.name, `${num(o.status, 'readyReplicas')}/${num(o.spec, 'replicas')}`, a, containerNames(templateSpec(o)), images(templateSpec(o))],
  },
  DaemonSet: {
    columns: [name, col('Desired', 'Desired pods.', 0, 'integer'), col('Current', 'Current pods.', 0, 'integer'), col('Ready', 'Ready pods.', 0, 'integer'), col('Up-to-date', 'Updated pods.', 0, 'integer'), col('Available', 'Available pods.', 0, 'integer'), col('Node Selector', 'Node selector.'), age, col('Containers', 'Container names.', 1), col('Images', 'Images.', 1)],
    cells: (o, a) => [o.metadata.name, num(o.status, 'desiredNumberScheduled'), num(o.status, 'currentNumberScheduled'), num(o.status, 'numberReady'), num(o.status, 'updatedNumberScheduled'), num(o.status, 'numberAvailable'), '<none>', a, containerNames(templateSpec(o)), images(templateSpec(o))],
  },
  Service: {
    columns: [name, col('Type', 'The type of the service.'), col('Cluster-IP', 'The cluster IP of the service.'), col('External-IP', 'External IPs.'), col('Port(s)', 'The ports of the service.'), age, col('Selector', 'Pod selector.', 1)],
    cells: (o, a) => {
      const spec = (o.spec ?? {}) as Obj;
      const ports = ((spec['ports'] as Obj[] | undefined) ?? []).map((p) => `${String(p['port'])}/${String(p['protocol'] ?? 'TCP')}`).join(',') || '<none>';
      return [o.metadata.name, spec['type'] ?? 'ClusterIP', spec['clusterIP'] ?? '<none>', '<none>', ports, a, selectorText(spec['selector'])];
    },
  },
  Node: {
    columns: [name, col('Status', 'The status of the node'), col('Roles', 'The roles of the node'), age, col('Version', 'Kubelet version'), col('Internal-IP', 'Internal IP.', 1)],
    cells: (o, a) => {
      const conditions = ((o.status as Obj | undefined)?.['conditions'] as Obj[] | undefined) ?? [];
      const ready = conditions.find((c) => c['type'] === 'Ready')?.['status'] === 'True' ? 'Ready' : 'NotReady';
      const unschedulable = (o.spec as Obj | undefined)?.['unschedulable'] === true ? ',SchedulingDisabled' : '';
      const info = ((o.status as Obj | undefined)?.['nodeInfo'] as Obj | undefined) ?? {};
      const address = (((o.status as Obj | undefined)?.['addresses'] as Obj[] | undefined) ?? [])[0]?.['address'] ?? '<none>';
      const roles = Object.keys(o.metadata.labels ?? {}).filter((l) => l.startsWith('node-role.kubernetes.io/')).map((l) => l.split('/')[1]).join(',') || '<none>';
      return [o.metadata.name, `${ready}${unschedulable}`, roles, a, info['kubeletVersion'] ?? '', address];
    },
  },
  Namespace: {
    columns: [name, col('Status', 'The status of the namespace'), age],
    cells: (o, a) => [o.metadata.name, (o.status as Obj | undefined)?.['phase'] ?? 'Active', a],
  },
  Endpoints: {
    columns: [name, col('Endpoints', 'Endpoints.'), age],
    cells: (o, a) => {
      const subsets = (o['subsets'] as Obj[] | undefined) ?? [];
      const eps = subsets.flatMap((s) => ((s['addresses'] as Obj[] | undefined) ?? []).flatMap((addr) => ((s['ports'] as Obj[] | undefined) ?? [{ port: '' }]).map((p) => `${String(addr['ip'])}:${String(p['port'])}`)));
      return [o.metadata.name, eps.length === 0 ? '<none>' : eps.slice(0, 3).join(',') + (eps.length > 3 ? ` + ${eps.length - 3} more...` : ''), a];
    },
  },
  Secret: {
    columns: [name, col('Type', 'The type of the secret'), col('Data', 'The number of data entries.', 0, 'integer'), age],
    cells: (o, a) => [o.metadata.name, o['type'] ?? 'Opaque', Object.keys((o['data'] as Obj | undefined) ?? {}).length, a],
  },
  ConfigMap: {
    columns: [name, col('Data', 'Number of data entries.', 0, 'integer'), age],
    cells: (o, a) => [o.metadata.name, Object.keys((o['data'] as Obj | undefined) ?? {}).length + Object.keys((o['binaryData'] as Obj | undefined) ?? {}).length, a],
  },
  ServiceAccount: {
    columns: [name, col('Secrets', 'Number of secrets.', 0, 'integer'), age],
    cells: (o, a) => [o.metadata.name, ((o['secrets'] as unknown[] | undefined) ?? []).length, a],
  },
  NetworkPolicy: {
    columns: [name, col('Pod-Selector', 'Pods selected.'), age],
    cells: (o, a) => [o.metadata.name, selectorText((o.spec as Obj | undefined)?.['podSelector']) === '<none>' ? '<none>' : selectorText((o.spec as Obj | undefined)?.['podSelector']), a],
  },
  Event: {
    columns: [col('Last Seen', 'Last seen.'), col('Type', 'Type.'), col('Reason', 'Reason.'), col('Object', 'Object.'), col('Message', 'Message.')],
    cells: (o, a) => {
      const involved = (o['involvedObject'] as Obj | undefined) ?? {};
      return [a, o['type'] ?? 'Normal', o['reason'] ?? '', `${String(involved['kind'] ?? '').toLowerCase()}/${String(involved['name'] ?? '')}`, o['message'] ?? ''];
    },
  },
  CustomResourceDefinition: {
    columns: [name, col('Created At', 'Creation time.', 0, 'date')],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ''],
  },
};

const DEFAULT: Printer = { columns: [name, age], cells: (o, a) => [o.metadata.name, a] };

/**
 * The same Table as JSON text, built without copying the objects: each stored object's part of a
 * row (its metadata as PartialObjectMetadata, or the whole object) is serialised once and kept
 * (stored objects are frozen); only the cells, whose age moves with the clock, are printed per
 * request. JSON.stringify(toTable(…)) and tableJson(…) are the same text.
 */
export function tableJson(kind: string, objects: KubeObject[], now: number, resourceVersion: string, includeObject: string, extra: Record<string, unknown> = {}): string {
  const printer = PRINTERS[kind] ?? DEFAULT;
  const rows = objects.map((o) => {
    const cells = JSON.stringify(cellsOf(printer, o, now));
    return includeObject === 'None' ? `{"cells":${cells}}` : `{"cells":${cells},"object":${rowObjectJson(o, includeObject === 'Object')}}`;
  });
  const head = JSON.stringify({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion, ...extra }, columnDefinitions: printer.columns });
  return `${head.slice(0, -1)},"rows":[${rows.join(',')}]}`;
}

/** A row's cells: what the printer shows of the object, its age as of `now`. */
function cellsOf(printer: Printer, o: KubeObject, now: number): unknown[] {
  return printer.cells(o, humanAge(now - Date.parse(o.metadata.creationTimestamp ?? new Date(now).toISOString())));
}

const serialised = new WeakMap<KubeObject, { whole?: string; metadata?: string }>();

function cacheOf(o: KubeObject): { whole?: string; metadata?: string } {
  let cached = serialised.get(o);
  if (!cached) {
    cached = {};
    if (Object.isFrozen(o)) serialised.set(o, cached);
  }
  return cached;
}

/** A stored object as JSON, serialised once while it is stored (it is frozen). */
export function objectJson(o: KubeObject): string {
  const cached = cacheOf(o);
  return (cached.whole ??= JSON.stringify(o));
}

function rowObjectJson(o: KubeObject, whole: boolean): string {
  if (whole) return objectJson(o);
  const cached = cacheOf(o);
  return (cached.metadata ??= JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }));
}

export function toTable(kind: string, objects: KubeObject[], now: number, resourceVersion: string, includeObject: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const printer = PRINTERS[kind] ?? DEFAULT;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...extra },
    columnDefinitions: printer.columns,
    rows: objects.map((o) => ({
      cells: cellsOf(printer, o, now),
      ...(includeObject === 'None' ? {} : { object: includeObject === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } }),
    })),
  };
}
