import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { API_VERSION } from '../../model/index.js';
import type { KubeObject } from '../../clusters/index.js';

/** A Kubernetes, Istio or Linkerd manifest of the config repo, with where it is. */
export interface Manifest {
  file: string;
  line: number;
  object: KubeObject;
  /** The line of a field (its key) in the file, when the path exists; the object's line otherwise. */
  lineOf?: (path: Array<string | number>) => number;
}

/** Every non-meshdrill manifest in the repo's YAML files (meshdrill's own documents are the config loader's). */
export async function loadManifests(root: string, files: string[]): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const lines = new LineCounter();
    for (const doc of parseAllDocuments(text, { lineCounter: lines })) {
      if (doc.errors.length) continue;
      const object = doc.toJS() as KubeObject | null;
      if (!object || typeof object !== 'object' || typeof object.apiVersion !== 'string' || object.apiVersion === API_VERSION || !object.metadata?.name) continue;
      // The line of the object itself, not of the `---` before it or a comment above it.
      const line = lines.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
      const lineOf = (path: Array<string | number>): number => {
        // The key of the deepest existing field: "mode: STRICT" rather than the object's first line.
        for (let depth = path.length; depth > 0; depth--) {
          const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
          if (isMap(parent)) {
            const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[depth - 1]);
            const at = (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[0];
            if (at !== undefined) return lines.linePos(at).line;
          } else if (isSeq(parent)) {
            const item = parent.items[Number(path[depth - 1])] as { range?: [number, number, number] } | undefined;
            if (item?.range) return lines.linePos(item.range[0]).line;
          }
        }
        return line;
      };
      out.push({ file: relative(root, file), line, object, lineOf });
    }
  }
  return out;
}
