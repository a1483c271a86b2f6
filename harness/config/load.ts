import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError } from '../../core/index.js';
import { renderDiagnostic, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import type { KindName } from './kinds.js';
import { checkRules } from './rules.js';
import { documentLine, parseYamlText } from './source.js';
import { validateDocument, type LoadedDocument } from './validate.js';

/** Config files larger than this are refused before parsing: no mesh config is this big. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

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
export async function loadConfig(path: string, options: { cwd?: string } = {}): Promise<ConfigRepo> {
  const cwd = options.cwd ?? process.cwd();
  const absolute = resolve(cwd, path);
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(`${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`, { cause: error });
  });
  const direct = !info.isDirectory();
  const files = direct ? [absolute] : await listYamlFiles(absolute);
  const texts: Array<{ file: string; text: string | undefined; diagnostic?: Diagnostic }> = [];
  for (const file of files) {
    const shown = displayPath(cwd, file);
    texts.push({ file: shown, ...(await readConfigFile(file, shown)) });
  }
  return assemble(texts, direct);
}

/** Load config from text already in memory (tests, stdin); the same checks as files. */
export function loadConfigText(file: string, text: string): ConfigRepo {
  const size = Buffer.byteLength(text);
  if (size > MAX_CONFIG_BYTES) return assemble([{ file, text: undefined, diagnostic: tooLarge(file, size) }], true);
  return assemble([{ file, text }], true);
}

function assemble(inputs: Array<{ file: string; text: string | undefined; diagnostic?: Diagnostic }>, direct: boolean): ConfigRepo {
  const repo: ConfigRepo = { files: inputs.map((i) => i.file), documents: [], foreign: [], diagnostics: [] };
  for (const input of inputs) {
    if (input.diagnostic) repo.diagnostics.push(input.diagnostic);
    if (input.text !== undefined) loadText(repo, input.file, input.text, direct);
  }
  repo.diagnostics.push(...checkRules(repo.documents));
  repo.diagnostics = sortDiagnostics(repo.diagnostics);
  return repo;
}

function loadText(repo: ConfigRepo, file: string, text: string, direct: boolean): void {
  const { documents, diagnostics } = parseYamlText(file, text);
  repo.diagnostics.push(...diagnostics);
  if (diagnostics.length > 0) return;
  let found = 0;
  for (const source of documents) {
    const result = validateDocument(source);
    if (result.type === 'loaded') repo.documents.push(result.document);
    if (result.type === 'invalid') repo.diagnostics.push(...result.diagnostics);
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

async function readConfigFile(file: string, shown: string): Promise<{ text: string | undefined; diagnostic?: Diagnostic }> {
  const size = (await stat(file)).size;
  if (size > MAX_CONFIG_BYTES) return { text: undefined, diagnostic: tooLarge(shown, size) };
  const bytes = await readFile(file);
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { text: undefined, diagnostic: fileProblem(shown, `not a text file: found a NUL byte at offset ${nul}; expected UTF-8 YAML`) };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { text: undefined, diagnostic: fileProblem(shown, 'not a text file: found bytes that are not UTF-8; expected UTF-8 YAML') };
  }
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

/** Every YAML file of a config repo directory, sorted; hidden and build directories skipped. */
export async function listYamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || SKIPPED_DIRECTORIES.has(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listYamlFiles(full)));
    else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out;
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
