// The adapter edge to @kubernetes/client-node's generated models: their attribute maps are the
// real API types (field names, JSON names, types), used here for strict field validation and
// to generate the OpenAPI documents kubectl downloads.
// The models are loaded once, by startSimCluster, before the server answers anything: commands
// that never start an embedded cluster do not load client-node at all.

export interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

type ModelClass = { getAttributeTypeMap?: () => Attribute[] };
let models: Record<string, ModelClass | undefined> | undefined;

export async function loadModels(): Promise<void> {
  models ??= (await import('@kubernetes/client-node')) as unknown as Record<string, ModelClass | undefined>;
}

export function modelAttributes(model: string): Attribute[] | undefined {
  if (!models) throw new Error('the Kubernetes models are not loaded: startSimCluster loads them');
  const cls = models[model];
  return typeof cls?.getAttributeTypeMap === 'function' ? cls.getAttributeTypeMap() : undefined;
}

/** What a type string of the models describes. */
export type TypeShape =
  | { kind: 'model'; model: string }
  | { kind: 'array'; item: TypeShape }
  | { kind: 'map'; value: TypeShape }
  | { kind: 'scalar'; type: 'string' | 'number' | 'boolean' | 'date' | 'int-or-string' | 'any' };

export function shapeOf(type: string): TypeShape {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return { kind: 'array', item: shapeOf(array[1]!) };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return { kind: 'map', value: shapeOf(map[1]!) };
  if (type === 'string') return { kind: 'scalar', type: 'string' };
  if (type === 'number') return { kind: 'scalar', type: 'number' };
  if (type === 'boolean') return { kind: 'scalar', type: 'boolean' };
  if (type === 'Date') return { kind: 'scalar', type: 'date' };
  if (type === 'IntOrString') return { kind: 'scalar', type: 'int-or-string' };
  if (modelAttributes(type)) return { kind: 'model', model: type };
  return { kind: 'scalar', type: 'any' };
}

/** Field paths in `value` that the model does not declare (".spec.replica"), as strict decoding reports them. */
export function unknownFields(model: string, value: unknown, path = ''): string[] {
  const attributes = modelAttributes(model);
  if (!attributes || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const byName = new Map(attributes.map((a) => [a.baseName, a]));
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const attribute = byName.get(key);
    if (!attribute) {
      out.push(`${path}.${key}`.replace(/^\./, ''));
      continue;
    }
    out.push(...unknownIn(shapeOf(attribute.type), child, `${path}.${key}`));
  }
  return out;
}

function unknownIn(shape: TypeShape, value: unknown, path: string): string[] {
  if (shape.kind === 'model') return unknownFields(shape.model, value, path);
  if (shape.kind === 'array' && Array.isArray(value)) return value.flatMap((item, i) => unknownIn(shape.item, item, `${path}[${i}]`));
  if (shape.kind === 'map' && value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => unknownIn(shape.value, v, `${path}.${k}`));
  }
  return [];
}

/** Removes undeclared fields, as a real API server prunes them from built-in objects. */
export function pruneUnknown(model: string, value: unknown): unknown {
  const attributes = modelAttributes(model);
  if (!attributes || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const byName = new Map(attributes.map((a) => [a.baseName, a]));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const attribute = byName.get(key);
    if (attribute) out[key] = pruneIn(shapeOf(attribute.type), child);
  }
  return out;
}

function pruneIn(shape: TypeShape, value: unknown): unknown {
  if (shape.kind === 'model') return pruneUnknown(shape.model, value);
  if (shape.kind === 'array' && Array.isArray(value)) return value.map((item) => pruneIn(shape.item, item));
  if (shape.kind === 'map' && value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pruneIn(shape.value, v)]));
  }
  return value;
}
