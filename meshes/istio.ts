import type { KubeClient, KubeObject } from '../clusters/index.js';
import { istioCacerts } from './pki/index.js';
import { configMap, crd, daemonSet, deployment, formatGoDuration, MANAGED_BY, namespace, secret, service } from './objects.js';
import { CIRCUIT_BREAKER_STATS, istioPromql, RETRY_STATS, SSL_STATS } from './promql.js';
import { deleteAll, restartWorkloads } from './restart.js';
import type { ControlPlane, DataPlaneMode, InstallOptions, MeshAdapter, MtlsMode } from './types.js';

export const ISTIO_NAMESPACE = 'istio-system';
const DAY = 24 * 3_600_000;

// Istio's objects as its charts create them (../shared/reference/mesh-facts.md §1): istiod serves
// xDS and the CA on 15012 and webhooks on 15017 (443 on the Service); the injector webhook has
// failurePolicy Fail; ambient adds the ztunnel and istio-cni DaemonSets.
export class IstioAdapter implements MeshAdapter {
  readonly name = 'istio' as const;
  readonly controlPlane: ControlPlane = {
    namespace: ISTIO_NAMESPACE,
    components: [{ name: 'istiod', labels: { app: 'istiod', 'istio.io/rev': 'default' }, ports: [15010, 15012, 15014, 15017], role: 'ca+config' }],
  };
  readonly caObjects = [
    { kind: 'Secret' as const, namespace: ISTIO_NAMESPACE, name: 'cacerts', role: 'plugged-in CA (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem)' },
    { kind: 'Secret' as const, namespace: ISTIO_NAMESPACE, name: 'istio-ca-secret', role: 'self-signed CA istiod creates when cacerts is absent' },
  ];

  constructor(readonly mode: DataPlaneMode = 'sidecar', private readonly revision?: string) {}

  async installManifests(options: InstallOptions = {}): Promise<KubeObject[]> {
    const { files } = await istioCacerts({ ...(options.now ? { now: options.now } : {}), ...(options.sharedRoot ? { root: options.sharedRoot.root, cluster: options.sharedRoot.cluster } : {}) });
    const ttl = options.certLifetimeMs ?? DAY;
    const labels = this.controlPlane.components[0]!.labels;
    const objects: KubeObject[] = [
      namespace(ISTIO_NAMESPACE),
      crd('security.istio.io', 'PeerAuthentication', 'peerauthentications', ['v1beta1', 'v1'], ['pa']),
      crd('security.istio.io', 'AuthorizationPolicy', 'authorizationpolicies', ['v1beta1', 'v1'], ['ap']),
      crd('networking.istio.io', 'VirtualService', 'virtualservices', ['v1alpha3', 'v1beta1', 'v1'], ['vs']),
      crd('networking.istio.io', 'DestinationRule', 'destinationrules', ['v1alpha3', 'v1beta1', 'v1'], ['dr']),
      crd('networking.istio.io', 'Sidecar', 'sidecars', ['v1alpha3', 'v1beta1', 'v1']),
      // The rest of the base chart's CRDs: a repo may hold any of them (the twin reports what it does not model).
      crd('networking.istio.io', 'ServiceEntry', 'serviceentries', ['v1alpha3', 'v1beta1', 'v1'], ['se']),
      crd('networking.istio.io', 'Gateway', 'gateways', ['v1alpha3', 'v1beta1', 'v1'], ['gw']),
      crd('networking.istio.io', 'WorkloadEntry', 'workloadentries', ['v1alpha3', 'v1beta1', 'v1'], ['we']),
      crd('networking.istio.io', 'WorkloadGroup', 'workloadgroups', ['v1alpha3', 'v1beta1', 'v1'], ['wg']),
      crd('networking.istio.io', 'EnvoyFilter', 'envoyfilters', ['v1alpha3']),
      crd('networking.istio.io', 'ProxyConfig', 'proxyconfigs', ['v1beta1']),
      crd('security.istio.io', 'RequestAuthentication', 'requestauthentications', ['v1beta1', 'v1'], ['ra']),
      crd('telemetry.istio.io', 'Telemetry', 'telemetries', ['v1alpha1', 'v1'], ['telemetry']),
      crd('extensions.istio.io', 'WasmPlugin', 'wasmplugins', ['v1alpha1']),
      // Ambient's waypoints are Gateway API Gateways: their CRDs come first (istio.io ambient getting-started).
      ...(this.mode === 'ambient' ? [crd('gateway.networking.k8s.io', 'Gateway', 'gateways', ['v1beta1', 'v1']), crd('gateway.networking.k8s.io', 'HTTPRoute', 'httproutes', ['v1beta1', 'v1'])] : []),
      secret(ISTIO_NAMESPACE, 'cacerts', { ...files }),
      // SECRET_TTL is the lifetime proxies request (pilot-agent options.go); the CA caps it at 90 days.
      // proxyStatsMatcher keeps Envoy's upstream_rq_retry, which the retries SLI reads (envoy-stats docs).
      configMap(ISTIO_NAMESPACE, 'istio', { mesh: `defaultConfig:\n  proxyMetadata:\n    SECRET_TTL: ${formatGoDuration(ttl)}\n  proxyStatsMatcher:\n    inclusionRegexps:\n    - ${JSON.stringify(RETRY_STATS)}\n    - ${JSON.stringify(CIRCUIT_BREAKER_STATS)}\n    - ${JSON.stringify(SSL_STATS)}\n` }),
      deployment(ISTIO_NAMESPACE, 'istiod', labels, [15010, 15012, 15014, 15017, 8080]),
      service(ISTIO_NAMESPACE, 'istiod', { app: 'istiod' }, [
        { name: 'grpc-xds', port: 15010 },
        { name: 'https-dns', port: 15012 },
        { name: 'https-webhook', port: 443, targetPort: 15017 },
        { name: 'http-monitoring', port: 15014 },
      ]),
      this.injectorWebhook(),
      this.validatingWebhook(),
    ];
    if (this.mode === 'ambient') {
      objects.push(daemonSet(ISTIO_NAMESPACE, 'ztunnel', { app: 'ztunnel' }), daemonSet(ISTIO_NAMESPACE, 'istio-cni-node', { 'k8s-app': 'istio-cni-node' }));
    }
    return objects;
  }

