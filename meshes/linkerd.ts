import type { KubeClient, KubeObject } from '../clusters/index.js';
import { GATEWAY_ROLE_LABEL } from '../clusters/index.js';
import { linkerdIdentity } from './pki/index.js';
import { configMap, crd, deployment, formatGoDuration, MANAGED_BY, namespace, secret, service } from './objects.js';
import { linkerdPromql } from './promql.js';
import { deleteAll, restartWorkloads } from './restart.js';
import type { ControlPlane, InstallOptions, MeshAdapter, MtlsMode } from './types.js';

export const LINKERD_NAMESPACE = 'linkerd';
const DAY = 24 * 3_600_000;
/** The port the topology's workloads listen on; Servers select it. */
export const WORKLOAD_PORT = 8080;

// Linkerd's objects as its charts create them (../shared/reference/mesh-facts.md §2): identity on
// 8080, destination on 8086, policy on 8090; the injector webhook's failurePolicy is Ignore;
// the trust anchor lives in linkerd-identity-trust-roots, the issuer in linkerd-identity-issuer.
export class LinkerdAdapter implements MeshAdapter {
  readonly name = 'linkerd' as const;
  readonly mode = 'sidecar' as const;
  readonly controlPlane: ControlPlane = {
    namespace: LINKERD_NAMESPACE,
    components: [
      { name: 'linkerd-identity', labels: { 'linkerd.io/control-plane-component': 'identity' }, ports: [8080], role: 'ca' },
      { name: 'linkerd-destination', labels: { 'linkerd.io/control-plane-component': 'destination' }, ports: [8086, 8090], role: 'config' },
      { name: 'linkerd-proxy-injector', labels: { 'linkerd.io/control-plane-component': 'proxy-injector' }, ports: [8443], role: 'injector' },
    ],
  };
  readonly caObjects = [
    { kind: 'ConfigMap' as const, namespace: LINKERD_NAMESPACE, name: 'linkerd-identity-trust-roots', role: 'trust anchor (ca-bundle.crt), copied into each pod at injection' },
    { kind: 'Secret' as const, namespace: LINKERD_NAMESPACE, name: 'linkerd-identity-issuer', role: 'issuer certificate and key (crt.pem, key.pem), hot-reloaded' },
  ];

