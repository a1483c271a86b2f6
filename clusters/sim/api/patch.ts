import { errors } from './status.js';
import { copyJson } from './store.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value) as Json;
  }
  return out;
}

/** RFC 6902 JSON patch. Any failing operation fails the whole patch (nothing is half-applied). */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw errors.badRequest('json patch must be an array of operations');
  let doc = copyJson(target) as Json;
  for (const op of operations as Array<Record<string, unknown>>) {
    const path = parsePointer(String(op['path'] ?? ''));
    switch (op['op']) {
      case 'add':
        doc = setAt(doc, path, op['value'] as Json, 'add');
        break;
      case 'replace':
        getAt(doc, path);
        doc = setAt(doc, path, op['value'] as Json, 'replace');
        break;
      case 'remove':
        getAt(doc, path);
        doc = removeAt(doc, path);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op['value'])) throw errors.invalidPatch(`testing value ${String(op['path'])} failed`);
        break;
      case 'copy':
      case 'move': {
        const from = parsePointer(String(op['from'] ?? ''));
        const value = copyJson(getAt(doc, from));
        if (op['op'] === 'move') doc = removeAt(doc, from);
        doc = setAt(doc, path, value, 'add');
        break;
      }
      default:
        throw errors.badRequest(`Unexpected kind: ${String(op['op'])}`);
    }
  }
  return doc;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw errors.badRequest(`JSON pointer must start with "/": ${pointer}`);
  return pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: Json, path: string[]): Json {
  let current: Json = doc;
  for (const part of path) {
    if (Array.isArray(current)) current = current[Number(part)] as Json;
    else if (isObject(current)) current = current[part] as Json;
    else current = undefined as unknown as Json;
    if (current === undefined) throw errors.invalidPatch(`doc is missing path: /${path.join('/')}`);
  }
  return current;
}

function setAt(doc: Json, path: string[], value: Json, mode: 'add' | 'replace'): Json {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw errors.invalidPatch(`array index out of bounds: ${last}`);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) {
    parent[last] = value;
  } else {
    throw errors.invalidPatch(`doc is missing path: /${path.join('/')}`);
  }
  return doc;
}

function removeAt(doc: Json, path: string[]): Json {
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) delete parent[last];
  return doc;
}

/**
 * The merge keys of list fields in built-in types (the `x-kubernetes-patch-merge-key` of the
 * Kubernetes API): lists with a merge key merge item by item in strategic merge patch and
 * server-side apply; other lists are replaced.
 */
export const PATCH_MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  tolerations: 'key',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  webhooks: 'name',
};

function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  if (field === 'ports') {
    // Container ports merge on containerPort; service ports on port.
    return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  }
  return PATCH_MERGE_KEYS[field];
}

/**
 * Strategic merge patch, as kubectl sends it for built-in types: like a merge patch, but lists
 * with a merge key merge item by item; understands `$patch: delete|replace`, `$retainKeys`,
 * `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  if (patch['$patch'] === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch['$patch'] === 'delete') return undefined;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  const retain = Array.isArray(patch['$retainKeys']) ? (patch['$retainKeys'] as string[]) : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys' || key === '$patch') continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const drop = new Set((value as Json[]).map((v) => JSON.stringify(v)));
      if (Array.isArray(out[field])) out[field] = (out[field] as Json[]).filter((v) => !drop.has(JSON.stringify(v)));
      continue;
    }
    if (value === null) {
      delete out[key];
      continue;
    }
    const current = out[key];
    if (Array.isArray(value)) {
      out[key] = mergeList(key, Array.isArray(current) ? current : [], value, patch[`$setElementOrder/${key}`]) as Json;
    } else if (isObject(value)) {
      const merged = strategicMergePatch(current, value);
      if (merged === undefined) delete out[key];
      else out[key] = merged as Json;
    } else {
      out[key] = value;
    }
  }
  if (retain) for (const key of Object.keys(out)) if (!retain.includes(key)) delete out[key];
  return out;
}

function mergeList(field: string, current: Json[], patch: Json[], order: unknown): Json[] {
  const mergeKey = mergeKeyFor(field, [...current, ...patch]);
  if (!mergeKey || !patch.every(isObject)) return patch.map(stripDirectives);
  const result = current.map((item) => item);
  for (const item of patch as JsonObject[]) {
    const id = JSON.stringify(item[mergeKey]);
    const index = result.findIndex((existing) => isObject(existing) && JSON.stringify(existing[mergeKey]) === id);
    if (item['$patch'] === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) result[index] = strategicMergePatch(result[index], item) as Json;
    else result.push(stripDirectives(item));
  }
  if (!Array.isArray(order)) return result;
  // Honour the order kubectl asks for; items it does not name keep their place after those it does.
  const rank = new Map(order.map((o, i) => [JSON.stringify(isObject(o) ? o[mergeKey] : o), i]));
  return [...result].sort((a, b) => (rank.get(JSON.stringify((a as JsonObject)[mergeKey])) ?? 1e9) - (rank.get(JSON.stringify((b as JsonObject)[mergeKey])) ?? 1e9));
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) if (!key.startsWith('$')) out[key] = stripDirectives(child);
  return out;
}
