import type { z } from 'zod';
import { API_GROUP, API_VERSION } from '../../model/index.js';
import { describeFound, formatPath, type Diagnostic, type PathSegment } from './diagnostics.js';
import { findingsFromIssues, type Finding } from './issues.js';
import { isKindName, KIND_NAMES, KINDS, type DocumentOfKind, type KindName } from './kinds.js';
import { locate, type SourceDocument } from './source.js';
import { didYouMean } from '../../core/index.js';

/** A meshdrill document that passed its schema, with the source it came from. */
export interface LoadedDocument<K extends KindName = KindName> {
  kind: K;
  name: string;
  data: DocumentOfKind[K];
  source: SourceDocument;
}

export type DocumentResult =
  | { type: 'loaded'; document: LoadedDocument }
  | { type: 'invalid'; diagnostics: Diagnostic[]; named?: { kind: KindName; name: string } }
  /** Not a meshdrill document (a Kubernetes manifest, say): kept aside, not an error. */
  | { type: 'foreign'; apiVersion: string; kind: string }
  | { type: 'empty' };

export function toDiagnostic(source: SourceDocument, finding: Finding, severity: Diagnostic['severity'] = 'error'): Diagnostic {
  const { line, col } = locate(source, finding.path, { key: finding.atKey ?? false });
  return { severity, file: source.file, line, col, path: formatPath(finding.path), message: finding.message };
}

export function validateDocument(source: SourceDocument): DocumentResult {
  const value = source.value;
  if (value === null || value === undefined) return { type: 'empty' };
  const fail = (path: PathSegment[], message: string, atKey = false): DocumentResult => ({
    type: 'invalid',
    diagnostics: [toDiagnostic(source, { path, message, atKey })],
  });
  if (typeof value !== 'object' || Array.isArray(value)) {
    return fail([], `expected a mapping with apiVersion and kind; found ${describeFound(value)}`);
  }
  const record = value as Record<string, unknown>;
  const { apiVersion, kind } = record;
  if (apiVersion === undefined) return fail([], `missing required field apiVersion; expected "${API_VERSION}"`);
  if (typeof apiVersion !== 'string') return fail(['apiVersion'], `expected "${API_VERSION}"; found ${describeFound(apiVersion)}`);
  if (!apiVersion.startsWith(`${API_GROUP}/`)) return { type: 'foreign', apiVersion, kind: typeof kind === 'string' ? kind : '' };
  if (apiVersion !== API_VERSION) return fail(['apiVersion'], `unsupported version; expected "${API_VERSION}"; found ${describeFound(apiVersion)}`);
  if (kind === undefined) return fail([], `missing required field kind; expected one of ${KIND_NAMES.join(', ')}`);
  if (typeof kind !== 'string' || !isKindName(kind)) {
    const hint = typeof kind === 'string' ? didYouMean(kind, KIND_NAMES) : '';
    return fail(['kind'], `unknown kind ${describeFound(kind)}${hint} (one of ${KIND_NAMES.join(', ')})`);
  }
  const schema: z.ZodType = KINDS[kind];
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    // It still has a kind and a name: other documents may refer to it, and only its own errors are its.
    const name = (value as { metadata?: { name?: unknown } }).metadata?.name;
    return { type: 'invalid', diagnostics: findingsFromIssues(schema, parsed.error.issues, value).map((f) => toDiagnostic(source, f)), ...(typeof name === 'string' ? { named: { kind, name } } : {}) };
  }
  const data = parsed.data as DocumentOfKind[typeof kind];
  return { type: 'loaded', document: { kind, name: (data as { metadata: { name: string } }).metadata.name, data, source } };
}
