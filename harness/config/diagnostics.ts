export type Severity = 'error' | 'warning';
export type PathSegment = string | number;

/** One finding about a config file, located at a line and column (1-based). */
export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number;
  col: number;
  /** Field path like `spec.stages[2].bake`; empty for file- or document-level findings. */
  path: string;
  message: string;
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `plan.yaml:14:9 spec.stages[2].bake: expected a duration like "30m"; found "banana"` */
export function renderDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.col}`;
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  return d.path === '' ? `${where} ${prefix}${d.message}` : `${where} ${prefix}${d.path}: ${d.message}`;
}

export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.path.localeCompare(b.path),
  );
}

/** How a value found in a file is shown in a message: short, quoted, typed. */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${String(value)} (a ${typeof value})`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}
