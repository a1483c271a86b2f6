import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { API_GROUP } from '../../model/index.js';
import type { KubeObject } from '../../clusters/index.js';

/** A Kubernetes, Istio or Linkerd manifest of the config repo, with where it is. */
export interface Manifest {
  file: string;
  line: number;
  object: KubeObject;
  /** The line of a field (its key) in the file, when the path exists; the object's line otherwise. */
  lineOf?: (path: Array<string | number>) => number;
  /** The line and column of a field (its key), or of the deepest part of the path that exists. */
  positionOf?: (path: Array<string | number>) => { line: number; col: number };
  /** Where the object came from when a renderer made it: "kustomize overlays/prod", and the kustomizations that patched it. */
  renderedBy?: string;
  patchedIn?: string[];
}

/** The manifests of one YAML text, and what in it is not a Kubernetes object. */
export interface TextManifests {
  manifests: Manifest[];
  /** Documents that are YAML but not Kubernetes objects (no apiVersion and kind): Helm values, CI files, kustomizations. */
  other: number;
  /** Documents that are not YAML at all (a Helm template's `{{ }}`, a syntax error): the first one's line and reason. */
  unparsed?: { line: number; reason: string };
}

/** meshdrill's own documents (apiVersion meshdrill.dev/…) are the config loader's, not manifests. */
export function isMeshdrillDocument(object: { apiVersion?: unknown }): boolean {
  return typeof object.apiVersion === 'string' && object.apiVersion.startsWith(`${API_GROUP}/`);
}

/** Every document of a YAML text that is a Kubernetes object, each with its line and a field-line lookup. */
export function manifestsOfText(file: string, text: string): TextManifests {
  const out: TextManifests = { manifests: [], other: 0 };
  const lines = new LineCounter();
  for (const doc of parseAllDocuments(text, { lineCounter: lines })) {
    if (doc.errors.length) {
      out.unparsed ??= { line: doc.errors[0]!.linePos?.[0]?.line ?? lines.linePos(doc.range[0]).line, reason: doc.errors[0]!.message.split('\n')[0]! };
      continue;
    }
    const object = doc.toJS() as KubeObject | null;
    if (object === null || object === undefined) continue;
    if (typeof object !== 'object' || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || !object.metadata?.name) {
      out.other++;
      continue;
    }
    if (isMeshdrillDocument(object)) continue;
    // The line of the object itself, not of the `---` before it or a comment above it.
    const line = lines.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
    const positionOf = fieldPositions(doc, lines, line);
    out.manifests.push({ file, line, object, lineOf: (path) => positionOf(path).line, positionOf });
  }
  return out;
}

function fieldPositions(doc: Document.Parsed, lines: LineCounter, line: number): (path: Array<string | number>) => { line: number; col: number } {
  return (path) => {
    // The key of the deepest existing field: "mode: STRICT" rather than the object's first line.
    for (let depth = path.length; depth > 0; depth--) {
      const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[depth - 1]);
        const at = (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[0];
        if (at !== undefined) return lines.linePos(at);
      } else if (isSeq(parent)) {
        const item = parent.items[Number(path[depth - 1])] as { range?: [number, number, number] } | undefined;
        if (item?.range) return lines.linePos(item.range[0]);
      }
    }
    return { line, col: 1 };
  };
}

/** Every non-meshdrill manifest in these YAML files (meshdrill's own documents are the config loader's). */
export async function loadManifests(root: string, files: string[]): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const file of files) out.push(...manifestsOfText(relative(root, file), await readFile(file, 'utf8')).manifests);
  return out;
}
