import { matchesLabels, requirementsFromSelector } from '../api/selectors.js';
import { ApiError } from '../api/status.js';
import type { KubeObject } from '../api/types.js';
import type { MeshKind } from './control-plane.js';
import { parseKubeQuantity } from '../../../model/index.js';

type Obj = Record<string, unknown>;

export interface InjectionContext {
  mesh: MeshKind;
  namespace: KubeObject | undefined;
  /** The cluster's MutatingWebhookConfigurations: Istio's injector selects pods by their selectors. */
  webhooks?: KubeObject[];
  /** The injector webhook's endpoint is serving. */
  injectorUp: boolean;
  /** Linkerd: the trust anchor PEM at this moment, copied into the pod. */
  trustAnchorsPem?: string;
  injectorServiceIp?: string;
}

export const SIDECAR_STATUS = 'sidecar.istio.io/status';
export const LINKERD_TRUST_ENV = 'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS';
export const LINKERD_POLICY_ENV = 'LINKERD2_PROXY_INBOUND_DEFAULT_POLICY';

// Control-plane and system namespaces are never injected (istio/istio#26380: an injected
// istio-system can block istiod from coming back).
const NEVER_INJECTED = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'istio-system', 'linkerd']);

/**
 * Whether a pod being created is selected for injection, from labels and annotations at this moment.
 *
 * Istio: the API server calls the injector when a webhook of an istio-sidecar-injector
 * MutatingWebhookConfiguration selects the pod — its namespaceSelector the namespace's labels, its
 * objectSelector the pod's. The chart's four webhooks (istio/istio manifests/charts/istio-control/
 * istio-discovery/templates/mutatingwebhook.yaml) give: istio-injection=enabled, or istio.io/rev
 * naming an installed revision, on the namespace; or, where the namespace says neither, the pod's
 * sidecar.istio.io/inject=true or istio.io/rev; sidecar.istio.io/inject=false always opts out; a
 * namespace labelled istio-injection=disabled injects nothing ("if either is disabled, no injection",
 * istio.io setup/additional-setup/sidecar-injection). A revision no webhook serves injects nothing.
 *
 * Linkerd: linkerd.io/inject on the pod template wins over the namespace's (enabled, ingress, or
 * disabled) (linkerd.io reference/proxy-configuration: pod annotations override namespace ones).
 */
export function wantsInjection(mesh: MeshKind, pod: KubeObject, namespace: KubeObject | undefined, webhooks?: KubeObject[]): boolean {
  const ns = pod.metadata.namespace ?? '';
  if (NEVER_INJECTED.has(ns)) return false;
  const nsLabels = namespace?.metadata.labels ?? {};
  const nsAnnotations = namespace?.metadata.annotations ?? {};
  const labels = pod.metadata.labels ?? {};
  const annotations = pod.metadata.annotations ?? {};
  if (mesh === 'istio') {
    const nsSelectable = { 'kubernetes.io/metadata.name': ns, ...nsLabels };
    return (webhooks ?? [])
      .filter((w) => w.metadata.name.startsWith('istio-sidecar-injector'))
      .flatMap((w) => ((w as Obj)['webhooks'] as Obj[] | undefined) ?? [])
      .some((hook) => selects(hook['namespaceSelector'], nsSelectable) && selects(hook['objectSelector'], labels));
  }
  if (nsLabels['config.linkerd.io/admission-webhooks'] === 'disabled') return false;
  const value = annotations['linkerd.io/inject'] ?? nsAnnotations['linkerd.io/inject'];
  return value === 'enabled' || value === 'ingress';
}

function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (selector === undefined || selector === null) return true;
  return matchesLabels(requirementsFromSelector(selector as Parameters<typeof requirementsFromSelector>[0]), labels);
}

/**
 * The injector at pod creation. Istio's webhook has failurePolicy Fail: while istiod is
 * unreachable, pods in injected namespaces are rejected. Linkerd's has Ignore: the pod is created
 * without a proxy, silently unmeshed (mesh-facts §1.7, §2.2).
 */
