import { matchesLabels, requirementsFromSelector } from '../api/selectors.js';
import type { KubeObject } from '../api/types.js';
import { isPodReady, type ControllerContext, type Obj } from './context.js';

/** Endpoints of a Service: ready pods as addresses, others as notReadyAddresses (the endpoints controller). */
export function reconcileEndpoints(ctx: ControllerContext, namespace: string, name: string): void {
  const service = ctx.api.find(ctx.type('Service'), namespace, name);
  const type = ctx.type('Endpoints');
  const existing = ctx.api.find(type, namespace, name);
  const selector = (service?.spec as Obj | undefined)?.['selector'] as Record<string, string> | undefined;
  if (!service || !selector) {
    if (existing && !service) ctx.api.delete(type, namespace, name);
    return;
  }
  const requirements = requirementsFromSelector({ matchLabels: selector });
  const pods = ctx.api.list(ctx.type('Pod'), namespace).filter((p) => (p.status as Obj | undefined)?.['podIP'] && matchesLabels(requirements, p.metadata.labels));
  const address = (p: KubeObject) => ({ ip: (p.status as Obj)['podIP'], nodeName: (p.spec as Obj)['nodeName'], targetRef: { kind: 'Pod', namespace, name: p.metadata.name, uid: p.metadata.uid } });
  const sort = (a: KubeObject, b: KubeObject) => String((a.status as Obj)['podIP']).localeCompare(String((b.status as Obj)['podIP']));
  const ready = pods.filter(isPodReady).sort(sort).map(address);
  const notReady = pods.filter((p) => !isPodReady(p)).sort(sort).map(address);
  const ports = (((service.spec as Obj)['ports'] as Obj[] | undefined) ?? []).map((p) => ({
    ...(p['name'] ? { name: p['name'] } : {}),
    port: typeof p['targetPort'] === 'number' ? p['targetPort'] : p['port'],
    protocol: p['protocol'] ?? 'TCP',
  }));
  const subsets = ready.length + notReady.length === 0 ? [] : [{ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports }];
  const body = { metadata: { name, namespace, labels: service.metadata.labels }, subsets };
  if (!existing) ctx.api.create(type, namespace, body);
  else if (JSON.stringify(existing['subsets']) !== JSON.stringify(subsets)) ctx.api.update(type, namespace, name, { ...existing, subsets });
}
