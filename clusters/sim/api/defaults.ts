import type { KubeObject } from './types.js';

// Defaulting as the real API server does it for the fields kubectl, controllers and the mesh
// twin read. Values follow k8s.io/api's documented defaults.

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : {};
}

function setDefault(target: Obj, key: string, value: unknown): void {
  if (target[key] === undefined) target[key] = value;
}

export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'serviceAccountName', 'default');
  for (const list of ['containers', 'initContainers']) {
    for (const container of (spec[list] as Obj[] | undefined) ?? []) {
      const image = String(container['image'] ?? '');
      setDefault(container, 'imagePullPolicy', image.endsWith(':latest') || !image.includes(':') ? 'Always' : 'IfNotPresent');
      setDefault(container, 'terminationMessagePath', '/dev/termination-log');
      setDefault(container, 'terminationMessagePolicy', 'File');
      setDefault(container, 'resources', {});
      for (const port of (container['ports'] as Obj[] | undefined) ?? []) setDefault(port, 'protocol', 'TCP');
    }
  }
}

/** Defaults a workload's pod template; Jobs' pods default to restartPolicy Never. */
function defaultTemplate(spec: Obj, restartPolicy = 'Always'): void {
  const template = obj(spec['template']);
  spec['template'] = template;
  template['metadata'] = obj(template['metadata']);
  const podSpec = obj(template['spec']);
  template['spec'] = podSpec;
  setDefault(podSpec, 'restartPolicy', restartPolicy);
  defaultPodSpec(podSpec);
}

const DEFAULTERS: Record<string, (o: KubeObject, ctx: { allocateClusterIp(): string }) => void> = {
  Namespace(o) {
    o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name };
    o.spec = { finalizers: ['kubernetes'], ...obj(o.spec) };
    o.status = { phase: 'Active', ...obj(o.status) };
  },
  Pod(o) {
    const spec = obj(o.spec);
    o.spec = spec;
    defaultPodSpec(spec);
    o.status = { phase: 'Pending', qosClass: 'BestEffort', ...obj(o.status) };
  },
  Deployment(o) {
    const spec = obj(o.spec);
    o.spec = spec;
    setDefault(spec, 'replicas', 1);
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'progressDeadlineSeconds', 600);
    const strategy = obj(spec['strategy']);
    spec['strategy'] = strategy;
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy['type'] === 'RollingUpdate') strategy['rollingUpdate'] = { maxSurge: '25%', maxUnavailable: '25%', ...obj(strategy['rollingUpdate']) };
    defaultTemplate(spec);
  },
  ReplicaSet(o) {
    const spec = obj(o.spec);
    o.spec = spec;
    setDefault(spec, 'replicas', 1);
    defaultTemplate(spec);
  },
  StatefulSet(o) {
    const spec = obj(o.spec);
    o.spec = spec;
    setDefault(spec, 'replicas', 1);
    setDefault(spec, 'podManagementPolicy', 'OrderedReady');
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    defaultTemplate(spec);
  },
  DaemonSet(o) {
    const spec = obj(o.spec);
    o.spec = spec;
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    defaultTemplate(spec);
  },
  Service(o, ctx) {
    const spec = obj(o.spec);
    o.spec = spec;
    setDefault(spec, 'type', 'ClusterIP');
    setDefault(spec, 'sessionAffinity', 'None');
    if (spec['clusterIP'] === undefined) spec['clusterIP'] = ctx.allocateClusterIp();
    if (spec['clusterIP'] !== 'None') spec['clusterIPs'] = [spec['clusterIP']];
    setDefault(spec, 'ipFamilies', ['IPv4']);
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    for (const port of (spec['ports'] as Obj[] | undefined) ?? []) {
      setDefault(port, 'protocol', 'TCP');
      setDefault(port, 'targetPort', port['port']);
    }
    o.status = { loadBalancer: {}, ...obj(o.status) };
  },
  Secret(o) {
    setDefault(o as Obj, 'type', 'Opaque');
    const stringData = obj(o['stringData']);
    if (Object.keys(stringData).length > 0) {
      const data = obj(o['data']);
      for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v)).toString('base64');
      o['data'] = data;
    }
    delete o['stringData'];
  },
  Job(o) {
    const spec = obj(o.spec);
    o.spec = spec;
    setDefault(spec, 'backoffLimit', 6);
    setDefault(spec, 'completions', 1);
    setDefault(spec, 'parallelism', 1);
    defaultTemplate(spec, 'Never');
  },
  NetworkPolicy(o) {
    const spec = obj(o.spec);
    o.spec = spec;
    if (spec['policyTypes'] === undefined) spec['policyTypes'] = spec['egress'] ? ['Ingress', 'Egress'] : ['Ingress'];
  },
};

export function applyDefaults(object: KubeObject, ctx: { allocateClusterIp(): string }): void {
  DEFAULTERS[object.kind]?.(object, ctx);
}
