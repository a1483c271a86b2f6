import type { z } from 'zod';
import { describeFound, formatPath, type PathSegment } from './diagnostics.js';
import { didYouMean } from '../../core/index.js';

type Issue = z.core.$ZodIssue;

/** A schema finding before it is located in a file. */
export interface Finding {
  path: PathSegment[];
  message: string;
  /** Point at the key of the last path segment rather than its value. */
  atKey?: boolean;
}

/** Turn zod issues into findings whose messages say what was expected and what was found. */
export function findingsFromIssues(schema: z.ZodType, issues: readonly Issue[], root: unknown, prefix: PathSegment[] = []): Finding[] {
  const out: Finding[] = [];
  for (const issue of issues) out.push(...findingsFromIssue(schema, issue, root, prefix));
  return out;
}

function findingsFromIssue(schema: z.ZodType, issue: Issue, root: unknown, prefix: PathSegment[]): Finding[] {
  const path = [...prefix, ...(issue.path as PathSegment[])];
  const found = valueAt(root, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schema, path, root);
      return issue.keys.map((key) => ({
        path: [...path, key],
        atKey: true,
        message: `unknown field${didYouMean(key, allowed)}${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}`,
      }));
    }
    case 'invalid_union':
      return unionFindings(schema, issue, root, path);
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const hint = typeof found === 'string' ? didYouMean(found, issue.values.map(String)) : '';
      const expected = values.length === 1 ? values[0] : `one of ${values.join(', ')}`;
      return [{ path, message: `${found === undefined ? 'missing required field; expected' : 'expected'} ${expected}${found === undefined ? '' : `; found ${describeFound(found)}`}${hint}` }];
    }
    case 'invalid_type':
      if (found === undefined) return [{ path, message: `missing required field; expected ${ownOrGenerated(issue.message, typeName(issue.expected))}` }];
      return [{ path, message: `expected ${ownOrGenerated(issue.message, typeName(issue.expected))}; found ${describeFound(found)}` }];
    case 'too_small':
    case 'too_big':
      return [{ path, message: `expected ${ownOrGenerated(issue.message, boundText(issue))}; found ${describeSize(found)}` }];
    default:
      return [{ path, message: `expected ${ownOrGenerated(issue.message, issue.message)}${found === undefined || typeof found === 'object' ? '' : `; found ${describeFound(found)}`}` }];
  }
}

// Our own messages start with "expected …"; zod's defaults are replaced by generated text.
function ownOrGenerated(message: string, generated: string): string {
  return message.startsWith('expected ') ? message.slice('expected '.length) : generated;
}

function unionFindings(schema: z.ZodType, issue: Extract<Issue, { code: 'invalid_union' }>, root: unknown, path: PathSegment[]): Finding[] {
  const discriminator = (issue as { discriminator?: string }).discriminator;
  const options = (issue as { options?: unknown[] }).options;
  if (discriminator !== undefined && Array.isArray(options)) {
    const at = path.at(-1) === discriminator ? path : [...path, discriminator];
    const found = valueAt(root, at);
    const names = options.map(String);
    const hint = typeof found === 'string' ? didYouMean(found, names) : '';
    const lead = found === undefined ? 'missing required field; expected one of' : 'expected one of';
    return [{ path: at, message: `${lead} ${names.map((n) => JSON.stringify(n)).join(', ')}${found === undefined ? '' : `; found ${describeFound(found)}`}${hint}` }];
  }
  // Report the branch that came closest: the fewest findings.
  const branches = issue.errors.map((branch) => findingsFromIssues(schema, branch, root, path));
  const best = branches.reduce<Finding[] | undefined>((a, b) => (a === undefined || b.length < a.length ? b : a), undefined);
  return best && best.length > 0 ? best : [{ path, message: `expected a valid value; found ${describeFound(valueAt(root, path))}` }];
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

function boundText(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>): string {
  const limit = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
  const word = issue.code === 'too_small' ? (issue.inclusive === false ? 'more than' : 'at least') : issue.inclusive === false ? 'less than' : 'at most';
  if (issue.origin === 'array') return `${word} ${limit} item${limit === 1 ? '' : 's'}`;
  if (issue.origin === 'string') return `${word} ${limit} character${limit === 1 ? '' : 's'}`;
  return `a value of ${word} ${limit}`;
}

function describeSize(found: unknown): string {
  if (Array.isArray(found)) return found.length === 0 ? 'none' : `${found.length}`;
  return describeFound(found);
}

export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** The field names an object schema allows at `path`, walking through wrappers, arrays and unions. */
export function allowedKeys(schema: z.ZodType, path: readonly PathSegment[], root: unknown): string[] {
  let current: SchemaNode | undefined = schema as unknown as SchemaNode;
  for (let i = 0; i <= path.length && current; i++) {
    current = unwrap(current, valueAt(root, path.slice(0, i)));
    if (i === path.length) break;
    const segment = path[i];
    const def: SchemaDef = current._zod.def;
    if (def.type === 'object' && typeof segment === 'string') current = def.shape?.[segment];
    else if (def.type === 'array') current = def.element;
    else if (def.type === 'record') current = def.valueType;
    else current = undefined;
  }
  const def = current?._zod.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

interface SchemaDef {
  type: string;
  shape?: Record<string, SchemaNode>;
  element?: SchemaNode;
  valueType?: SchemaNode;
  innerType?: SchemaNode;
  in?: SchemaNode;
  options?: SchemaNode[];
}
interface SchemaNode {
  _zod: { def: SchemaDef };
}

function unwrap(node: SchemaNode, value: unknown): SchemaNode {
  let current = node;
  for (;;) {
    const def = current._zod.def;
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else if (def.type === 'union' && def.options) current = pickOption(def.options, value);
    else return current;
  }
}

// For a union, the object option sharing the most keys with the value (ties: the first).
function pickOption(options: SchemaNode[], value: unknown): SchemaNode {
  const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
  let best = options[0]!;
  let bestScore = -1;
  for (const option of options) {
    const inner = unwrap(option, value);
    const def = inner._zod.def;
    const shape = def.shape ?? {};
    let score = keys.filter((k) => k in shape).length;
    const typeField = shape['type']?._zod.def as { values?: unknown[] } | undefined;
    if (typeField?.values && (value as Record<string, unknown>)['type'] !== undefined && typeField.values.includes((value as Record<string, unknown>)['type'])) score += 100;
    if (score > bestScore) {
      best = inner;
      bestScore = score;
    }
  }
  return best;
}

export { formatPath };
