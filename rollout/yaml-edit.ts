import { isMap, isPair, isScalar, LineCounter, parseAllDocuments, type Document, type Pair, type YAMLMap } from 'yaml';

/** A replacement of source text [start, end) by `text`. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

type Value = string | number;

/**
 * Edits a YAML file in place by source ranges: only the bytes of the changed values or lines
 * move; everything else — comments, flow collections, spacing — stays as the user wrote it.
 * Documents whose maps are in flow style are re-serialized whole (the only case that changes
 * layout).
 */
export class YamlFileEditor {
  private readonly lines = new LineCounter();
  readonly docs: Document.Parsed[];
  private readonly edits: Edit[] = [];
  private readonly rewrite = new Set<Document.Parsed>();

  constructor(private readonly text: string) {
    const docs = parseAllDocuments(text, { lineCounter: this.lines });
    this.docs = Array.isArray(docs) ? docs : [];
  }

  get valid(): boolean {
    return this.docs.every((d) => d.errors.length === 0);
  }

  /** Sets a scalar at `path`; returns whether anything changed. */
  setScalar(doc: Document.Parsed, path: Array<string | number>, value: Value): boolean {
    const node = doc.getIn(path, true);
    if (isScalar(node) && node.range) {
      if (node.value === value) return false;
      this.edits.push({ start: node.range[0], end: node.range[1], text: String(value) });
      return true;
    }
    doc.setIn(path, value);
    this.rewrite.add(doc);
    return true;
  }

  /** Sets `key: value` in the map at `mapPath` (creating the map under its parent when missing), or removes it (null). */
  setEntry(doc: Document.Parsed, mapPath: string[], key: string, value: string | null): boolean {
    const map = doc.getIn(mapPath, true);
    const pair = isMap(map) ? (map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key) as Pair | undefined) : undefined;
    if (value === null) return pair && isMap(map) ? this.remove(doc, mapPath, map, pair) : false;
    if (pair) return this.setScalar(doc, [...mapPath, key], value);
    if (isMap(map) && !map.flow && map.items.length > 0) return this.append(map, `${key}: ${quote(value)}`);
    const parent = doc.getIn(mapPath.slice(0, -1), true);
    if (map === undefined && isMap(parent) && !parent.flow && parent.items.length > 0) {
      const indent = this.indentOf(parent);
      return this.append(parent, `${mapPath.at(-1)}:\n${indent}  ${key}: ${quote(value)}`);
    }
    doc.setIn([...mapPath, key], value);
    this.rewrite.add(doc);
    return true;
  }

  /** The edited text. */
  toString(): string {
    if (this.rewrite.size > 0) {
      // Layout-changing fallback: re-serialize the affected documents, keep the others' source.
      return this.docs.map((d) => (this.rewrite.has(d) ? String(d) : this.sourceOf(d))).join('');
    }
    let out = this.text;
    for (const edit of [...this.edits].sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
    return out;
  }

  private append(map: YAMLMap, entry: string): boolean {
    const last = map.items.at(-1) as Pair;
    const end = this.lineEnd(rangeEnd(last));
    this.edits.push({ start: end, end, text: `\n${this.indentOf(map)}${entry}` });
    return true;
  }

  private remove(doc: Document.Parsed, mapPath: string[], map: YAMLMap, pair: Pair): boolean {
    if (map.flow) {
      doc.deleteIn([...mapPath, (pair.key as { value: string }).value]);
      this.rewrite.add(doc);
      return true;
    }
    if (map.items.length === 1) {
      // The map would be empty: remove its key line too (undoing what setEntry created).
      const parent = doc.getIn(mapPath.slice(0, -1), true);
      const owner = isMap(parent) ? (parent.items.find((p) => isPair(p) && p.value === map) as Pair | undefined) : undefined;
      if (owner) return this.removeLines(rangeStart(owner), rangeEnd(pair));
    }
    return this.removeLines(rangeStart(pair), rangeEnd(pair));
  }

  /** Removes whole lines from the one holding `start` through the one holding `end`. */
  private removeLines(start: number, end: number): boolean {
    const from = this.text.lastIndexOf('\n', start - 1) + 1;
    const to = this.lineEnd(end);
    this.edits.push({ start: from, end: Math.min(this.text.length, to + 1), text: '' });
    return true;
  }

  private lineEnd(offset: number): number {
    const newline = this.text.indexOf('\n', Math.max(0, offset - 1));
    return newline < 0 ? this.text.length : newline;
  }

  private indentOf(map: YAMLMap): string {
    const first = map.items[0] as Pair;
    const { col } = this.lines.linePos(rangeStart(first));
    return ' '.repeat(col - 1);
  }

  private sourceOf(doc: Document.Parsed): string {
    const index = this.docs.indexOf(doc);
    const start = index === 0 ? 0 : this.docStart(doc);
    const next = this.docs[index + 1];
    return this.text.slice(start, next ? this.docStart(next) : this.text.length);
  }

  private docStart(doc: Document.Parsed): number {
    // A document's source begins at its "---" marker when it has one.
    const contentStart = doc.contents?.range?.[0] ?? doc.range[0];
    const marker = this.text.lastIndexOf('---', contentStart);
    return this.docs.indexOf(doc) > 0 && marker >= 0 ? this.text.lastIndexOf('\n', marker) + 1 : doc.range[0];
  }
}

function rangeStart(pair: Pair): number {
  return (pair.key as { range?: [number, number, number] }).range?.[0] ?? 0;
}

function rangeEnd(pair: Pair): number {
  const value = pair.value as { range?: [number, number, number] } | null;
  return value?.range?.[1] ?? (pair.key as { range?: [number, number, number] }).range?.[1] ?? 0;
}

function quote(value: string): string {
  return /^[\w./-]+$/.test(value) && !/^(true|false|null|yes|no|on|off|~|\d[\d.e+-]*)$/i.test(value) ? value : JSON.stringify(value);
}