export function inject(pod: KubeObject, ctx: InjectionContext): KubeObject {
  if (!wantsInjection(ctx.mesh, pod, ctx.namespace, ctx.webhooks)) return pod;
  if (!ctx.injectorUp) {
    if (ctx.mesh === 'linkerd') return pod;
    throw new ApiError(
      500,
      'InternalError',
      `Internal error occurred: failed calling webhook "namespace.sidecar-injector.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/inject?timeout=10s": dial tcp ${ctx.injectorServiceIp ?? '10.96.0.10'}:443: connect: connection refused`,
    );
  }
  const out = structuredClone(pod) as KubeObject;
  const spec = (out.spec ?? {}) as Obj;
  const containers = [...((spec['containers'] as Obj[] | undefined) ?? [])];
  const initContainers = [...((spec['initContainers'] as Obj[] | undefined) ?? [])];
  const annotations = pod.metadata.annotations ?? {};
  if (ctx.mesh === 'istio') {
    // The sidecar's resources: global.proxy.resources (requests 100m/128Mi, limits 2000m/1024Mi),
    // overridden per pod by sidecar.istio.io/proxyCPU, proxyCPULimit, proxyMemory, proxyMemoryLimit
    // (istio.io reference/config/annotations).
    const resources = {
      requests: { cpu: annotations['sidecar.istio.io/proxyCPU'] ?? '100m', memory: annotations['sidecar.istio.io/proxyMemory'] ?? '128Mi' },
      limits: { cpu: annotations['sidecar.istio.io/proxyCPULimit'] ?? '2000m', memory: annotations['sidecar.istio.io/proxyMemoryLimit'] ?? '1024Mi' },
    };
    containers.push({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.27.0', args: ['proxy', 'sidecar'], ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }], readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 } }, resources });
    initContainers.push({ name: 'istio-init', image: 'docker.io/istio/proxyv2:1.27.0', args: ['istio-iptables'] });
    out.metadata.labels = { ...out.metadata.labels, 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': out.metadata.labels?.['app'] ?? out.metadata.generateName ?? out.metadata.name };
    out.metadata.annotations = { ...out.metadata.annotations, [SIDECAR_STATUS]: JSON.stringify({ initContainers: ['istio-init'], containers: ['istio-proxy'], volumes: ['istio-envoy', 'istiod-ca-cert'], revision: 'default' }) };
  } else {
    // The pod's annotation overrides the namespace's (linkerd.io reference/proxy-configuration).
    const policy = pod.metadata.annotations?.['config.linkerd.io/default-inbound-policy'] ?? ctx.namespace?.metadata.annotations?.['config.linkerd.io/default-inbound-policy'] ?? 'all-unauthenticated';
    // The trust anchor and the default inbound policy are fixed into the pod at injection (_proxy.tpl).
    // No limits unless asked (the chart leaves proxy.resources empty): config.linkerd.io/proxy-cpu-limit
    // and proxy-memory-limit, with their -request twins (linkerd.io reference/proxy-configuration).
    const resource = (kind: 'requests' | 'limits', name: 'cpu' | 'memory') => annotations[`config.linkerd.io/proxy-${name}-${kind === 'requests' ? 'request' : 'limit'}`];
    const pick = (kind: 'requests' | 'limits') => Object.fromEntries((['cpu', 'memory'] as const).flatMap((n) => (resource(kind, n) ? [[n, resource(kind, n)!]] : [])));
    const resources = { ...(Object.keys(pick('requests')).length ? { requests: pick('requests') } : {}), ...(Object.keys(pick('limits')).length ? { limits: pick('limits') } : {}) };
    containers.unshift({
      name: 'linkerd-proxy',
      image: 'cr.l5d.io/linkerd/proxy:edge-25.8.1',
      ...(Object.keys(resources).length ? { resources } : {}),
      ports: [{ containerPort: 4143, name: 'linkerd-proxy' }, { containerPort: 4191, name: 'linkerd-admin' }],
      env: [
        { name: LINKERD_TRUST_ENV, value: ctx.trustAnchorsPem ?? '' },
        { name: LINKERD_POLICY_ENV, value: policy },
      ],
    });
    initContainers.push({ name: 'linkerd-init', image: 'cr.l5d.io/linkerd/proxy-init:v2.4.1' });
    out.metadata.labels = { ...out.metadata.labels, 'linkerd.io/control-plane-ns': 'linkerd', 'linkerd.io/workload-ns': out.metadata.namespace ?? '' };
    out.metadata.annotations = { ...out.metadata.annotations, 'linkerd.io/proxy-version': 'edge-25.8.1', 'linkerd.io/identity-mode': 'default' };
  }
  spec['containers'] = containers;
  spec['initContainers'] = initContainers;
  out.spec = spec;
  return out;
}

export function hasSidecar(pod: KubeObject): 'istio' | 'linkerd' | undefined {
  const containers = (((pod.spec ?? {}) as Obj)['containers'] as Obj[] | undefined) ?? [];
  if (containers.some((c) => c['name'] === 'istio-proxy')) return 'istio';
  if (containers.some((c) => c['name'] === 'linkerd-proxy')) return 'linkerd';
  return undefined;
}

export function linkerdEnv(pod: KubeObject, name: string): string | undefined {
  const containers = (((pod.spec ?? {}) as Obj)['containers'] as Obj[] | undefined) ?? [];
  const proxy = containers.find((c) => c['name'] === 'linkerd-proxy');
  return ((proxy?.['env'] as Array<{ name: string; value?: string }> | undefined) ?? []).find((e) => e.name === name)?.value;
}

/** The proxy container's CPU (cores) and memory (bytes) limits, where it has them. */
export function proxyLimits(pod: KubeObject): { cpu?: number; memory?: number } {
  const containers = (((pod.spec ?? {}) as Obj)['containers'] as Obj[] | undefined) ?? [];
  const proxy = containers.find((c) => c['name'] === 'istio-proxy' || c['name'] === 'linkerd-proxy');
  const limits = ((proxy?.['resources'] as Obj | undefined)?.['limits'] ?? {}) as Record<string, string>;
  const cpu = parseKubeQuantity(limits['cpu']);
  const memory = parseKubeQuantity(limits['memory']);
  return { ...(cpu !== undefined ? { cpu } : {}), ...(memory !== undefined ? { memory } : {}) };
}
