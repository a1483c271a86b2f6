import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Pair, type YAMLMap } from 'yaml';

/** A replacement of source text [start, end) by `text`, in one document. */
interface Edit {
  doc: Document.Parsed;
  start: number;
  end: number;
  text: string;
}

type Value = string | number;

/**
 * Edits a YAML file in place by source ranges: only the bytes of the changed values or lines
 * move; everything else — comments, flow collections, spacing, the other documents — stays as the
 * user wrote it. Flow maps (`labels: {team: web}`) are edited in place too. Every edit is also
 * made on the parsed Document, so when one document must be re-serialised (a shape the range
 * edits do not cover), it is that document alone, with all its edits, and the others keep their
 * bytes and their own edits.
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
      this.edits.push({ doc, start: node.range[0], end: node.range[1], text: this.styled(node.range[0], value) });
      node.value = value;
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
    const entry = `${key}: ${quote(value)}`;
    const parent = doc.getIn(mapPath.slice(0, -1), true);
    let placed = false;
    if (isMap(map) && map.flow) placed = this.insertFlow(doc, map, entry);
    else if (isMap(map) && map.items.length > 0) placed = this.append(doc, map, entry);
    else if (map === undefined && isMap(parent) && parent.flow) placed = this.insertFlow(doc, parent, `${mapPath.at(-1)}: {${entry}}`);
    else if (map === undefined && isMap(parent) && parent.items.length > 0) placed = this.append(doc, parent, `${mapPath.at(-1)}:\n${this.indentOf(parent)}  ${entry}`);
    doc.setIn([...mapPath, key], value);
    if (!placed) this.rewrite.add(doc);
    return true;
  }

  /** Appends a string to the sequence at `path` (creating it when missing). */
  appendToSeq(doc: Document.Parsed, path: string[], value: string): boolean {
    const seq = doc.getIn(path, true);
    if (isSeq(seq) && !seq.flow && seq.items.length > 0) {
      const last = seq.items.at(-1) as { range?: [number, number, number] };
      const { col } = this.lines.linePos(last.range?.[0] ?? 0);
      const end = this.lineEnd(last.range?.[1] ?? 0);
      this.edits.push({ doc, start: end, end, text: `\n${' '.repeat(Math.max(0, col - 3))}- ${quote(value)}` });
      seq.add(value);
      return true;
    }
    if (isSeq(seq)) seq.add(value);
    else doc.setIn(path, [value]);
    this.rewrite.add(doc);
    return true;
  }

  /** The edited text. */
  toString(): string {
    const replacements: Array<{ start: number; end: number; text: string }> = [];
    for (const doc of this.rewrite) {
      const [start, end] = this.sourceRange(doc);
      replacements.push({ start, end, text: String(doc) });
    }
    // A re-serialised document already holds its own edits; the others' edits apply to their bytes.
    for (const edit of this.edits) if (!this.rewrite.has(edit.doc)) replacements.push(edit);
    let out = this.text;
    for (const r of replacements.sort((a, b) => b.start - a.start || b.end - a.end)) out = out.slice(0, r.start) + r.text + out.slice(r.end);
    return out;
  }

  /** A value written in the quoting the old one had: "…", '…' or plain. */
  private styled(at: number, value: Value): string {
    const quoteChar = this.text[at];
    if (typeof value === 'number') return String(value);
    if (quoteChar === '"') return JSON.stringify(value);
    if (quoteChar === "'") return `'${value.replace(/'/g, "''")}'`;
    return quote(value);
  }

  private append(doc: Document.Parsed, map: YAMLMap, entry: string): boolean {
    const last = map.items.at(-1) as Pair;
    const end = this.lineEnd(rangeEnd(last));
    this.edits.push({ doc, start: end, end, text: `\n${this.indentOf(map)}${entry}` });
    return true;
  }

  /** Adds an entry before a flow map's closing brace: `{team: web}` → `{team: web, key: value}`. */
  private insertFlow(doc: Document.Parsed, map: YAMLMap, entry: string): boolean {
    const close = (map.range?.[1] ?? 0) - 1;
    if (this.text[close] !== '}') return false;
    // Keep the map's inner spacing: `{ a: 1 }` gets `, b: 2` before its space.
    let at = close;
    while (at > 0 && this.text[at - 1] === ' ') at--;
    this.edits.push({ doc, start: at, end: at, text: map.items.length > 0 ? `, ${entry}` : entry });
    return true;
  }

  private remove(doc: Document.Parsed, mapPath: string[], map: YAMLMap, pair: Pair): boolean {
    const key = (pair.key as { value: string }).value;
    if (map.items.length === 1) {
      // The map would be empty: remove its key too (undoing what setEntry created).
      const parent = doc.getIn(mapPath.slice(0, -1), true);
      const owner = isMap(parent) ? (parent.items.find((p) => isPair(p) && p.value === map) as Pair | undefined) : undefined;
      if (owner && isMap(parent)) {
        this.removePair(doc, parent, owner);
        doc.deleteIn(mapPath);
        return true;
      }
    }
    this.removePair(doc, map, pair);
    doc.deleteIn([...mapPath, key]);
    return true;
  }

  /** Takes a pair's text out: its lines in a block map, the pair and one comma in a flow map. */
  private removePair(doc: Document.Parsed, map: YAMLMap, pair: Pair): void {
    if (!map.flow) {
      this.removeLines(doc, rangeStart(pair), rangeEnd(pair));
      return;
    }
    const index = map.items.indexOf(pair);
    const previous = map.items[index - 1] as Pair | undefined;
    const next = map.items[index + 1] as Pair | undefined;
    if (previous) this.edits.push({ doc, start: rangeEnd(previous), end: rangeEnd(pair), text: '' });
    else if (next) this.edits.push({ doc, start: rangeStart(pair), end: rangeStart(next), text: '' });
    else this.edits.push({ doc, start: rangeStart(pair), end: rangeEnd(pair), text: '' });
  }

  /** Removes whole lines from the one holding `start` through the one holding `end`. */
  private removeLines(doc: Document.Parsed, start: number, end: number): void {
    const from = this.text.lastIndexOf('\n', start - 1) + 1;
    const to = this.lineEnd(end);
    this.edits.push({ doc, start: from, end: Math.min(this.text.length, to + 1), text: '' });
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

  /** The bytes of a document in the file: from its `---` (when it has one) to the next document's. */
  private sourceRange(doc: Document.Parsed): [number, number] {
    const index = this.docs.indexOf(doc);
    const start = index === 0 ? 0 : this.docStart(doc);
    const next = this.docs[index + 1];
    return [start, next ? this.docStart(next) : this.text.length];
  }

  private docStart(doc: Document.Parsed): number {
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
