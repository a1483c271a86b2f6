import { createHash } from 'node:crypto';
import { modelAttributes, shapeOf, type TypeShape } from './models.js';
import { PATCH_MERGE_KEYS } from './patch.js';
import { groupVersion, type ResourceType } from './resources.js';
import type { TypeRegistry } from './type-registry.js';

// OpenAPI documents generated from @kubernetes/client-node's models (the real API types), so
// kubectl can validate (fieldValidation=Strict is advertised on every write) and compute apply
// patches; custom resources get the schema from their CRD.

type Schema = Record<string, unknown>;

const META_TYPES = new Set(['ObjectMeta', 'ListMeta', 'OwnerReference', 'ManagedFieldsEntry', 'LabelSelector', 'LabelSelectorRequirement', 'Status', 'StatusDetails', 'StatusCause', 'Condition', 'DeleteOptions', 'Preconditions']);
const PACKAGES: Array<[RegExp, string]> = [
  [/^CoreV1/, 'io.k8s.api.core.v1.'],
  [/^AdmissionregistrationV1/, 'io.k8s.api.admissionregistration.v1.'],
  [/^ApiextensionsV1/, 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.'],
];

/** Definition name of a client-node model, in the real API's naming ("io.k8s.api.core.v1.Pod"). */
function definitionName(model: string, groupHint: string): string {
  for (const [prefix, pkg] of PACKAGES) if (prefix.test(model)) return pkg + model.replace(prefix, '');
  const bare = model.replace(/^V1/, '');
  if (META_TYPES.has(bare)) return `io.k8s.apimachinery.pkg.apis.meta.v1.${bare}`;
  if (/^V1(JSONSchemaProps|CustomResource)/.test(model)) return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.${bare}`;
  const group = groupHint === '' ? 'core' : groupHint.replace(/\.k8s\.io$/, '');
  return `io.k8s.api.${group}.v1.${bare}`;
}

class SchemaBuilder {
  readonly schemas: Record<string, Schema> = {};
  private readonly names = new Map<string, string>();

  constructor(private readonly refPrefix: string) {}

  ref(model: string, group: string): Schema {
    let name = this.names.get(model);
    if (!name) {
      name = definitionName(model, group);
      this.names.set(model, name);
      this.schemas[name] = {};
      this.schemas[name] = this.object(model, group);
    }
    return { $ref: `${this.refPrefix}${name}` };
  }

  private object(model: string, group: string): Schema {
    const properties: Record<string, Schema> = {};
    for (const attribute of modelAttributes(model) ?? []) {
      const schema = this.shape(shapeOf(attribute.type), attribute.format, group);
      const mergeKey = PATCH_MERGE_KEYS[attribute.baseName];
      if (schema['type'] === 'array' && mergeKey) Object.assign(schema, { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': mergeKey });
      properties[attribute.baseName] = schema;
    }
    return { type: 'object', properties };
  }

  private shape(shape: TypeShape, format: string, group: string): Schema {
    switch (shape.kind) {
      case 'model':
        return this.ref(shape.model, group);
      case 'array':
        return { type: 'array', items: this.shape(shape.item, '', group) };
      case 'map':
        return { type: 'object', additionalProperties: this.shape(shape.value, '', group) };
      case 'scalar':
        if (shape.type === 'number') return format === 'double' ? { type: 'number', format } : { type: 'integer', ...(format ? { format } : {}) };
        if (shape.type === 'date') return { type: 'string', format: 'date-time' };
        if (shape.type === 'int-or-string') return { 'x-kubernetes-int-or-string': true };
        if (shape.type === 'any') return {};
        return { type: shape.type };
    }
  }
}

const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation'].map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }));

function operations(type: ResourceType, schemaRef: Schema, v3: boolean): Record<string, Schema> {
  const gvk = { group: type.group, version: type.version, kind: type.kind };
  const body = (schema: Schema) => (v3 ? { requestBody: { content: { '*/*': { schema } }, required: true } } : { parameters: [{ name: 'body', in: 'body', required: true, schema }] });
  const response = (schema: Schema) => (v3 ? { responses: { '200': { description: 'OK', content: { 'application/json': { schema } } } } } : { responses: { '200': { description: 'OK', schema } } });
  const op = (action: string, extra: Schema = {}) => ({ operationId: `${action}${type.kind}`, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, ...response(schemaRef), ...extra });
  const withParams = (extra: Schema, params: Schema[]) => {
    const existing = (extra['parameters'] as Schema[] | undefined) ?? [];
    return { ...extra, parameters: [...existing, ...(v3 ? params : params.map(({ schema, ...rest }) => ({ ...rest, type: 'string' })))] };
  };
  const base = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const collection = type.namespaced ? `${base}/namespaces/{namespace}/${type.resource}` : `${base}/${type.resource}`;
  const item = `${collection}/{name}`;
  const writes = (action: string) => op(action, withParams(body(schemaRef), action === 'patch' ? [...WRITE_PARAMS, { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } }] : WRITE_PARAMS));
  const paths: Record<string, Schema> = {
    [collection]: { get: op('list'), post: writes('post'), delete: op('deletecollection') },
    [item]: { get: op('get'), put: writes('put'), patch: writes('patch'), delete: op('delete') },
  };
  if (type.subresources.includes('status')) paths[`${item}/status`] = { get: op('get'), put: writes('put'), patch: writes('patch') };
  return paths;
}

export interface OpenApiDocuments {
  /** `/openapi/v3` index: group-version path → document. */
  v3: Map<string, { document: Schema; hash: string }>;
  v2: Schema;
}

export function buildOpenApi(types: TypeRegistry): OpenApiDocuments {
  const v3 = new Map<string, { document: Schema; hash: string }>();
  const byGv = new Map<string, ResourceType[]>();
  for (const type of types.all()) {
    const key = type.group === '' ? `api/${type.version}` : `apis/${groupVersion(type)}`;
    byGv.set(key, [...(byGv.get(key) ?? []), type]);
  }
  const v2Builder = new SchemaBuilder('#/definitions/');
  const v2Paths: Record<string, Schema> = {};
  for (const [path, list] of byGv) {
    const builder = new SchemaBuilder('#/components/schemas/');
    const paths: Record<string, Schema> = {};
    for (const type of list) {
      Object.assign(paths, operations(type, schemaFor(builder, type), true));
      Object.assign(v2Paths, operations(type, schemaFor(v2Builder, type), false));
    }
    const document = { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.31.0' }, paths, components: { schemas: builder.schemas } };
    v3.set(path, { document, hash: createHash('sha512').update(JSON.stringify(document)).digest('hex').slice(0, 128).toUpperCase() });
  }
  const v2 = { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.31.0' }, paths: v2Paths, definitions: v2Builder.schemas };
  return { v3, v2 };
}

function schemaFor(builder: SchemaBuilder, type: ResourceType): Schema {
  const gvk = [{ group: type.group, version: type.version, kind: type.kind }];
  if (type.model) {
    const ref = builder.ref(type.model, type.group);
    const name = String(ref['$ref']).split('/').pop()!;
    builder.schemas[name] = { ...builder.schemas[name], 'x-kubernetes-group-version-kind': gvk };
    return ref;
  }
  const name = `${type.group.split('.').reverse().join('.')}.${type.version}.${type.kind}`;
  const crd = (type.crdSchema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }) as Schema;
  builder.schemas[name] = { ...crd, 'x-kubernetes-group-version-kind': gvk };
  return { $ref: `${String(builder.ref('V1ObjectMeta', '')['$ref']).replace(/[^/]+$/, '')}${name}` };
}