  async installManifests(options: InstallOptions = {}): Promise<KubeObject[]> {
    const { anchor, issuer } = await linkerdIdentity({ ...(options.now ? { now: options.now } : {}) });
    const lifetime = options.certLifetimeMs ?? DAY;
    const [identity, destination, injector] = this.controlPlane.components;
    return [
      namespace(LINKERD_NAMESPACE, { 'config.linkerd.io/admission-webhooks': 'disabled' }),
      crd('policy.linkerd.io', 'Server', 'servers', ['v1beta1', 'v1beta2', 'v1beta3'], ['srv']),
      crd('policy.linkerd.io', 'AuthorizationPolicy', 'authorizationpolicies', ['v1alpha1'], ['authzpolicy']),
      crd('policy.linkerd.io', 'MeshTLSAuthentication', 'meshtlsauthentications', ['v1alpha1'], ['meshtlsauthn']),
      // The rest of `linkerd install --crds` (2.15+), and the Gateway API routes it installs by default.
      crd('policy.linkerd.io', 'HTTPRoute', 'httproutes', ['v1alpha1', 'v1beta1', 'v1beta2', 'v1beta3']),
      crd('policy.linkerd.io', 'NetworkAuthentication', 'networkauthentications', ['v1alpha1'], ['netauthn', 'networkauthn']),
      crd('policy.linkerd.io', 'ServerAuthorization', 'serverauthorizations', ['v1alpha1', 'v1beta1'], ['saz', 'serverauthz', 'srvauthz']),
      crd('policy.linkerd.io', 'EgressNetwork', 'egressnetworks', ['v1alpha1']),
      crd('linkerd.io', 'ServiceProfile', 'serviceprofiles', ['v1alpha1', 'v1alpha2'], ['sp']),
      crd('workload.linkerd.io', 'ExternalWorkload', 'externalworkloads', ['v1alpha1', 'v1beta1']),
      crd('gateway.networking.k8s.io', 'HTTPRoute', 'httproutes', ['v1beta1', 'v1']),
      crd('gateway.networking.k8s.io', 'GRPCRoute', 'grpcroutes', ['v1alpha2', 'v1']),
      configMap(LINKERD_NAMESPACE, 'linkerd-identity-trust-roots', { 'ca-bundle.crt': anchor.certPem }),
      secret(LINKERD_NAMESPACE, 'linkerd-identity-issuer', { 'crt.pem': issuer.certPem, 'key.pem': issuer.keyPem }, 'linkerd.io/tls'),
      configMap(LINKERD_NAMESPACE, 'linkerd-config', { values: `identity:\n  issuer:\n    issuanceLifetime: ${formatGoDuration(lifetime)}\nproxy:\n  defaultInboundPolicy: all-unauthenticated\n` }),
      deployment(LINKERD_NAMESPACE, 'linkerd-identity', identity!.labels, identity!.ports),
      deployment(LINKERD_NAMESPACE, 'linkerd-destination', destination!.labels, destination!.ports),
      deployment(LINKERD_NAMESPACE, 'linkerd-proxy-injector', injector!.labels, injector!.ports),
      service(LINKERD_NAMESPACE, 'linkerd-identity', identity!.labels, [{ name: 'grpc', port: 8080 }]),
      service(LINKERD_NAMESPACE, 'linkerd-dst', destination!.labels, [{ name: 'grpc', port: 8086 }]),
      service(LINKERD_NAMESPACE, 'linkerd-policy', destination!.labels, [{ name: 'grpc', port: 8090 }]),
      service(LINKERD_NAMESPACE, 'linkerd-proxy-injector', injector!.labels, [{ name: 'proxy-injector', port: 443, targetPort: 8443 }]),
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'linkerd-proxy-injector-webhook-config', labels: MANAGED_BY },
        webhooks: [
          {
            name: 'linkerd-proxy-injector.linkerd.io',
            clientConfig: { service: { name: 'linkerd-proxy-injector', namespace: LINKERD_NAMESPACE, path: '/', port: 443 } },
            rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods', 'services'] }],
            namespaceSelector: { matchExpressions: [{ key: 'config.linkerd.io/admission-webhooks', operator: 'NotIn', values: ['disabled'] }] },
            // Linkerd's default (values.yaml webhookFailurePolicy); values-ha.yaml sets Fail.
            failurePolicy: 'Ignore',
            timeoutSeconds: 10,
            sideEffects: 'None',
            admissionReviewVersions: ['v1'],
          },
        ],
      },
    ];
  }

  async uninstall(kube: KubeClient): Promise<number> {
    return deleteAll(kube, await this.installManifests());
  }

  namespaceMarks(meshed: boolean): { labels: Record<string, string | null>; annotations: Record<string, string | null> } {
    // An annotation, not a label (adding-your-service.md).
    return { labels: {}, annotations: { 'linkerd.io/inject': meshed ? 'enabled' : null } };
  }

  async meshNamespace(kube: KubeClient, ns: string, options: { restart?: boolean; now?: Date } = {}): Promise<void> {
    // Existing pods need a restart to be injected.
    await kube.mergePatch('v1', 'Namespace', undefined, ns, { metadata: this.namespaceMarks(true) });
    if (options.restart !== false) await restartWorkloads(kube, ns, options.now);
  }

  async unmeshNamespace(kube: KubeClient, ns: string, options: { restart?: boolean; now?: Date } = {}): Promise<void> {
    await kube.mergePatch('v1', 'Namespace', undefined, ns, { metadata: this.namespaceMarks(false) });
    if (options.restart !== false) await restartWorkloads(kube, ns, options.now);
  }

  /**
   * Linkerd's STRICT: a Server over the workload port (once a Server exists, traffic not
   * authorized is denied) with an AuthorizationPolicy requiring any meshed identity. These apply
   * without restarts, unlike the default-inbound-policy annotation (server-policy.md).
   *
   * The topology's ingress gateways stay outside the Server: Linkerd has no ingress of its own; an
   * ingress controller is meshed so its calls inward get mTLS, while what it accepts from outside
   * is plaintext (linkerd.io/2/tasks/using-ingress). A Server selecting it with a meshed-only
   * policy would refuse every outside request, so its podSelector leaves role=gateway pods out
   * and they keep the default inbound policy.
   */
  mtlsObjects(ns: string | undefined, mode: MtlsMode): { apply: KubeObject[]; remove: KubeObject[] } {
    const target = ns ?? 'default';
    const objects: KubeObject[] = [
      { apiVersion: 'policy.linkerd.io/v1beta3', kind: 'Server', metadata: { name: 'meshdrill-workloads', namespace: target, labels: MANAGED_BY }, spec: { podSelector: { matchExpressions: [{ key: GATEWAY_ROLE_LABEL, operator: 'NotIn', values: ['gateway'] }] }, port: WORKLOAD_PORT, proxyProtocol: 'HTTP/1' } },
      { apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'MeshTLSAuthentication', metadata: { name: 'meshdrill-any-meshed', namespace: target, labels: MANAGED_BY }, spec: { identities: ['*'] } },
      {
        apiVersion: 'policy.linkerd.io/v1alpha1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'meshdrill-require-mtls', namespace: target, labels: MANAGED_BY },
        spec: {
          targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'meshdrill-workloads' },
          requiredAuthenticationRefs: [{ group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'meshdrill-any-meshed' }],
        },
      },
    ];
    return mode === 'STRICT' ? { apply: objects, remove: [] } : { apply: [], remove: objects };
  }

  promql(sli: Parameters<MeshAdapter['promql']>[0], scope: Parameters<MeshAdapter['promql']>[1], window: string): string {
    return linkerdPromql(sli, scope, window);
  }
}
