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
  // The models alone (every model class is there), not the package's API clients: half the
  // start-up of an embedded cluster in a process that never talks HTTP to it (`check`).
  models ??= (await import('@kubernetes/client-node/dist/gen/models/all.js')) as unknown as Record<string, ModelClass | undefined>;
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

/** A model's fields by JSON name with their shapes, worked out once per model (every write checks them). */
const compiled = new Map<string, Map<string, TypeShape> | undefined>();

function fieldsOf(model: string): Map<string, TypeShape> | undefined {
  if (compiled.has(model)) return compiled.get(model);
  const attributes = modelAttributes(model);
  const fields = attributes && new Map(attributes.map((a) => [a.baseName, shapeOf(a.type)]));
  compiled.set(model, fields);
  return fields;
}

/** Field paths in `value` that the model does not declare (".spec.replica"), as strict decoding reports them. */
export function unknownFields(model: string, value: unknown, path = ''): string[] {
  const out: string[] = [];
  collectUnknown(model, value, path, out);
  return out;
}

function collectUnknown(model: string, value: unknown, path: string, out: string[]): void {
  const fields = fieldsOf(model);
  if (!fields || value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const key in value) {
    const shape = fields.get(key);
    if (!shape) {
      out.push(`${path}.${key}`.replace(/^\./, ''));
      continue;
    }
    collectUnknownIn(shape, (value as Record<string, unknown>)[key], `${path}.${key}`, out);
  }
}

function collectUnknownIn(shape: TypeShape, value: unknown, path: string, out: string[]): void {
  if (shape.kind === 'model') return collectUnknown(shape.model, value, path, out);
  if (shape.kind === 'array' && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) collectUnknownIn(shape.item, value[i], `${path}[${i}]`, out);
    return;
  }
  if (shape.kind === 'map' && value && typeof value === 'object') {
    // Maps of scalars (labels, annotations, data) hold nothing undeclared.
    if (shape.value.kind === 'scalar') return;
    for (const [k, v] of Object.entries(value)) collectUnknownIn(shape.value, v, `${path}.${k}`, out);
  }
}

/** Removes undeclared fields, as a real API server prunes them from built-in objects. */
export function pruneUnknown(model: string, value: unknown): unknown {
  const fields = fieldsOf(model);
  if (!fields || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const shape = fields.get(key);
    if (shape) out[key] = pruneIn(shape, child);
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
