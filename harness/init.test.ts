import { describe, expect, it } from 'vitest';
import { Topology } from '../model/index.js';
import { scaffold, topologyFromTelemetry, type DiscoveredNamespace } from './init.js';
import { parse } from 'yaml';

describe('the topology from mesh telemetry', () => {
  const graph = {
    calls: [
      { from: 'shop/web', to: 'shop/cart', rps: 100 },
      { from: 'shop/web', to: 'pay/api', rps: 25 },
      { from: 'shop/cart', to: 'pay/api', rps: 100 },
      { from: 'jobs/reconcile', to: 'pay/api', rps: 4 },
    ],
    unattributed: [
      { to: 'shop/web', rps: 100 },
      { to: 'pay/api', rps: 12.34 },
    ],
  };

  it('gives each call its share of the caller\'s requests, and finds where traffic enters', () => {
    const observed = topologyFromTelemetry([{ name: 'shop', services: [{ name: 'web', replicas: 3 }] }], graph);

    expect(observed.namespaces).toEqual([
      { name: 'shop', services: [{ name: 'web', replicas: 3, calls: [{ to: 'shop/cart' }, { to: 'pay/api', share: '25%' }] }, { name: 'cart', replicas: 1, calls: [{ to: 'pay/api' }] }] },
      { name: 'pay', services: [{ name: 'api', replicas: 1 }] },
      { name: 'jobs', services: [{ name: 'reconcile', replicas: 1, calls: [{ to: 'pay/api' }] }] },
    ]);
    // shop/web: only callers without identity (the outside); jobs/reconcile: called by nobody, a source itself.
    expect(observed.entrypoints).toEqual([
      { service: 'shop/web', rps: 100 },
      { service: 'jobs/reconcile', rps: 4 },
    ]);
    expect(observed.notes).toEqual(['pay/api receives 12.3 rps from callers without a mesh identity (unmeshed workloads or outside the cluster); name them in topology.yaml']);
  });

  it('names callers and callees by the service their workload serves, as discovery found them', () => {
    const discovered: DiscoveredNamespace[] = [{ name: 'shop', services: [{ name: 'web', replicas: 2 }], workloads: { 'web-v1': 'web', 'web-v2': 'web' } }, { name: 'pay', services: [{ name: 'api', replicas: 1 }], workloads: { 'api-canary': 'api' } }];

    const observed = topologyFromTelemetry(discovered, { calls: [{ from: 'shop/web-v1', to: 'pay/api', rps: 30 }, { from: 'shop/web-v2', to: 'pay/api-canary', rps: 10 }], unattributed: [{ to: 'shop/web', rps: 40 }] });

    expect(observed.namespaces).toEqual([
      { name: 'shop', services: [{ name: 'web', replicas: 2, calls: [{ to: 'pay/api' }] }] },
      { name: 'pay', services: [{ name: 'api', replicas: 1 }] },
    ]);
    expect(observed.entrypoints).toEqual([{ service: 'shop/web', rps: 40 }]);
  });

  it('scaffolds a valid topology from it, with the notes where the author will read them', () => {
    const files = scaffold({ name: 'shop', mesh: 'istio', observed: topologyFromTelemetry([], graph) });
    const text = files.get('topology.yaml')!;

    expect(Topology.safeParse(parse(text)).success).toBe(true);
    expect(text).toContain('# NOTE: pay/api receives 12.3 rps from callers without a mesh identity');
  });
});
