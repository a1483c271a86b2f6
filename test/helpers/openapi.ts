import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';

/** A JSON Schema node of the OpenAPI description, loosely typed: it is data read from disk. */
type Schema = { [key: string]: unknown };

interface Operation {
  template: string;
  method: string;
  pattern: RegExp;
}

/**
 * GitHub's published OpenAPI description (@octokit/openapi): finds the operation for a request,
 * validates request and response bodies against its schemas, and builds minimal valid objects
 * (every required field) for a fake server to fill in.
 */
export class GitHubOpenApi {
  private readonly spec: Schema;
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    const require = createRequire(import.meta.url);
    const path = require.resolve('@octokit/openapi/generated/api.github.com.json');
    this.spec = JSON.parse(readFileSync(path, 'utf8')) as Schema;
    // OpenAPI 3.0 schemas: `nullable` is understood by Ajv; formats and vendor keywords are not checked.
    this.ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    this.ajv.addSchema({ components: nullableEverywhere(this.spec['components']) }, 'gh', undefined, false);
    for (const [template, item] of Object.entries(this.spec['paths'] as Record<string, Schema>)) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const method of Object.keys(item)) this.operations.push({ template, method, pattern });
    }
  }

  /** The path template of the documented operation for a request, if GitHub documents one. */
  find(method: string, pathname: string): string | undefined {
    const m = method.toLowerCase();
    // Literal segments beat parameters: prefer the template with the fewest parameters.
    const matches = this.operations.filter((o) => o.method === m && o.pattern.test(pathname)).sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
    return matches[0]?.template;
  }

  validateRequest(method: string, template: string, body: unknown): string[] {
    const op = this.operation(method, template);
    const requestBody = this.deref(op['requestBody'] as Schema | undefined);
    const schema = (requestBody?.['content'] as Record<string, Schema> | undefined)?.['application/json']?.['schema'];
    if (!schema) return body === undefined ? [] : [`${method} ${template} takes no JSON body`];
    if (body === undefined) return requestBody?.['required'] === true ? [`${method} ${template} requires a JSON body`] : [];
    return this.check(`${method} ${template} request`, schema as Schema, body);
  }

  validateResponse(method: string, template: string, status: number, body: unknown): string[] {
    const op = this.operation(method, template);
    const response = this.deref((op['responses'] as Record<string, Schema>)[String(status)]);
    if (!response) return [`${method} ${template} does not document status ${status}`];
    const schema = (response['content'] as Record<string, Schema> | undefined)?.['application/json']?.['schema'];
    if (!schema) return body === undefined || body === '' ? [] : [`${method} ${template} ${status} documents no JSON body`];
    return this.check(`${method} ${template} ${status} response`, schema as Schema, body);
  }

  /** A minimal valid object for a component schema, e.g. "pull-request". */
  sample(component: string): Schema {
    return this.sampleOf({ $ref: `#/components/schemas/${component}` }, 0) as Schema;
  }

  private operation(method: string, template: string): Schema {
    const op = (this.spec['paths'] as Record<string, Record<string, Schema>>)[template]?.[method.toLowerCase()];
    if (!op) throw new Error(`no operation ${method} ${template}`);
    return op;
  }

  private check(what: string, schema: Schema, data: unknown): string[] {
    const key = JSON.stringify(schema);
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: '#/definitions/target', definitions: { target: rebase(schema) } });
      this.validators.set(key, validate);
    }
    if (validate(data)) return [];
    return (validate.errors ?? []).slice(0, 5).map((e) => `${what}: ${e.instancePath || '/'} ${e.message ?? ''}`);
  }

  private deref(node: Schema | undefined): Schema | undefined {
    let current = node;
    while (current && typeof current['$ref'] === 'string') current = this.resolve(current['$ref']);
    return current;
  }

  private resolve(ref: string): Schema {
    let node: unknown = this.spec;
    for (const part of ref.replace(/^#\//, '').split('/')) node = (node as Schema)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    return node as Schema;
  }

  private sampleOf(node: Schema, depth: number): unknown {
    const schema = this.deref(node)!;
    if (schema['nullable'] === true) return null;
    if (Array.isArray(schema['allOf'])) return Object.assign({}, ...(schema['allOf'] as Schema[]).map((s) => this.sampleOf(s, depth)));
    for (const key of ['anyOf', 'oneOf'] as const) if (Array.isArray(schema[key])) return this.sampleOf((schema[key] as Schema[])[0]!, depth);
    if (Array.isArray(schema['enum'])) return (schema['enum'] as unknown[]).find((v) => v !== null) ?? null;
    const type = Array.isArray(schema['type']) ? (schema['type'] as string[]).find((t) => t !== 'null') : (schema['type'] as string | undefined);
    if (type === 'object' || (!type && schema['properties'])) {
      const out: Schema = {};
      const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
      for (const name of (schema['required'] ?? []) as string[]) out[name] = depth > 12 ? null : this.sampleOf(properties[name] ?? {}, depth + 1);
      return out;
    }
    switch (type) {
      case 'array':
        return [];
      case 'string':
        return schema['format'] === 'date-time' ? '2026-01-01T00:00:00Z' : schema['format'] === 'uri' ? 'https://github.invalid/' : '';
      case 'integer':
      case 'number':
        return typeof schema['minimum'] === 'number' ? schema['minimum'] : 0;
      case 'boolean':
        return false;
      default:
        return null;
    }
  }
}

/**
 * OpenAPI 3.0 allows `nullable` beside allOf/anyOf with no `type` (e.g. an issue's milestone); Ajv
 * only takes it with a type, so it becomes the JSON Schema it means: the schema, or null.
 */
function typelessNullable(node: Schema): Schema {
  // A nullable enum (an issue's state_reason) allows null in OpenAPI 3.0; Ajv wants null in the enum.
  if (node['nullable'] === true && Array.isArray(node['enum']) && !node['enum'].includes(null)) return { ...node, enum: [...(node['enum'] as unknown[]), null] };
  if (node['nullable'] !== true || node['type'] !== undefined) return node;
  const { nullable: _nullable, ...rest } = node;
  return { anyOf: [rest, { type: 'null' }] };
}

function nullableEverywhere(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableEverywhere);
  if (node && typeof node === 'object') return typelessNullable(Object.fromEntries(Object.entries(node).map(([k, v]) => [k, nullableEverywhere(v)])));
  return node;
}

/** Rewrites local refs ("#/components/…") to the registered description ("gh#/components/…"). */
function rebase(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rebase);
  if (node && typeof node === 'object') {
    const out: Schema = {};
    for (const [k, v] of Object.entries(node)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `gh${v}` : rebase(v);
    return typelessNullable(out);
  }
  return node;
}
