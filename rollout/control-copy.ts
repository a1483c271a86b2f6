import { callOrder, parsePercent, type Topology } from '../model/index.js';
import type { Scope } from '../slo/index.js';

// Netflix ChAP's control-vs-experiment idea (test-harness.md, progressive-delivery.md): instead of
// comparing a stage with the same scope before it was meshed, compare it with an unmeshed copy
// of the stage's namespaces measured over the same windows, so that whatever else changed in the
// meantime (load, a noisy neighbour, a deploy) touches both sides alike.

/** The namespace that holds the control copy of `namespace`. */
export function controlNamespace(namespace: string): string {
  return `${namespace}-control`;
}

/** Requests per second into each service ("namespace/name"), entrypoints propagated along the call graph by share. */
export function inboundRates(topology: Topology): Map<string, number> {
  const calls = new Map<string, Array<{ to: string; share: number }>>();
  const rate = new Map<string, number>();
  for (const ns of topology.spec.namespaces) {
    for (const svc of ns.services) {
      const ref = `${ns.name}/${svc.name}`;
      calls.set(ref, svc.calls.map((c) => ({ to: c.to, share: (parsePercent(c.share) ?? 100) / 100 })));
      rate.set(ref, 0);
    }
  }
  for (const e of topology.spec.entrypoints) rate.set(e.service, (rate.get(e.service) ?? 0) + e.rps);
  // The call graph is acyclic (validated): settle callers before callees.
  const { order } = callOrder(new Map([...calls].map(([ref, list]) => [ref, list.map((c) => c.to)])));
  for (const ref of order) for (const c of calls.get(ref) ?? []) rate.set(c.to, (rate.get(c.to) ?? 0) + (rate.get(ref) ?? 0) * c.share);
  return rate;
}

/**
 * The topology with an unmeshed copy of `namespaces` beside it: `<ns>-control`, the same services
 * with the same latency and errors, `meshable: false` so that no stage or injector meshes it.
 * Each copied service gets as many requests as the original, from outside the mesh; calls
 * between copied services stay in the copy, and calls out of it are left out, so the copy adds
 * no plaintext callers to namespaces the plan meshes later.
 */
export function withControlCopy(topology: Topology, namespaces: string[]): Topology {
  const copied = new Set(namespaces);
  const rates = inboundRates(topology);
  const internalIn = new Map<string, number>();
  for (const ns of topology.spec.namespaces.filter((n) => copied.has(n.name))) {
    for (const svc of ns.services) {
      for (const c of svc.calls) {
        if (!copied.has(c.to.split('/')[0]!)) continue;
        internalIn.set(c.to, (internalIn.get(c.to) ?? 0) + (rates.get(`${ns.name}/${svc.name}`) ?? 0) * ((parsePercent(c.share) ?? 100) / 100));
      }
    }
  }
  const copy = structuredClone(topology);
  const rename = (ref: string) => {
    const [ns, name] = ref.split('/') as [string, string];
    return `${controlNamespace(ns)}/${name}`;
  };
  for (const ns of topology.spec.namespaces.filter((n) => copied.has(n.name))) {
    copy.spec.namespaces.push({
      ...structuredClone(ns),
      name: controlNamespace(ns.name),
      meshable: false,
      services: ns.services.map((svc) => ({
        ...structuredClone(svc),
        calls: svc.calls.filter((c) => copied.has(c.to.split('/')[0]!)).map((c) => ({ ...c, to: rename(c.to) })),
      })),
    });
    for (const svc of ns.services) {
      const ref = `${ns.name}/${svc.name}`;
      const external = (rates.get(ref) ?? 0) - (internalIn.get(ref) ?? 0);
      if (external > 1e-9) copy.spec.entrypoints.push({ service: rename(ref), rps: Math.round(external * 1000) / 1000 });
    }
  }
  return copy;
}

/**
 * Where a gate's scope is measured in the control copy: the copied namespace or service; an
 * edge by its copied end as a service (the copy's callers are not the originals'). Undefined
 * when the scope is not in the copy (the whole mesh, or namespaces outside the stage).
 */
export function controlScope(scope: Scope, namespaces: string[]): Scope | undefined {
  const copied = new Set(namespaces);
  const inCopy = (ref: string) => copied.has(ref.split('/')[0]!);
  const rename = (ref: string) => `${controlNamespace(ref.split('/')[0]!)}/${ref.split('/')[1]}`;
  if (scope.namespace !== undefined) return copied.has(scope.namespace) ? { namespace: controlNamespace(scope.namespace) } : undefined;
  if (scope.service !== undefined) return inCopy(scope.service) ? { service: rename(scope.service) } : undefined;
  if (scope.edge) {
    if (inCopy(scope.edge.from) && inCopy(scope.edge.to)) return { edge: { from: rename(scope.edge.from), to: rename(scope.edge.to) } };
    if (inCopy(scope.edge.to)) return { service: rename(scope.edge.to) };
    return inCopy(scope.edge.from) ? { service: rename(scope.edge.from) } : undefined;
  }
  return undefined;
}
