import type { KubeObject } from '../api/types.js';
import { isoTime, type ControllerContext, type Obj } from './context.js';
import { copyJson } from '../api/store.js';

export function isNodeReady(node: KubeObject): boolean {
  const conditions = ((node.status as Obj | undefined)?.['conditions'] as Obj[] | undefined) ?? [];
  return conditions.some((c) => c['type'] === 'Ready' && c['status'] === 'True');
}

function tainted(node: KubeObject): boolean {
  const taints = ((node.spec as Obj | undefined)?.['taints'] as Obj[] | undefined) ?? [];
  return taints.some((t) => t['effect'] === 'NoSchedule' || t['effect'] === 'NoExecute');
}

export function schedulableNodes(ctx: ControllerContext): KubeObject[] {
  return ctx.api
    .list(ctx.type('Node'))
    .filter((n) => isNodeReady(n) && !tainted(n) && (n.spec as Obj | undefined)?.['unschedulable'] !== true)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

export function nodeObject(name: string, index: number, controlPlane: boolean, now: string, placement?: { region: string; podSubnet: string }): Record<string, unknown> {
  // A fleet member's nodes take /24s of its own /16 and sit in its region, across three zones.
  const podCIDR = placement ? `${placement.podSubnet.split('.').slice(0, 2).join('.')}.${index}.0/24` : `10.244.${index}.0/24`;
  const where = placement ? { 'topology.kubernetes.io/region': placement.region, 'topology.kubernetes.io/zone': `${placement.region}-${'abc'[index % 3]}` } : {};
  const ready = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now };
  return {
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
        ...where,
      },
    },
    spec: { podCIDR, podCIDRs: [podCIDR], ...(controlPlane ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } : {}) },
    status: {
      capacity: { cpu: '8', memory: '32Gi', pods: '110' },
      allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
      conditions: [ready],
      addresses: [
        { type: 'InternalIP', address: `172.18.0.${index + 2}` },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: { kubeletVersion: 'v1.31.0', kubeProxyVersion: 'v1.31.0', containerRuntimeVersion: 'containerd://1.7.18', osImage: 'meshdrill embedded node', operatingSystem: 'linux', architecture: 'amd64', kernelVersion: '6.1.0', machineID: '', systemUUID: '', bootID: '' },
    },
  };
}

/** Marks a node Ready or NotReady (as when its kubelet stops posting status). */
export function setNodeReady(ctx: ControllerContext, name: string, ready: boolean): void {
  const node = ctx.api.get(ctx.type('Node'), undefined, name);
  const status = copyJson(node.status) as Obj;
  const now = isoTime(ctx.clock);
  status['conditions'] = [
    ready
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
      : { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: now, lastTransitionTime: now },
  ];
  ctx.api.update(ctx.type('Node'), undefined, name, { ...node, status }, { subresource: 'status' });
  const fresh = ctx.api.get(ctx.type('Node'), undefined, name);
  const spec = copyJson(fresh.spec ?? {}) as Obj;
  const kept = ((spec['taints'] as Obj[] | undefined) ?? []).filter((t) => t['key'] !== UNREACHABLE_TAINT);
  // The node lifecycle controller taints a node whose Ready condition is Unknown with
  // node.kubernetes.io/unreachable, NoSchedule and NoExecute, and lifts both when it is Ready
  // again (kubernetes.io/docs/reference/labels-annotations-taints/#node-kubernetes-io-unreachable).
  const taints = ready ? kept : [...kept, { key: UNREACHABLE_TAINT, effect: 'NoSchedule', timeAdded: now }, { key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: now }];
  if (taints.length > 0) spec['taints'] = taints;
  else delete spec['taints'];
  ctx.api.update(ctx.type('Node'), undefined, name, { ...fresh, spec });
}

const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
