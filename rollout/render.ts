import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../clusters/index.js';
import type { MeshAdapter } from '../meshes/index.js';
import type { StagePlan } from './stage.js';
import { YamlFileEditor } from './yaml-edit.js';

/** A change to one file of the config repo; `after` undefined deletes the file. */
export interface FileUpdate {
  path: string;
  before: string | undefined;
  after: string | undefined;
}

export interface RenderInput {
  /** Every YAML file of the repo, by path relative to its root. */
  files: Map<string, string>;
  /** The file holding the RolloutPlan document, and the plan's name. */
  planFile: string;
  stage: StagePlan;
  adapter: MeshAdapter;
  /** Where meshdrill keeps the files it owns entirely. */
  generatedDir?: string;
}

/**
 * What the stage means, written into the repo so the GitOps engine applies exactly what was
 * tested: status.stage in the plan, the mesh's labels or annotations on the Namespace manifests,
 * and the mTLS policy objects in a file meshdrill owns. Users' files are edited through the YAML
 * document API, so comments, order and layout survive. Pure: returns the updates, writes nothing.
 */
export function planUpdates(input: RenderInput): FileUpdate[] {
  const updates: FileUpdate[] = [];
  const states = new Map(input.stage.namespaces.map((n) => [n.namespace, n]));
  const declared = new Set<string>();
  const dir = `${input.generatedDir ?? 'meshdrill'}/${input.stage.plan}`;
  for (const [path, text] of input.files) {
    // meshdrill's own files are written whole below.
    if (path.startsWith(`${dir}/`)) continue;
    const editor = new YamlFileEditor(text);
    if (!editor.valid) continue;
    let changed = false;
    for (const doc of editor.docs) {
      const kind = doc.get('kind');
      const name = doc.getIn(['metadata', 'name']);
      if (path === input.planFile && kind === 'RolloutPlan' && name === input.stage.plan) {
        changed = editor.setScalar(doc, ['status', 'stage'], input.stage.stage) || changed;
      }
      if (kind === 'Namespace' && doc.get('apiVersion') === 'v1' && typeof name === 'string' && states.has(name)) {
        declared.add(name);
        const marks = input.adapter.namespaceMarks(states.get(name)!.meshed);
        for (const field of ['labels', 'annotations'] as const) {
          for (const [key, value] of Object.entries(marks[field])) {
            if ((doc.getIn(['metadata', field, key]) ?? null) !== value) changed = editor.setEntry(doc, ['metadata', field], key, value) || changed;
          }
        }
      }
    }
    if (changed) updates.push({ path, before: text, after: editor.toString() });
  }
  // Namespaces with no manifest of their own: meshdrill's file holds them, and once a namespace is
  // in it, it stays (unmeshed on a revert): a GitOps engine prunes what leaves its source, and a
  // pruned Namespace takes every workload in it. The objects also tell Flux and Argo CD never to
  // prune or delete them.
  const nsPath = `${dir}/namespaces.yaml`;
  const written = namespacesIn(input.files.get(nsPath));
  const listed = [...new Set([...written, ...input.stage.namespaces.filter((n) => n.meshed).map((n) => n.namespace)])].filter((n) => !declared.has(n));
  const namespaceObjects = listed.map((n) => namespaceObject(n, input.adapter.namespaceMarks(states.get(n)?.meshed ?? false)));
  updates.push(...owned(input.files, nsPath, namespaceObjects, input.stage, { keep: written.length > 0 }));
  updates.push(...owned(input.files, `${dir}/mtls.yaml`, input.stage.policies, input.stage));
  updates.push(...registered(input.files, dir, updates));
  return updates.filter((u) => u.before !== u.after);
}

/** Flux's and Argo CD's "never prune, never delete" (kustomize-controller; Argo CD sync options). */
export const PRUNE_SAFE_ANNOTATIONS = { 'kustomize.toolkit.fluxcd.io/prune': 'disabled', 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' };

function namespacesIn(text: string | undefined): string[] {
  if (!text) return [];
  const docs = parseAllDocuments(text);
  return (Array.isArray(docs) ? docs : []).map((d) => d.getIn(['metadata', 'name'])).filter((n): n is string => typeof n === 'string');
}

function namespaceObject(name: string, marks: { labels: Record<string, string | null>; annotations: Record<string, string | null> }): KubeObject {
  const keep = (m: Record<string, string | null>) => Object.fromEntries(Object.entries(m).filter((e): e is [string, string] => e[1] !== null));
  const labels = keep(marks.labels);
  const annotations = { ...PRUNE_SAFE_ANNOTATIONS, ...keep(marks.annotations) };
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(Object.keys(labels).length ? { labels } : {}), annotations } };
}

/** A file meshdrill owns entirely: rewritten from the objects, deleted when there are none (unless kept). */
function owned(files: Map<string, string>, path: string, objects: KubeObject[], stage: StagePlan, options: { keep?: boolean } = {}): FileUpdate[] {
  const before = files.get(path);
  if (objects.length === 0 && !options.keep) return before === undefined ? [] : [{ path, before, after: undefined }];
  const header = `# Generated by meshdrill from rollout plan "${stage.plan}" at stage ${stage.stage}${stage.current ? ` (${stage.current.name})` : ''}.\n# Do not edit: \`meshdrill rollout render\` rewrites this file.\n`;
  const after = header + objects.map((o) => stringify(o)).join('---\n');
  return [{ path, before, after }];
}

const KUSTOMIZATIONS = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/**
 * In a repo kustomize builds (a kustomization at its root), meshdrill's directory gets its own
 * kustomization listing the files in it, and the root's lists the directory once; neither is ever
 * removed, so a file meshdrill deletes never leaves a dangling resource.
 */
function registered(files: Map<string, string>, dir: string, updates: FileUpdate[]): FileUpdate[] {
  const root = KUSTOMIZATIONS.find((k) => files.has(k));
  if (!root) return [];
  const exists = (path: string) => {
    const update = updates.find((u) => u.path === path);
    return update ? update.after !== undefined : files.has(path);
  };
  const resources = ['namespaces.yaml', 'mtls.yaml'].filter((f) => exists(`${dir}/${f}`));
  const own = `${dir}/kustomization.yaml`;
  if (resources.length === 0 && !files.has(own)) return [];
  const out: FileUpdate[] = [{ path: own, before: files.get(own), after: `# Generated by meshdrill: the files of this directory, for kustomize.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:${resources.length ? resources.map((r) => `\n  - ${r}`).join('') : ' []'}\n` }];
  const text = files.get(root)!;
  const editor = new YamlFileEditor(text);
  const doc = editor.docs[0];
  if (doc && editor.valid && !((doc.get('resources') as { items?: Array<{ value?: unknown }> } | undefined)?.items ?? []).some((i) => i.value === dir)) {
    editor.appendToSeq(doc, ['resources'], dir);
    out.push({ path: root, before: text, after: editor.toString() });
  }
  return out;
}
