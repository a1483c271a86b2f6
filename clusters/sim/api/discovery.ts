import { groupVersion, VERBS, type ResourceType } from './resources.js';
import type { TypeRegistry } from './type-registry.js';

// Legacy (non-aggregated) discovery documents. kubectl asks for aggregated discovery first and
// falls back to these when the response is a plain APIGroupList.

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDocument(name: string, versions: string[]): Record<string, unknown> {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function apiGroupList(types: TypeRegistry): Record<string, unknown> {
  const groups = [...types.groups()].filter(([name]) => name !== '').map(([name, versions]) => groupDocument(name, versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(types: TypeRegistry, group: string): Record<string, unknown> | undefined {
  const versions = types.groups().get(group);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(group, versions) } : undefined;
}

export function apiResourceList(types: TypeRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const served = types.all().filter((t) => t.group === group && t.version === version);
  if (served.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const type of served) {
    resources.push({
      name: type.resource,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: VERBS,
      ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {}),
      ...(type.categories.length > 0 ? { categories: type.categories } : {}),
      storageVersionHash: hash(`${groupVersion(type)}/${type.kind}`),
    });
    for (const sub of type.subresources) resources.push(subresource(type, sub));
    // TokenRequest: what `kubectl create token` posts to.
    if (type.group === '' && type.resource === 'serviceaccounts') resources.push({ name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}

function subresource(type: ResourceType, sub: 'status' | 'scale'): Record<string, unknown> {
  return sub === 'scale'
    ? { name: `${type.resource}/scale`, singularName: '', namespaced: type.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }
    : { name: `${type.resource}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'patch', 'update'] };
}

function hash(text: string): string {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return Buffer.from(h.toString(16).padStart(8, '0')).toString('base64').slice(0, 11);
}
