import type { StatusCause as Cause } from './status.js';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  minProperties?: number;
  nullable?: boolean;
  oneOf?: Schema[];
  anyOf?: Schema[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
};

export interface SchemaCheck {
  /** Field errors, as the API server's 422 Invalid lists them. */
  causes: Cause[];
  /** Fields the schema does not declare ("spec.foo"): pruned, or refused under strict field validation. */
  unknown: string[];
  /** The object with unknown fields pruned. */
  pruned: unknown;
}

const TYPE_OF = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value);

/** The API server's rendering of a value in an error ("STRICTT" quoted, numbers bare). */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

/**
 * A custom resource checked against its CRD's structural openAPIV3Schema, as apiextensions-apiserver
 * does (kubernetes.io docs: custom resources, "Validation" and "Field pruning"): type, enum,
 * required, pattern, bounds, oneOf/anyOf, int-or-string, nullable; fields the schema does not
 * declare are pruned unless x-kubernetes-preserve-unknown-fields, and reported so that strict field
 * validation (kubectl's default) can refuse them. metadata, apiVersion and kind are the server's.
 */
export function checkAgainstSchema(schema: unknown, object: Record<string, unknown>): SchemaCheck {
  const causes: Cause[] = [];
  const unknown: string[] = [];
  const root = schema as Schema;
  const pruned: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata') {
      pruned[key] = value;
      continue;
    }
    const sub = root.properties?.[key];
    if (sub) pruned[key] = walk(sub, value, key, causes, unknown);
    else if (root['x-kubernetes-preserve-unknown-fields']) pruned[key] = value;
    else unknown.push(key);
  }
  for (const key of root.required ?? []) if (!(key in object)) causes.push({ reason: 'FieldValueRequired', field: key, message: 'Required value' });
  return { causes, unknown, pruned };
}

function walk(schema: Schema, value: unknown, path: string, causes: Cause[], unknown: string[]): unknown {
  if (value === null) {
    if (!schema.nullable && schema.type) causes.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: "null": ${path} in body must be of type ${schema.type}: "null"` });
    return value;
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !Number.isInteger(value)) causes.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: ${shown(value)}: ${path} in body must be of type integer,string: "${TYPE_OF(value)}"` });
    return value;
  }
  const type = schema.type;
  const actual = TYPE_OF(value);
  const fits = type === undefined || actual === type || (type === 'number' && actual === 'integer');
  if (!fits) {
    causes.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: "${actual === 'integer' ? 'number' : actual}": ${path} in body must be of type ${type}: "${actual === 'integer' ? 'number' : actual}"` });
    return value;
  }
  if (schema.enum && !schema.enum.includes(value)) causes.push({ reason: 'FieldValueNotSupported', field: path, message: `Unsupported value: ${shown(value)}: supported values: ${schema.enum.map(shown).join(', ')}` });
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${shown(value)}: ${path} in body should match '${schema.pattern}'` });
    if (schema.minLength !== undefined && value.length < schema.minLength) causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${shown(value)}: ${path} in body should be at least ${schema.minLength} chars long` });
    if (schema.maxLength !== undefined && value.length > schema.maxLength) causes.push({ reason: 'FieldValueTooLong', field: path, message: `Too long: may not be more than ${schema.maxLength} bytes` });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: ${path} in body should be greater than or equal to ${schema.minimum}` });
    if (schema.maximum !== undefined && value > schema.maximum) causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: ${path} in body should be less than or equal to ${schema.maximum}` });
  }
  for (const [name, alternatives, one] of [['oneOf', schema.oneOf, true], ['anyOf', schema.anyOf, false]] as const) {
    if (!alternatives) continue;
    const passing = alternatives.filter((alt) => {
      const trial: Cause[] = [];
      walk({ ...alt, ...(alt.type ? {} : { type: undefined }) }, value, path, trial, []);
      return trial.length === 0;
    }).length;
    if (one ? passing !== 1 : passing === 0) causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${shown(value)}: ${path} in body must validate ${one ? 'one and only one schema (oneOf)' : 'at least one schema (anyOf)'}` });
    void name;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value.length}: ${path} in body should have at least ${schema.minItems} items` });
    if (schema.maxItems !== undefined && value.length > schema.maxItems) causes.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    return schema.items ? value.map((v, i) => walk(schema.items!, v, `${path}[${i}]`, causes, unknown)) : value;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (schema.maxProperties !== undefined && entries.length > schema.maxProperties) causes.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${entries.length}: must have at most ${schema.maxProperties} items` });
    if (schema.minProperties !== undefined && entries.length < schema.minProperties) causes.push({ reason: 'FieldValueRequired', field: path, message: `Required value: must have at least ${schema.minProperties} properties` });
    for (const key of schema.required ?? []) if (!(key in (value as Record<string, unknown>))) causes.push({ reason: 'FieldValueRequired', field: `${path}.${key}`, message: 'Required value' });
    const out: Record<string, unknown> = {};
    for (const [key, child] of entries) {
      const sub = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (sub) out[key] = walk(sub, child, `${path}.${key}`, causes, unknown);
      else if (schema['x-kubernetes-preserve-unknown-fields'] || schema.additionalProperties === true || (!schema.properties && !schema.additionalProperties && !schema.type)) out[key] = child;
      else unknown.push(`${path}.${key}`);
    }
    return out;
  }
  return value;
}
