import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConfigError, RUN_OUTPUT_MARKER } from '../../core/index.js';
import { MAX_CONFIG_BYTES, yamlBudgetProblem } from '../../model/index.js';
import { renderDiagnostic, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { isKindName, type KindName } from './kinds.js';
import { checkRules } from './rules.js';
import { documentLine, parseYamlText } from './source.js';
import { validateDocument, type LoadedDocument } from './validate.js';

export { MAX_CONFIG_BYTES };

/** A manifest that is not meshdrill's (a Kubernetes or mesh object): kept, not validated here. */
export interface ForeignDocument {
  file: string;
  line: number;
  apiVersion: string;
  kind: string;
}

/** Everything read from a config file or a config repo directory. */
export interface ConfigRepo {
  files: string[];
  documents: LoadedDocument[];
  /** Documents with errors, by kind and name: they exist for references, their errors are their own. */
  invalid: Array<{ kind: KindName; name: string }>;
  foreign: ForeignDocument[];
  /** Errors and warnings, sorted by file and line. */
  diagnostics: Diagnostic[];
}

export function hasErrors(repo: Pick<ConfigRepo, 'diagnostics'>): boolean {
  return repo.diagnostics.some((d) => d.severity === 'error');
}

export function documentsOfKind<K extends KindName>(repo: ConfigRepo, kind: K): LoadedDocument<K>[] {
  return repo.documents.filter((d): d is LoadedDocument<K> => d.kind === kind);
}

/**
 * Load a YAML file or a directory of them (a config repo). Problems in the files come back as
 * diagnostics; only a path that cannot be read at all throws (ConfigError).
 */
export async function loadConfig(path: string | readonly string[], options: { cwd?: string } = {}): Promise<ConfigRepo> {
  const cwd = options.cwd ?? process.cwd();
  // Several paths are one repo: documents in one file may refer to documents in another.
  const paths = typeof path === 'string' ? [path] : path;
  const texts: Array<{ file: string; text: string | undefined; diagnostic?: Diagnostic }> = [];
  let direct = paths.length === 1;
  const seen = new Set<string>();
  for (const one of paths) {
    const absolute = resolve(cwd, one);
    const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError(`${one}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`, { cause: error });
    });
    if (info.isDirectory()) direct = false;
    const scan = info.isDirectory() ? await scanRepo(absolute) : { files: [absolute], problems: [] };
    texts.push(...scan.problems.map((p) => ({ file: displayPath(cwd, p.file), text: undefined, diagnostic: { ...p.diagnostic, file: displayPath(cwd, p.file) } })));
    for (const file of scan.files) {
      if (seen.has(file)) continue;
      seen.add(file);
      const shown = displayPath(cwd, file);
      texts.push({ file: shown, ...(await readConfigFile(file, shown)) });
    }
  }
  return assemble(texts, direct);
}

/** Load config from text already in memory (tests, stdin); the same checks as files. */
export function loadConfigText(file: string, text: string): ConfigRepo {
  const size = Buffer.byteLength(text);
  if (size > MAX_CONFIG_BYTES) return assemble([{ file, text: undefined, diagnostic: tooLarge(file, size) }], true);
  const budget = yamlBudgetProblem(text);
  if (budget) return assemble([{ file, text: undefined, diagnostic: fileProblem(file, `file ${budget}`) }], true);
  return assemble([{ file, text }], true);
}

function assemble(inputs: Array<{ file: string; text: string | undefined; diagnostic?: Diagnostic }>, direct: boolean): ConfigRepo {
  const repo: ConfigRepo = { files: inputs.map((i) => i.file), documents: [], invalid: [], foreign: [], diagnostics: [] };
  for (const input of inputs) {
    if (input.diagnostic) repo.diagnostics.push(input.diagnostic);
    if (input.text !== undefined) loadText(repo, input.file, input.text, direct);
  }
  repo.diagnostics.push(...checkRules(repo.documents, repo.invalid));
  repo.diagnostics = sortDiagnostics(repo.diagnostics);
  return repo;
}

