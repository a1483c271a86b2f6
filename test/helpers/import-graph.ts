import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The layers, lowest first. A folder may import only folders on a lower layer; folders on one
 * layer do not import each other. test/ and bench/ sit above everything: they drive the whole tool.
 */
export const LAYERS: ReadonlyArray<readonly string[]> = [
  ['core'],
  ['model'],
  ['reports'],
  ['clusters'],
  ['meshes'],
  ['slo'],
  ['load'],
  ['rollout', 'chaos'],
  ['suites'],
  ['harness'],
  ['test'],
  ['bench'],
];

export interface ImportEdge {
  /** Repo-relative paths with forward slashes. */
  from: string;
  to: string;
  typeOnly: boolean;
  line: number;
  /** The line before says why a deep import is needed. */
  justified: boolean;
  /** `import('…')`: loaded when the code runs, not when the module is. */
  dynamic?: boolean;
}

const SKIP = new Set(['node_modules', 'dist', 'coverage', '.git', '.meshdrill', 'test-artifacts']);
// import … from '…', export … from '…', import('…'); comments and strings elsewhere do not match.
const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;

export function listSources(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIP.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

/** Every relative import in the repo's TypeScript, resolved to the file it names. */
export function importGraph(root: string, files = listSources(root)): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const text = readFileSync(join(root, from), 'utf8');
    const lines = text.split('\n');
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[3] ?? match[4]!;
      const to = relative(root, resolve(root, dirname(from), spec.replace(/\.js$/, '.ts'))).split(sep).join('/');
      const line = text.slice(0, match.index).split('\n').length;
      edges.push({ from, to, typeOnly: match[2] !== undefined, line, justified: /deep import/i.test(lines[line - 2] ?? ''), dynamic: match[4] !== undefined });
    }
  }
  return edges;
}

function folderOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.indexOf('/')) : '.';
}

function layerOf(folder: string): number | undefined {
  const index = LAYERS.findIndex((layer) => layer.includes(folder));
  return index === -1 ? undefined : index;
}

const isTest = (path: string) => path.endsWith('.test.ts');

/**
 * A folder's public surface is its index.ts; its schema.ts (the documents it owns, zod only) is a
 * second, light entry point, so loading and validating config does not load the engines.
 */
const PUBLIC = ['index.ts', 'schema.ts'];

/** What breaks the layering: upward or sideways imports, reaching past a folder's index.ts, and import circles. */
export function layerViolations(edges: readonly ImportEdge[]): string[] {
  const problems: string[] = [];
  for (const edge of edges) {
    const from = folderOf(edge.from);
    const to = folderOf(edge.to);
    if (from === to) continue;
    const where = `${edge.from}:${edge.line} imports ${edge.to}`;
    const fromLayer = layerOf(from);
    const toLayer = layerOf(to);
    if (fromLayer === undefined || toLayer === undefined) {
      if (from !== '.') problems.push(`${where}: folder ${fromLayer === undefined ? from : to} is on no layer`);
      continue;
    }
    // Tests beside the code may use the shared test helpers, which drive the whole tool.
    if (isTest(edge.from) && edge.to.startsWith('test/helpers/')) continue;
    if (toLayer > fromLayer) problems.push(`${where}: ${from} may not import ${to}, which is on a higher layer`);
    else if (toLayer === fromLayer) problems.push(`${where}: ${from} and ${to} are on one layer and may not import each other`);
    else if (fromLayer < layerOf('test')! && !PUBLIC.some((file) => edge.to === `${to}/${file}`) && !(edge.typeOnly && edge.justified)) {
      problems.push(`${where}: import ${to}/index.ts, the folder's public surface, or ${to}/schema.ts, its documents (a type-only deep import needs a "deep import" comment saying why)`);
    }
  }
  for (const circle of importCircles(edges.filter((e) => !isTest(e.from) && !isTest(e.to)))) problems.push(`import circle: ${circle.join(' → ')}`);
  return problems;
}

/** Circles in the file graph (Tarjan's strongly connected components), each as a path that returns to its start. */
export function importCircles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let counter = 0;
  // Iterative, so a long chain of files cannot overflow the stack.
  for (const start of next.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; i: number }> = [{ node: start, i: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = next.get(frame.node) ?? [];
      if (frame.i < targets.length) {
        const target = targets[frame.i++]!;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, i: 0 });
        } else if (onStack.has(target)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      if (component.length > 1) circles.push([...component.reverse(), component[0]!]);
    }
  }
  return circles;
}

// Static imports of packages (not type-only): what loading a module loads with it.
const PACKAGE_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?['"]([^.'"][^'"]*)['"]/gm;

/**
 * The packages a module loads when it is imported: its static, non-type imports and theirs, over
 * our own files; `import()` inside functions does not count, it runs only when called.
 */
export function packagesLoadedBy(root: string, entry: string, edges = importGraph(root)): Set<string> {
  const next = new Map<string, string[]>();
  for (const e of edges) if (!e.typeOnly && !e.dynamic) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const seen = new Set<string>([entry]);
  const queue = [entry];
  const packages = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop()!;
    for (const match of readFileSync(join(root, file), 'utf8').matchAll(PACKAGE_IMPORT)) if (!match[1]!.startsWith('node:')) packages.add(match[1]!);
    for (const to of next.get(file) ?? []) if (!seen.has(to)) queue.push(to), seen.add(to);
  }
  return packages;
}
