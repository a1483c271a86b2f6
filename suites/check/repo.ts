import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix, relative, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { exec, type KubeObject } from '../../clusters/index.js';
import { ConfigError } from '../../core/index.js';
import { manifestsOfText, type Manifest } from './manifests.js';

// A mesh config repo read the way the GitOps engine that applies it reads it: kustomizations
// rendered by the kustomize inside kubectl (as Argo CD and Flux's kustomize-controller build
// them), Helm charts left to Helm, plain manifests as they are, and everything else (values
// files, CI files) counted and named, never an error.

/** The names kustomize looks for in a directory (sigs.k8s.io/kustomize api/konfig). */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

const ORIGIN = 'config.kubernetes.io/origin';
const TRANSFORMATIONS = 'alpha.config.kubernetes.io/transformations';
const WRAPPER = 'wrap';
const REPO = 'repo';

export interface RepoManifests {
  manifests: Manifest[];
  /** What was read but not judged, and how the repo was read, each one line. */
  notes: string[];
}

export interface ReadRepoOptions {
  /** Kustomization directories to render (relative to the repo); default: every one no other kustomization includes. */
  kustomize?: string[];
  /** Runs a tool (kubectl, helm); exec by default. */
  run?: typeof exec;
}

interface Kustomization {
  dir: string;
  file: string;
  /** Directories and files it names (resources, bases, components, patches), relative to the repo. */
  dirs: string[];
  files: string[];
}

/**
 * Reads the repo's Kubernetes manifests: kustomization entry points rendered, Helm charts noted
 * (not rendered without helm), the other YAML files parsed directly; files a kustomization or
 * chart owns are read only through it.
 */
export async function readRepoManifests(root: string, files: string[], options: ReadRepoOptions = {}): Promise<RepoManifests> {
  const run = options.run ?? exec;
  const rel = (file: string) => relative(root, file).split(sep).join('/');
  const kustomizations = await findKustomizations(root, files.map(rel));
  const charts = files.map(rel).filter((f) => basename(f) === 'Chart.yaml').map((f) => posix.dirname(f));
  const owned = new Set<string>();
  const inChart = (f: string) => charts.some((c) => c === '.' || f.startsWith(`${c}/`));
  for (const k of kustomizations) {
    owned.add(k.file);
    for (const f of k.files) owned.add(f);
  }
  const notes: string[] = [];
  const manifests: Manifest[] = [];
  let other = 0;
  const otherFiles: string[] = [];
  for (const file of files) {
    const shown = rel(file);
    if (owned.has(shown) || inChart(shown)) continue;
    const read = manifestsOfText(shown, await readFile(file, 'utf8'));
    manifests.push(...read.manifests);
    if (read.other > 0 && read.manifests.length === 0) otherFiles.push(shown);
    other += read.other;
    if (read.unparsed) notes.push(`${shown}:${read.unparsed.line} is not YAML (${read.unparsed.reason}); not judged`);
  }
  if (other > 0) notes.push(`${other} YAML document${other === 1 ? ' is not a Kubernetes object' : 's are not Kubernetes objects'} (no apiVersion and kind), ignored${otherFiles.length ? `: ${shortList(otherFiles)}` : ''}`);
  for (const chart of charts) {
    const rendered = await renderChart(root, chart, run);
    if (typeof rendered === 'string') notes.push(rendered);
    else {
      manifests.push(...rendered);
      notes.push(`rendered with helm template: ${chart} (${rendered.length} object${rendered.length === 1 ? '' : 's'}, release "${posix.basename(chart)}" in namespace default, the chart's own values; lines point at each template's first line)`);
    }
  }

  const entries = options.kustomize?.map((d) => posix.normalize(d.split(sep).join('/')).replace(/\/$/, '')) ?? entryPoints(kustomizations);
  for (const entry of entries) {
    if (!kustomizations.some((k) => k.dir === entry)) throw new ConfigError(`${entry}: no kustomization.yaml there (kustomize entry points are directories with a kustomization)`);
  }
  if (entries.length > 0) {
    const rendered = await renderKustomizations(root, entries, run);
    manifests.push(...rendered);
    notes.push(`rendered with kustomize (kubectl kustomize): ${entries.join(', ')}`);
  }
  const clash = duplicates(manifests);
  if (clash) throw new ConfigError(clash);
  return { manifests, notes };
}

function shortList(items: string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}

/**
 * A Helm chart rendered as Argo CD renders one (`helm template`, no cluster): the chart's own
 * values, release named after its directory. Each object points at the template it came from
 * (helm's `# Source:` comment). Without helm on PATH the chart is named and not judged.
 */