function loadText(repo: ConfigRepo, file: string, text: string, direct: boolean): void {
  const { documents, diagnostics } = parseYamlText(file, text);
  repo.diagnostics.push(...diagnostics);
  if (diagnostics.length > 0) return;
  let found = 0;
  for (const source of documents) {
    const result = otherYaml(source.value, direct) ? ({ type: 'foreign', apiVersion: '', kind: '' } as const) : validateDocument(source);
    if (result.type === 'loaded') repo.documents.push(result.document);
    if (result.type === 'invalid') {
      repo.diagnostics.push(...result.diagnostics);
      if (result.named) repo.invalid.push(result.named);
    }
    if (result.type === 'foreign') {
      repo.foreign.push({ file, line: documentLine(source), apiVersion: result.apiVersion, kind: result.kind });
    }
    if (result.type !== 'empty') found++;
  }
  if (found === 0) {
    repo.diagnostics.push({
      severity: direct ? 'error' : 'warning',
      file,
      line: 1,
      col: 1,
      path: '',
      message: 'file is empty; expected at least one document with apiVersion and kind',
    });
  }
}

/**
 * In a repo directory, a mapping with neither apiVersion nor a meshdrill kind is some other tool's
 * YAML (a kustomization, Helm values, a CI file): kept aside with the other foreign documents, not
 * an error. A file named directly must be meshdrill's, so there it stays an error.
 */
function otherYaml(value: unknown, direct: boolean): boolean {
  if (direct || value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const { apiVersion, kind } = value as Record<string, unknown>;
  return apiVersion === undefined && !(typeof kind === 'string' && isKindName(kind));
}

/**
 * Reads one config file within its budgets: only regular files are opened (a FIFO would hang, a
 * device never end), nothing over the size limit is read, nothing over the node budget parsed,
 * and a file that cannot be read is reported with its errno while the others are still read.
 */
async function readConfigFile(file: string, shown: string): Promise<{ text: string | undefined; diagnostic?: Diagnostic }> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) return { text: undefined, diagnostic: fileProblem(shown, `cannot read it: ${errnoText(info)}`) };
  if (!info.isFile()) return { text: undefined, diagnostic: fileProblem(shown, `not a regular file (${fileKind(info)}); refused without opening it`) };
  if (info.size > MAX_CONFIG_BYTES) return { text: undefined, diagnostic: tooLarge(shown, info.size) };
  let bytes: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      // Read at most one byte over the limit: a file that grew since stat is still refused.
      const buffer = Buffer.alloc(Math.min(info.size, MAX_CONFIG_BYTES) + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_CONFIG_BYTES) return { text: undefined, diagnostic: tooLarge(shown, bytesRead) };
      bytes = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { text: undefined, diagnostic: fileProblem(shown, `cannot read it: ${errnoText(error as NodeJS.ErrnoException)}`) };
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { text: undefined, diagnostic: fileProblem(shown, `not a text file: found a NUL byte at offset ${nul}; expected UTF-8 YAML`) };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { text: undefined, diagnostic: fileProblem(shown, 'not a text file: found bytes that are not UTF-8; expected UTF-8 YAML') };
  }
  const budget = yamlBudgetProblem(text);
  if (budget) return { text: undefined, diagnostic: fileProblem(shown, `file ${budget}`) };
  return { text };
}

function errnoText(error: NodeJS.ErrnoException): string {
  const what: Record<string, string> = { EACCES: 'permission denied', EPERM: 'operation not permitted', ENOENT: 'no such file', ELOOP: 'a loop of symlinks', EISDIR: 'a directory', EIO: 'an I/O error' };
  return error.code ? `${error.code}${what[error.code] ? ` (${what[error.code]})` : ''}` : error.message;
}

function fileKind(info: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isDirectory(): boolean }): string {
  return info.isFIFO() ? 'a FIFO' : info.isSocket() ? 'a socket' : info.isCharacterDevice() ? 'a character device' : info.isBlockDevice() ? 'a block device' : info.isDirectory() ? 'a directory' : 'not a file';
}

// Paths inside the working directory are shown relative to it, others in full.
function displayPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

function tooLarge(file: string, size: number): Diagnostic {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return fileProblem(file, `file is ${mib(size)}; config files are limited to ${mib(MAX_CONFIG_BYTES)}`);
}

function fileProblem(file: string, message: string): Diagnostic {
  return { severity: 'error', file, line: 1, col: 1, path: '', message };
}

