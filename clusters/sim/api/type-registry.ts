import { BUILTIN_RESOURCES, resourceKey, resourcesFromCrd, type ResourceType } from './resources.js';
import type { KubeObject } from './types.js';

/** The built-in types by kind and by resource (the first of each wins); they never change. */
const builtinsByKind = new Map<string, ResourceType>();
const builtinsByResource = new Map<string, ResourceType>();
for (const type of BUILTIN_RESOURCES) {
  if (!builtinsByKind.has(type.kind)) builtinsByKind.set(type.kind, type);
  if (!builtinsByResource.has(type.resource)) builtinsByResource.set(type.resource, type);
}

/** The resource types the server serves now: the built-ins plus whatever the stored CRDs define. */
export class TypeRegistry {
  private custom: ResourceType[] = [];
  /** The types and their lookups, rebuilt when the CRDs change (every request resolves a type). */
  private served: ResourceType[] = [...BUILTIN_RESOURCES];
  private byPath = new Map<string, ResourceType>();
  private byResourceKey = new Map<string, ResourceType>();

  constructor() {
    this.index();
  }

  /** The served types; callers must not change the array. */
  all(): readonly ResourceType[] {
    return this.served;
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${resource}`);
  }

  byKey(key: string): ResourceType | undefined {
    return this.byResourceKey.get(key);
  }

  /** A built-in type (never a custom resource) by kind: "Pod", "Deployment". */
  builtinKind(kind: string): ResourceType | undefined {
    return builtinsByKind.get(kind);
  }

  /** A built-in type by resource: "pods", "deployments". */
  builtinResource(resource: string): ResourceType | undefined {
    return builtinsByResource.get(resource);
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
    this.index();
  }

  private index(): void {
    this.served = [...BUILTIN_RESOURCES, ...this.custom];
    this.byPath = new Map();
    this.byResourceKey = new Map();
    // The first of a path or key wins, as find() over the list did.
    for (const type of this.served) {
      const path = `${type.group}/${type.version}/${type.resource}`;
      if (!this.byPath.has(path)) this.byPath.set(path, type);
      if (!this.byResourceKey.has(resourceKey(type))) this.byResourceKey.set(resourceKey(type), type);
    }
  }
}
