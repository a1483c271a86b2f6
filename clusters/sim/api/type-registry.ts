import { BUILTIN_RESOURCES, resourceKey, resourcesFromCrd, type ResourceType } from './resources.js';
import type { KubeObject } from './types.js';

/** The resource types the server serves now: the built-ins plus whatever the stored CRDs define. */
export class TypeRegistry {
  private custom: ResourceType[] = [];

  all(): ResourceType[] {
    return [...BUILTIN_RESOURCES, ...this.custom];
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.all().find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  byKey(key: string): ResourceType | undefined {
    return this.all().find((t) => resourceKey(t) === key);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return this.all().find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  /** Group → versions served, in discovery order (core first, then by registration). */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const type of this.all()) {
      const versions = out.get(type.group) ?? [];
      if (!versions.includes(type.version)) versions.push(type.version);
      out.set(type.group, versions);
    }
    return out;
  }

  /** Re-derive custom resource types from the CRDs in the store (only Established ones count on a real server; here all do). */
  syncCrds(crds: KubeObject[]): void {
    this.custom = crds.flatMap((crd) => resourcesFromCrd(crd as Parameters<typeof resourcesFromCrd>[0]));
  }
}
