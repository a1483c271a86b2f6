import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { Diagnostic, PathSegment } from './diagnostics.js';

/** One YAML document of a file, with what is needed to point at its lines. */
export interface SourceDocument {
  file: string;
  /** 0-based position of the document in its file. */
  index: number;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The plain data, or undefined when the document has syntax errors. */
  value: unknown;
}

export interface Position {
  line: number;
  col: number;
}

// Bounds against hostile input: alias expansion ("billion laughs") and deep nesting.
const MAX_ALIAS_COUNT = 100;

export function parseYamlText(file: string, text: string): { documents: SourceDocument[]; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const documents: SourceDocument[] = [];
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const docs = Array.isArray(parsed) ? parsed : [];
  for (const [index, doc] of docs.entries()) {
    for (const error of doc.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      diagnostics.push({ severity: 'error', file, line, col, path: '', message: `YAML syntax error: ${firstLine(error.message)}` });
    }
    let value: unknown;
    if (doc.errors.length === 0) {
      try {
        value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      } catch (error) {
        const { line, col } = lineCounter.linePos(doc.range[0]);
        diagnostics.push({ severity: 'error', file, line, col, path: '', message: `YAML error: ${firstLine(String((error as Error).message))}` });
      }
    }
    documents.push({ file, index, doc, lineCounter, value });
  }
  return { documents, diagnostics };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}

/**
 * The position of the node at `path`, or of its nearest existing ancestor.
 * With `key: true`, the position of the last segment's key rather than its value (for unknown fields).
 */
export function locate(source: SourceDocument, path: readonly PathSegment[], options: { key?: boolean } = {}): Position {
  let node: unknown = source.doc.contents;
  let offset = rangeStart(node) ?? source.doc.range[0];
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      if (last && options.key) {
        offset = rangeStart(pair.key) ?? offset;
        break;
      }
      node = pair.value;
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      node = item;
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return source.lineCounter.linePos(offset);
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}

/** The line where a document's content starts (after `---` and leading comments). */
export function documentLine(source: SourceDocument): number {
  return source.lineCounter.linePos(rangeStart(source.doc.contents) ?? source.doc.range[0]).line;
}