async function renderChart(root: string, chart: string, run: typeof exec): Promise<Manifest[] | string> {
  const release = posix.basename(chart === '.' ? root : chart).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 53) || 'release';
  let result;
  try {
    result = await run('helm', ['template', release, join(root, chart), '--namespace', 'default'], { timeoutMs: 60_000 });
  } catch {
    return `${chart}: a Helm chart, not rendered: helm is not on PATH (install Helm ≥ 3, or render the chart into the repo), so its objects were not judged`;
  }
  if (result.code !== 0) throw new ConfigError(`helm template could not render ${chart}: ${result.stderr.trim().split('\n').find((l) => l.trim()) ?? 'no output'}`);
  const out: Manifest[] = [];
  // Each document of helm's output starts with "# Source: <chart name>/templates/<file>".
  for (const part of result.stdout.split(/^---\s*$/m)) {
    const source = /^# Source: [^/\n]+\/(.+)$/m.exec(part)?.[1];
    const file = source ? posix.join(chart, source) : `${chart}/Chart.yaml`;
    for (const m of manifestsOfText(file, part).manifests) out.push({ ...m, line: 1, lineOf: () => 1, positionOf: () => ({ line: 1, col: 1 }), renderedBy: `helm ${chart}` });
  }
  return out;
}

/** The directories with a kustomization, and what each names. */
async function findKustomizations(root: string, files: string[]): Promise<Kustomization[]> {
  const out: Kustomization[] = [];
  for (const file of files.filter((f) => KUSTOMIZATION_FILES.includes(basename(f)))) {
    const dir = posix.dirname(file);
    let doc: Record<string, unknown>;
    try {
      doc = (parse(await readFile(join(root, file), 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`${file}: not a readable kustomization: ${(error as Error).message.split('\n')[0]}`);
    }
    const named: string[] = [];
    for (const key of ['resources', 'bases', 'components', 'patchesStrategicMerge', 'crds']) {
      for (const entry of (doc[key] as unknown[] | undefined) ?? []) if (typeof entry === 'string' && !/^[a-z]+:\/\//.test(entry) && !entry.includes('?ref=')) named.push(entry);
    }
    for (const patch of [...((doc['patches'] as unknown[] | undefined) ?? []), ...((doc['patchesJson6902'] as unknown[] | undefined) ?? [])]) {
      const path = (patch as { path?: unknown })?.path;
      if (typeof path === 'string') named.push(path);
    }
    const resolved = named.map((n) => posix.normalize(posix.join(dir, n)));
    const fileSet = new Set(files);
    out.push({ dir, file, files: resolved.filter((r) => fileSet.has(r)), dirs: resolved.filter((r) => !fileSet.has(r)) });
  }
  return out;
}

/** The kustomizations no other kustomization includes: what a GitOps engine would be pointed at. */
function entryPoints(kustomizations: Kustomization[]): string[] {
  const included = new Set(kustomizations.flatMap((k) => k.dirs));
  return kustomizations.map((k) => k.dir).filter((d) => !included.has(d)).sort();
}

/**
 * Renders each entry point with `kubectl kustomize`, from a copy of the repo with a wrapping
 * kustomization that asks for origin annotations, so each object names the file it came from
 * (and the kustomizations that transformed it). The annotations are taken off again.
 */
async function renderKustomizations(root: string, entries: string[], run: typeof exec): Promise<Manifest[]> {
  const work = await mkdtemp(join(tmpdir(), 'meshdrill-kustomize-'));
  try {
    // The copy and the wrapper side by side: a wrapper inside the copy would be inside the root
    // kustomization it includes, which kustomize refuses as a cycle.
    const copy = join(work, REPO);
    await cp(root, copy, { recursive: true, filter: (source) => !/[\\/](\.git|node_modules)$/.test(source) });
    const wrapper = join(work, WRAPPER);
    await mkdir(wrapper, { recursive: true });
    const sources = new Map<string, ReturnType<typeof manifestsOfText>>();
    const out: Manifest[] = [];
    for (const entry of entries) {
      await writeFile(join(wrapper, 'kustomization.yaml'), `resources:\n  - ../${REPO}${entry === '.' ? '' : `/${entry}`}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n`);
      const result = await run('kubectl', ['kustomize', wrapper], { timeoutMs: 60_000 });
      if (result.code !== 0) throw new ConfigError(`kustomize could not build ${entry}: ${kustomizeError(result.stderr)}`);
      const rendered = manifestsOfText(`${entry} (kustomize)`, result.stdout);
      for (const m of rendered.manifests) out.push(await traced(m, entry, copy, sources));
    }
    return out;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** kubectl's error line without its klog prefix (`E1202 … run.go:72] "command failed" err="…"`), and with the temporary paths taken out. */
function kustomizeError(stderr: string): string {
  const line = stderr.trim().split('\n').find((l) => l.trim()) ?? 'no output';
  const err = /err="(.*)"\s*$/.exec(line)?.[1]?.replace(/\\"/g, '"') ?? line.replace(/^Error: /, '');
  return err.replace(/\/[^\s'"]*meshdrill-kustomize-[^/\s'"]+\/(repo\/?)?/g, '').replace(/\.\.\/repo\/?/g, '');
}

/** A rendered object pointed back at the document it came from, with its field lines there. */
async function traced(m: Manifest, entry: string, copy: string, sources: Map<string, ReturnType<typeof manifestsOfText>>): Promise<Manifest> {
  const annotations = { ...(m.object.metadata.annotations ?? {}) };
  const origin = annotations[ORIGIN] ? (parse(annotations[ORIGIN]) as { path?: string } | null) : null;
  const transformations = annotations[TRANSFORMATIONS] ? ((parse(annotations[TRANSFORMATIONS]) as Array<{ configuredIn?: string; configuredBy?: { kind?: string } }> | null) ?? []) : [];
  delete annotations[ORIGIN];
  delete annotations[TRANSFORMATIONS];
  const metadata = { ...m.object.metadata, annotations };
  if (Object.keys(annotations).length === 0) delete (metadata as { annotations?: unknown }).annotations;
  const object = { ...m.object, metadata } as KubeObject;
  // Paths in the annotations are relative to the wrapper; in the repo they are under REPO/.
  const inRepo = (path: string): string | undefined => {
    const normal = posix.normalize(posix.join(WRAPPER, path));
    return normal.startsWith(`${REPO}/`) ? normal.slice(REPO.length + 1) : undefined;
  };
  const patchedIn = [...new Set(transformations.filter((t) => t.configuredBy?.kind !== 'NamespaceTransformer' && t.configuredIn).map((t) => inRepo(t.configuredIn!)).filter((p): p is string => p !== undefined))];
  const base: Manifest = { ...m, object, renderedBy: `kustomize ${entry}`, ...(patchedIn.length ? { patchedIn } : {}) };
  const path = origin?.path ? inRepo(origin.path) : undefined;
  if (!path) {
    // Generated (configMapGenerator) or remote: the entry's kustomization is where it was made.
    return { ...base, file: `${entry === '.' ? '' : `${entry}/`}kustomization.yaml`, line: 1, lineOf: () => 1 };
  }
  let source = sources.get(path);
  if (!source) {
    source = manifestsOfText(path, await readFile(resolve(copy, path), 'utf8').catch(() => ''));
    sources.set(path, source);
  }
  // The source document: same kind and name (a namespace or a name prefix may have been added).
  const doc = source.manifests.find((s) => s.object.kind === object.kind && s.object.metadata.name === object.metadata.name) ?? source.manifests.find((s) => s.object.kind === object.kind && object.metadata.name.includes(s.object.metadata.name));
  return doc ? { ...base, file: path, line: doc.line, ...(doc.lineOf ? { lineOf: doc.lineOf } : {}), ...(doc.positionOf ? { positionOf: doc.positionOf } : {}) } : { ...base, file: path, line: 1, lineOf: () => 1 };
}

/** Two documents that are one object on the cluster: the later would silently replace the earlier. */
function duplicates(manifests: Manifest[]): string | undefined {
  const seen = new Map<string, Manifest>();
  for (const m of manifests) {
    const key = `${m.object.apiVersion.split('/')[0]} ${m.object.kind} ${m.object.metadata.namespace ?? ''}/${m.object.metadata.name}`;
    const earlier = seen.get(key);
    if (earlier) {
      const how = (x: Manifest) => `${x.file}:${x.line}${x.renderedBy ? ` (${x.renderedBy})` : ''}`;
      return `${m.object.kind} ${m.object.metadata.namespace ? `${m.object.metadata.namespace}/` : ''}${m.object.metadata.name} is defined twice: ${how(earlier)} and ${how(m)}. When kustomize overlays for several clusters render the same object, check one at a time: --kustomize <dir> or CheckConfig spec.kustomize`;
    }
    seen.set(key, m);
  }
  return undefined;
}