const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', 'coverage']);
const YAML = /\.ya?ml$/;

/** A file of the repo that is not read, and why (a symlink out of the repo, a FIFO, a loop). */
export interface RepoProblem {
  file: string;
  diagnostic: Diagnostic;
}

/**
 * Every YAML file of a config repo directory, sorted; hidden and build directories skipped, and
 * folders holding a meshdrill run's output (RUN_OUTPUT_MARKER).
 * Symlinks inside the repo are followed (each directory once, so a loop ends); a symlink whose
 * target leaves the repo, a dangling one and a non-regular file are reported, never read.
 * Iterative: a deep tree cannot overflow the stack.
 */
export async function scanRepo(dir: string): Promise<{ files: string[]; problems: RepoProblem[] }> {
  const root = await realpath(dir);
  const inside = (real: string) => real === root || real.startsWith(root + sep);
  const files: string[] = [];
  const problems: RepoProblem[] = [];
  const problem = (file: string, message: string) => problems.push({ file, diagnostic: fileProblem(file, message) });
  const visited = new Set<string>([root]);
  const read = new Map<string, string>();
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const entries = await readdir(current, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      problem(current, `cannot list this directory: ${errnoText(error)}`);
      return [];
    });
    // A run's output folder (diagnostics are YAML dumps of the cluster) is evidence, not config.
    if (current !== dir && entries.some((e) => e.name === RUN_OUTPUT_MARKER && e.isFile())) continue;
    const below: string[] = [];
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || SKIPPED_DIRECTORIES.has(entry.name)) continue;
      const full = join(current, entry.name);
      let kind: 'dir' | 'file' | 'other' = entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : 'other';
      let real = full;
      if (entry.isSymbolicLink()) {
        const target = await realpath(full).catch((error: NodeJS.ErrnoException) => error);
        if (target instanceof Error) {
          if (YAML.test(entry.name)) problem(full, `a symlink that leads nowhere: ${errnoText(target)}`);
          continue;
        }
        if (!inside(target)) {
          problem(full, `a symlink that leaves the config repo (to ${target}); refused: only files inside the repo are read`);
          continue;
        }
        real = target;
        const info = await stat(target);
        kind = info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other';
      }
      if (kind === 'dir') {
        const key = entry.isSymbolicLink() ? real : await realpath(full);
        // A directory reached twice (a symlink back up the tree) is read once: the loop ends.
        if (!visited.has(key)) {
          visited.add(key);
          below.push(full);
        }
        continue;
      }
      if (!YAML.test(entry.name)) continue;
      if (kind === 'other') {
        const info = await lstat(real).catch(() => undefined);
        problem(full, `not a regular file (${info ? fileKind(info) : 'unknown'}); refused without opening it`);
        continue;
      }
      const realFile = entry.isSymbolicLink() ? real : await realpath(full);
      const first = read.get(realFile);
      if (first) {
        problems.push({ file: full, diagnostic: { ...fileProblem(full, `the same file as ${relative(dir, first)} (through a symlink); read once`), severity: 'warning' } });
        continue;
      }
      read.set(realFile, full);
      files.push(full);
    }
    // Depth-first in name order, as a recursive walk would go.
    pending.push(...below.reverse());
  }
  return { files: files.sort(), problems };
}

/** Every YAML file of a config repo directory that can be read (see scanRepo for what is not). */
export async function listYamlFiles(dir: string): Promise<string[]> {
  return (await scanRepo(dir)).files;
}

/**
 * Stops a command on a repo with config errors: the first `show` of them as file:line:col, and,
 * when given, the command that lists them all.
 */
export function assertNoConfigErrors(repo: Pick<ConfigRepo, 'diagnostics'>, label: string, options: { show: number; allWith?: string }): void {
  if (!hasErrors(repo)) return;
  const errors = sortDiagnostics(repo.diagnostics.filter((d) => d.severity === 'error'));
  const shown = errors.slice(0, options.show).map((d) => `\n  ${renderDiagnostic(d)}`).join('');
  const more = errors.length > options.show && options.allWith ? `\n  … run \`${options.allWith}\` to see them all` : '';
  throw new ConfigError(`${label} has ${errors.length} config error${errors.length === 1 ? '' : 's'}:${shown}${more}`);
}
