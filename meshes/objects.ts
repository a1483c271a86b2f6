import type { KubeObject } from '../clusters/index.js';
import { crdSchema } from './crd-schemas.js';

// Small builders for the control-plane objects the adapters install on the embedded cluster.

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'meshdrill' };

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...MANAGED_BY, ...labels } } };
}

export function crd(group: string, kind: string, plural: string, versions: string[], shortNames: string[] = []): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, labels: MANAGED_BY },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), ...(shortNames.length ? { shortNames } : {}) },
      versions: versions.map((name, i) => ({
        name,
        served: true,
        storage: i === versions.length - 1,
        schema: { openAPIV3Schema: crdSchema(group, kind) },
      })),
    },
  };
}

export function deployment(ns: string, name: string, labels: Record<string, string>, ports: number[], replicas = 1): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { ...MANAGED_BY, ...labels } },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'discovery', image: `meshdrill/sim-${name}:1`, ports: ports.map((containerPort) => ({ containerPort })) }] },
      },
    },
  };
}

export function daemonSet(ns: string, name: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: ns, labels: { ...MANAGED_BY, ...labels } },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: `meshdrill/sim-${name}:1` }] } } },
  };
}

export function service(ns: string, name: string, selector: Record<string, string>, ports: Array<{ name: string; port: number; targetPort?: number }>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, labels: MANAGED_BY }, spec: { selector, ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) } };
}

export function secret(ns: string, name: string, data: Record<string, string>, type = 'Opaque'): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns, labels: MANAGED_BY }, type, stringData: data };
}

export function configMap(ns: string, name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: MANAGED_BY }, data };
}

export function formatGoDuration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${h}h${m}m${s}s`;
}
