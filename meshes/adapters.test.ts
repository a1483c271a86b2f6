import { afterEach, describe, expect, it } from 'vitest';
import { meshAdapter } from './index.js';
import { startMeshLab, type MeshLab } from '../test/helpers/mesh-lab.js';

const labs: MeshLab[] = [];
afterEach(async () => {
  for (const lab of labs.splice(0)) await lab.close();
});

describe('meshes/adapters', () => {
  it.each([
    ['istio', 'sidecar', ['istio-system/istiod'], 'MutatingWebhookConfiguration/istio-sidecar-injector', 'Fail'],
    ['linkerd', 'sidecar', ['linkerd/linkerd-identity', 'linkerd/linkerd-destination', 'linkerd/linkerd-proxy-injector'], 'MutatingWebhookConfiguration/linkerd-proxy-injector-webhook-config', 'Ignore'],
  ] as const)('%s installs its control plane on the embedded cluster through the Kubernetes API', async (mesh, mode, deployments, webhook, policy) => {
    const lab = await startMeshLab({ mesh, mode });
    labs.push(lab);

    for (const ref of deployments) {
      const [ns, name] = ref.split('/');
      expect((await lab.kube.get('apps/v1', 'Deployment', ns, name!))?.['status']).toMatchObject({ availableReplicas: 1 });
    }
    const [kind, name] = webhook.split('/');
    const hook = await lab.kube.get('admissionregistration.k8s.io/v1', kind!, undefined, name!);
    expect((hook?.['webhooks'] as Array<{ failurePolicy: string }>)[0]?.failurePolicy).toBe(policy);
  });

  it('uninstalls what it installed', async () => {
    const lab = await startMeshLab({ mesh: 'linkerd' });
    labs.push(lab);

    const deleted = await lab.adapter.uninstall(lab.kube);

    expect(deleted).toBeGreaterThan(10);
    expect(await lab.kube.get('apps/v1', 'Deployment', 'linkerd', 'linkerd-identity')).toBeUndefined();
    expect(await lab.kube.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', undefined, 'linkerd-proxy-injector-webhook-config')).toBeUndefined();
  });

  it('labels namespaces the way each mesh expects', async () => {
    const lab = await startMeshLab({ mesh: 'istio' });
    labs.push(lab);
    await lab.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });

    await meshAdapter('istio', 'sidecar').meshNamespace(lab.kube, 'a');
    const sidecar = (await lab.kube.get('v1', 'Namespace', undefined, 'a'))?.metadata.labels;
    await meshAdapter('istio', 'ambient').meshNamespace(lab.kube, 'a');
    const ambient = (await lab.kube.get('v1', 'Namespace', undefined, 'a'))?.metadata.labels;
    await meshAdapter('linkerd').meshNamespace(lab.kube, 'a');
    const linkerd = (await lab.kube.get('v1', 'Namespace', undefined, 'a'))?.metadata.annotations;

    expect(sidecar?.['istio-injection']).toBe('enabled');
    expect(ambient?.['istio.io/dataplane-mode']).toBe('ambient');
    expect(linkerd?.['linkerd.io/inject']).toBe('enabled');
  });

  it('renders mTLS policy objects per mesh', () => {
    const istio = meshAdapter('istio').mtlsObjects('payments', 'STRICT');
    const mesh = meshAdapter('istio').mtlsObjects(undefined, 'PERMISSIVE');
    const linkerd = meshAdapter('linkerd').mtlsObjects('payments', 'STRICT');

    expect(istio.apply).toEqual([{ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'payments', labels: { 'app.kubernetes.io/managed-by': 'meshdrill' } }, spec: { mtls: { mode: 'STRICT' } } }]);
    expect(mesh.apply[0]?.metadata.namespace).toBe('istio-system');
    expect(meshAdapter('istio').mtlsObjects('payments', 'PERMISSIVE', { app: 'api' }).apply[0]?.['spec']).toEqual({ selector: { matchLabels: { app: 'api' } }, mtls: { mode: 'PERMISSIVE' } });
    expect(linkerd.apply.map((o) => o.kind)).toEqual(['Server', 'MeshTLSAuthentication', 'AuthorizationPolicy']);
    expect(meshAdapter('linkerd').mtlsObjects('payments', 'PERMISSIVE').remove).toHaveLength(3);
  });

  it('renders PromQL on each mesh\'s own metric names', () => {
    const istio = meshAdapter('istio');
    const linkerd = meshAdapter('linkerd');

    expect(istio.promql('success-rate', { service: 'payments/api' }, '5m')).toBe(
      '100 * (sum(rate(istio_requests_total{reporter="destination",destination_service_namespace="payments",destination_service_name="api",response_code!~"5.."}[5m])) or vector(0)) / sum(rate(istio_requests_total{reporter="destination",destination_service_namespace="payments",destination_service_name="api"}[5m]))',
    );
    expect(istio.promql('plaintext-share', { namespace: 'payments' }, '10m')).toContain('connection_security_policy="none"');
    expect(istio.promql('latency-p99', { edge: { from: 'legacy/batch', to: 'payments/api' } }, '5m')).toContain('reporter="source",source_workload_namespace="legacy",source_workload="batch"');
    expect(linkerd.promql('success-rate', { namespace: 'payments' }, '5m')).toBe(
      '100 * (sum(rate(response_total{direction="inbound",namespace="payments",classification="success"}[5m])) or vector(0)) / sum(rate(response_total{direction="inbound",namespace="payments"}[5m]))',
    );
    expect(linkerd.promql('plaintext-share', { namespace: 'payments' }, '5m')).toContain('tls!="true"');
  });

  it('refuses L7 SLIs in Istio ambient mode and unknown meshes, saying why', () => {
    expect(() => meshAdapter('istio', 'ambient').promql('success-rate', {}, '5m')).toThrow(/needs L7 metrics, which Istio ambient mode has only behind a waypoint/);
    expect(() => meshAdapter('istoi')).toThrow('Unknown mesh "istoi"; did you mean "istio"? One of: istio, linkerd');
    expect(() => meshAdapter('linkerd', 'ambient')).toThrow('Linkerd has no ambient mode');
  });
});
