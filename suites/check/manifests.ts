import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { API_VERSION } from '../../model/index.js';
import type { KubeObject } from '../../clusters/index.js';

/** A Kubernetes, Istio or Linkerd manifest of the config repo, with where it is. */
export interface Manifest {
  file: string;
  line: number;
  object: KubeObject;
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
      out.push({ file: relative(root, file), line: lines.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line, object });
    }
  }
  return out;
}
