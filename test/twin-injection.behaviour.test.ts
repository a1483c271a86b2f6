import { expect } from 'vitest';
import { behaviourTable, type BehaviourCase } from './helpers/behaviour-table.js';
import type { Lab } from './helpers/twin-lab.js';

// Which pods get a proxy, decided as each injector decides it, through the embedded cluster:
// namespaces labelled and pod templates patched with the Kubernetes API, pods restarted by their
// Deployments, proxies read from the pods.

async function labelNamespace(lab: Lab, ns: string, labels: Record<string, string | null>, annotations: Record<string, string | null> = {}): Promise<void> {
  await lab.lab.kube.mergePatch('v1', 'Namespace', undefined, ns, { metadata: { labels, annotations } });
}

/** Patches the pod template of server/api, which rolls its pods. */
async function templateOfApi(lab: Lab, metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }): Promise<void> {
  await lab.lab.kube.mergePatch('apps/v1', 'Deployment', 'server', 'api', { spec: { template: { metadata } } });
  await lab.advance(60_000);
}

const sidecars = (lab: Lab) => lab.pods('server').filter((p) => ((p.spec as { containers?: Array<{ name: string }> }).containers ?? []).some((c) => c.name === 'istio-proxy' || c.name === 'linkerd-proxy')).length;

const CASES: BehaviourCase[] = [
  {
    name: 'istio: a namespace on a revision no control plane serves gets no sidecars',
    mesh: 'istio',
    source: 'istio.io setup/upgrade/canary: a namespace labelled istio.io/rev=<rev> is injected by that revision\'s webhook only',
    run: async (lab) => {
      await labelNamespace(lab, 'server', { 'istio.io/rev': 'canary' });
      await lab.restart('server');
      expect(sidecars(lab)).toBe(0);
    },
  },
  {
    name: 'istio: a namespace on the installed revision ("default") is injected',
    mesh: 'istio',
    source: 'mutatingwebhook.yaml rev.namespace.sidecar-injector: istio.io/rev In [<revision>], istio-injection DoesNotExist',
    run: async (lab) => {
      await labelNamespace(lab, 'server', { 'istio.io/rev': 'default' });
      await lab.restart('server');
      expect(sidecars(lab)).toBe(2);
    },
  },
  {
    name: 'istio: istio-injection=enabled wins over an istio.io/rev label on the same namespace',
    mesh: 'istio',
    source: 'istio.io setup/additional-setup/sidecar-injection "Controlling the injection policy" (istio-injection takes precedence over istio.io/rev)',
    run: async (lab) => {
      await labelNamespace(lab, 'server', { 'istio-injection': 'enabled', 'istio.io/rev': 'canary' });
      await lab.restart('server');
      expect(sidecars(lab)).toBe(2);
    },
  },
  {
    name: 'istio: a namespace with istio-injection=disabled is not injected even when the pod asks',
    mesh: 'istio',
    source: 'istio.io setup/additional-setup/sidecar-injection: "if either the namespace or the pod label disables injection, the pod is not injected"',
    run: async (lab) => {
      await labelNamespace(lab, 'server', { 'istio-injection': 'disabled' });
      await templateOfApi(lab, { labels: { 'sidecar.istio.io/inject': 'true' } });
      expect(sidecars(lab)).toBe(0);
    },
  },
  {
    name: 'istio: a pod labelled sidecar.istio.io/inject=true is injected in a namespace that says nothing',
    mesh: 'istio',
    source: 'mutatingwebhook.yaml object.sidecar-injector: namespace without istio-injection and istio.io/rev, pod sidecar.istio.io/inject In [true]',
    run: async (lab) => {
      await templateOfApi(lab, { labels: { 'sidecar.istio.io/inject': 'true' } });
      expect(sidecars(lab)).toBe(2);
    },
  },
  {
    name: 'istio: a pod labelled istio.io/rev of the installed revision is injected in a namespace that says nothing',
    mesh: 'istio',
    source: 'mutatingwebhook.yaml rev.object.sidecar-injector: pod istio.io/rev In [<revision>]',
    run: async (lab) => {
      await templateOfApi(lab, { labels: { 'istio.io/rev': 'default' } });
      expect(sidecars(lab)).toBe(2);
    },
  },
  {
    name: 'istio: a pod labelled istio.io/rev of a revision not installed stays without a sidecar',
    mesh: 'istio',
    source: 'mutatingwebhook.yaml rev.object.sidecar-injector (only the installed revision\'s webhook exists)',
    run: async (lab) => {
      await templateOfApi(lab, { labels: { 'istio.io/rev': 'canary' } });
      expect(sidecars(lab)).toBe(0);
    },
  },
  {
    name: 'linkerd: a pod annotated linkerd.io/inject=enabled is injected in a namespace that disables injection',
    mesh: 'linkerd',
    source: 'linkerd.io reference/proxy-configuration: annotations on the pod template override the namespace\'s',
    run: async (lab) => {
      await labelNamespace(lab, 'server', {}, { 'linkerd.io/inject': 'disabled' });
      await templateOfApi(lab, { annotations: { 'linkerd.io/inject': 'enabled' } });
      expect(sidecars(lab)).toBe(2);
    },
  },
  {
    name: 'linkerd: a pod annotated linkerd.io/inject=disabled stays out of an injected namespace',
    mesh: 'linkerd',
    source: 'linkerd.io tasks/adding-your-service: linkerd.io/inject: disabled on a workload opts it out',
    run: async (lab) => {
      await labelNamespace(lab, 'server', {}, { 'linkerd.io/inject': 'enabled' });
      await templateOfApi(lab, { annotations: { 'linkerd.io/inject': 'disabled' } });
      expect(sidecars(lab)).toBe(0);
    },
  },
  {
    name: 'linkerd: linkerd.io/inject=ingress injects the proxy (ingress mode)',
    mesh: 'linkerd',
    source: 'linkerd.io tasks/using-ingress "Ingress mode": linkerd.io/inject: ingress',
    run: async (lab) => {
      await templateOfApi(lab, { annotations: { 'linkerd.io/inject': 'ingress' } });
      expect(sidecars(lab)).toBe(2);
    },
  },
  {
    name: 'linkerd: a namespace with config.linkerd.io/admission-webhooks=disabled is never injected',
    mesh: 'linkerd',
    source: 'linkerd.io reference/proxy-configuration (config.linkerd.io/admission-webhooks: disabled skips the webhook)',
    run: async (lab) => {
      await labelNamespace(lab, 'server', { 'config.linkerd.io/admission-webhooks': 'disabled' }, { 'linkerd.io/inject': 'enabled' });
      await lab.restart('server');
      expect(sidecars(lab)).toBe(0);
    },
  },
  {
    name: 'linkerd: the pod\'s default-inbound-policy annotation overrides the namespace\'s',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy "Default policies": the annotation on a pod spec or its namespace, the pod\'s winning',
    run: async (lab) => {
      await lab.mesh('client');
      await labelNamespace(lab, 'server', {}, { 'linkerd.io/inject': 'enabled', 'config.linkerd.io/default-inbound-policy': 'deny' });
      await templateOfApi(lab, { annotations: { 'config.linkerd.io/default-inbound-policy': 'all-unauthenticated' } });
      expect((await lab.window(120_000, 'client/caller', 'server/api')).share).toBe(1);
    },
  },
];

behaviourTable('mesh twin: injection', CASES);
