import { Topology } from '../../model/index.js';

/** 2,500 rps into two entrypoints of one namespace: more than one k6 runner carries (the k6-operator tests). */
export const TWO_ENTRYPOINTS_2500_RPS = Topology.parse({
  apiVersion: 'meshdrill.dev/v1alpha1',
  kind: 'Topology',
  metadata: { name: 'big' },
  spec: {
    namespaces: [{ name: 'edge', services: [{ name: 'gateway', replicas: 3 }, { name: 'api', replicas: 3 }] }],
    entrypoints: [{ service: 'edge/gateway', rps: 2_000 }, { service: 'edge/api', rps: 500 }],
  },
});