  private injectorWebhook(): KubeObject {
    const clientConfig = { service: { name: 'istiod', namespace: ISTIO_NAMESPACE, path: '/inject', port: 443 } };
    const rev = this.revision ?? 'default';
    const base = { clientConfig, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }], failurePolicy: 'Fail', sideEffects: 'None', admissionReviewVersions: ['v1'] };
    return {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: this.revision ? `istio-sidecar-injector-${this.revision}` : 'istio-sidecar-injector', labels: { ...MANAGED_BY, app: 'sidecar-injector' } },
      // The chart's four webhooks (mutatingwebhook.yaml): by namespace or by object, by revision or by label.
      webhooks: [
        { ...base, name: 'rev.namespace.sidecar-injector.istio.io', namespaceSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: [rev] }, { key: 'istio-injection', operator: 'DoesNotExist' }] }, objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] } },
        { ...base, name: 'rev.object.sidecar-injector.istio.io', namespaceSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'DoesNotExist' }, { key: 'istio-injection', operator: 'DoesNotExist' }] }, objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }, { key: 'istio.io/rev', operator: 'In', values: [rev] }] } },
        ...(this.revision
          ? []
          : [
              { ...base, name: 'namespace.sidecar-injector.istio.io', namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] }, objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] } },
              { ...base, name: 'object.sidecar-injector.istio.io', namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'DoesNotExist' }, { key: 'istio.io/rev', operator: 'DoesNotExist' }] }, objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] }, { key: 'istio.io/rev', operator: 'DoesNotExist' }] } },
            ]),
      ],
    };
  }

  private validatingWebhook(): KubeObject {
    return {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'istiod-default-validator', labels: MANAGED_BY },
      webhooks: [
        {
          name: 'validation.istio.io',
          clientConfig: { service: { name: 'istiod', namespace: ISTIO_NAMESPACE, path: '/validate', port: 443 } },
          rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['security.istio.io', 'networking.istio.io', 'telemetry.istio.io', 'extensions.istio.io'], apiVersions: ['*'], resources: ['*'] }],
          // The chart renders Ignore; istiod flips it to Fail once ready (mesh-facts §1.7).
          failurePolicy: 'Fail',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
        },
      ],
    };
  }

  async uninstall(kube: KubeClient): Promise<number> {
    return deleteAll(kube, await this.installManifests());
  }

  namespaceMarks(meshed: boolean): { labels: Record<string, string | null>; annotations: Record<string, string | null> } {
    // Ambient: a label, no restart; sidecar: istio-injection, or istio.io/rev without it (mesh-facts §1.4).
    if (this.mode === 'ambient') return { labels: { 'istio.io/dataplane-mode': meshed ? 'ambient' : null }, annotations: {} };
    if (!meshed) return { labels: { 'istio-injection': null, 'istio.io/rev': null }, annotations: {} };
    return { labels: this.revision ? { 'istio.io/rev': this.revision, 'istio-injection': null } : { 'istio-injection': 'enabled' }, annotations: {} };
  }

  async meshNamespace(kube: KubeClient, ns: string, options: { restart?: boolean; now?: Date } = {}): Promise<void> {
    await kube.mergePatch('v1', 'Namespace', undefined, ns, { metadata: this.namespaceMarks(true) });
    if (this.mode === 'sidecar' && options.restart !== false) await restartWorkloads(kube, ns, options.now);
  }

  async unmeshNamespace(kube: KubeClient, ns: string, options: { restart?: boolean; now?: Date } = {}): Promise<void> {
    await kube.mergePatch('v1', 'Namespace', undefined, ns, { metadata: this.namespaceMarks(false) });
    if (this.mode === 'sidecar' && options.restart !== false) await restartWorkloads(kube, ns, options.now);
  }

  mtlsObjects(ns: string | undefined, mode: MtlsMode, workload?: Record<string, string>): { apply: KubeObject[]; remove: KubeObject[] } {
    // No selector: namespace-wide, or mesh-wide in the root namespace; a selector scopes it to a
    // workload (selectors are ignored in the root namespace) (PeerAuthentication reference).
    const name = workload ? `meshdrill-${Object.values(workload).join('-')}`.slice(0, 63) : 'default';
    const policy: KubeObject = {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name, namespace: ns ?? ISTIO_NAMESPACE, labels: MANAGED_BY },
      spec: { ...(workload && ns ? { selector: { matchLabels: workload } } : {}), mtls: { mode } },
    };
    return { apply: [policy], remove: [] };
  }

  promql(sli: Parameters<MeshAdapter['promql']>[0], scope: Parameters<MeshAdapter['promql']>[1], window: string): string {
    return istioPromql(sli, scope, window, this.mode);
  }
}
