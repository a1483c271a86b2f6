import { describe, expect, it } from 'vitest';
import { MICRO } from '../../../test/helpers/twin-lab.js';
import { startMeshLab } from '../../../test/helpers/mesh-lab.js';
import { notModelledIn } from './not-modelled.js';

describe('what the twin reads but does not model', () => {
  it('names whole kinds, fields and annotations, each with the path to its line', () => {
    expect(notModelledIn({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: 'lua', namespace: 'payments' }, spec: {} })).toEqual([{ kind: 'EnvoyFilter', namespace: 'payments', name: 'lua', reason: 'Envoy configuration patches are not modelled' }]);
    expect(notModelledIn({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'api', namespace: 'payments' }, spec: { host: 'api', workloadSelector: { matchLabels: { app: 'x' } }, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' }, connectionPool: { tcp: { maxConnections: 5, connectTimeout: '1s' } } } } }).map((e) => e.path?.join('.'))).toEqual(['spec.workloadSelector', 'spec.trafficPolicy.connectionPool.tcp.connectTimeout']);
    expect(notModelledIn({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'payments' }, spec: { template: { metadata: { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9090', 'prometheus.io/scrape': 'true' } } } } }).map((e) => e.reason)).toEqual(['annotation traffic.sidecar.istio.io/excludeInboundPorts is not modelled']);
    expect(notModelledIn({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'payments' }, spec: { mtls: { mode: 'STRICT' } } })).toEqual([]);
    // Linkerd's outbound routes play matches and weighted backends; their filters and timeouts are reported.
    expect(notModelledIn({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'api-split', namespace: 'payments' }, spec: { parentRefs: [{ group: 'core', kind: 'Service', name: 'api', port: 8080 }], rules: [{ backendRefs: [{ name: 'api-v2', port: 8080, weight: 10 }], filters: [{ type: 'RequestHeaderModifier' }], timeouts: { request: '1s' } }] } }).map((e) => e.path?.join('.'))).toEqual(['spec.rules.0.filters', 'spec.rules.0.timeouts']);
    expect(notModelledIn({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'payments', labels: { 'istio.io/use-waypoint': 'api-waypoint' } }, spec: {} }).map((e) => e.reason)).toEqual(['a waypoint for this object alone is not modelled (a namespace\'s istio.io/use-waypoint is)']);
    expect(notModelledIn({ apiVersion: 'policy.linkerd.io/v1beta3', kind: 'HTTPRoute', metadata: { name: 'reads', namespace: 'payments' }, spec: { parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'api-http' }], rules: [{ matches: [{ method: 'GET' }] }] } })).toEqual([]);
  });

  it('lists what a cluster holds that the twin ignores, leaving out meshdrill\'s own objects', async () => {
    const lab = await startMeshLab({ mesh: 'istio', topology: MICRO });
    try {
      await lab.kube.apply({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: 'lua', namespace: 'server' }, spec: { configPatches: [] } });
      await lab.kube.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'partition', namespace: 'server', labels: { 'meshdrill.dev/run-id': 'r1' } }, spec: { podSelector: {}, policyTypes: ['Egress'] } });
      expect(lab.twin.notModelled()).toEqual(['EnvoyFilter server/lua: Envoy configuration patches are not modelled']);
    } finally {
      await lab.close();
    }
  });
});
