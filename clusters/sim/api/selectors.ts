import { errors } from './status.js';

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

export type Labels = Record<string, string> | undefined;

/** Parses a label selector as kubectl writes it: `app=web,tier!=db,env in (a,b),!legacy,track`. */
export function parseLabelSelector(text: string): Requirement[] {
  const out: Requirement[] = [];
  for (const part of splitTopLevel(text)) {
    const term = part.trim();
    if (term === '') continue;
    const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (set) {
      out.push({ key: set[1]!, op: set[2] as 'in' | 'notin', values: set[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '') });
      continue;
    }
    const eq = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term);
    if (eq) {
      out.push({ key: eq[1]!, op: eq[2] === '!=' ? 'notin' : 'in', values: [eq[3]!] });
      continue;
    }
    const exists = /^(!?)([\w./-]+)$/.exec(term);
    if (exists) {
      out.push({ key: exists[2]!, op: exists[1] === '!' ? '!exists' : 'exists' });
      continue;
    }
    throw errors.badRequest(`unable to parse requirement: found '${term}', expected: key, key=value, key!=value, key in (...), key notin (...)`);
  }
  return out;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

export function matchesLabels(requirements: readonly Requirement[], labels: Labels): boolean {
  for (const r of requirements) {
    const value = labels?.[r.key];
    if (r.op === 'exists' && value === undefined) return false;
    if (r.op === '!exists' && value !== undefined) return false;
    if (r.op === 'in' && (value === undefined || !r.values.includes(value))) return false;
    if (r.op === 'notin' && value !== undefined && r.values.includes(value)) return false;
  }
  return true;
}

/** A label selector object (matchLabels / matchExpressions) as a requirement list. */
export function requirementsFromSelector(selector: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined): Requirement[] {
  const out: Requirement[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) out.push({ key, op: 'in', values: [value] });
  for (const e of selector?.matchExpressions ?? []) {
    const op = e.operator === 'In' ? 'in' : e.operator === 'NotIn' ? 'notin' : e.operator === 'Exists' ? 'exists' : '!exists';
    out.push(op === 'in' || op === 'notin' ? { key: e.key, op, values: e.values ?? [] } : { key: e.key, op });
  }
  return out;
}

export interface FieldRequirement {
  path: string;
  value: string;
  negate: boolean;
}

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
/** Fields each resource supports in field selectors, as on a real API server. */
const RESOURCE_FIELDS: Record<string, string[]> = {
  pods: ['status.phase', 'spec.nodeName', 'spec.serviceAccountName', 'status.podIP', 'spec.restartPolicy', 'spec.schedulerName'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  secrets: ['type'],
  nodes: ['spec.unschedulable'],
  namespaces: ['status.phase'],
  replicasets: ['status.replicas'],
};

export function parseFieldSelector(text: string, resource: string): FieldRequirement[] {
  const allowed = [...COMMON_FIELDS, ...(RESOURCE_FIELDS[resource] ?? [])];
  const out: FieldRequirement[] = [];
  for (const term of text.split(',')) {
    if (term.trim() === '') continue;
    const match = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term.trim());
    if (!match) throw errors.badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const path = match[1]!;
    if (!allowed.includes(path)) throw errors.badRequest(`field label not supported: ${path}`);
    out.push({ path, value: match[3]!, negate: match[2] === '!=' });
  }
  return out;
}

export function matchesFields(requirements: readonly FieldRequirement[], object: unknown): boolean {
  for (const r of requirements) {
    let value: unknown = object;
    for (const part of r.path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    const text = value === undefined || value === null ? '' : String(value);
    if ((text === r.value) === r.negate) return false;
  }
  return true;
}
