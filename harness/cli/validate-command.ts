import { hasErrors, loadConfig, renderDiagnostic, type ConfigRepo } from '../config/index.js';
import { documentLine } from '../config/source.js';
import type { CliIO, Paint } from './io.js';

export type OutputFormat = 'text' | 'json';

/**
 * `meshdrill validate <path…>`: 0 when every file is valid, 1 when any has an error. The paths are
 * one config repo, as a run reads them: a plan in one file may name a topology in another.
 */
export async function validateCommand(paths: string[], options: { output: OutputFormat }, io: CliIO, paint: Paint): Promise<number> {
  const repos: Array<{ path: string; repo: ConfigRepo }> = [{ path: paths.join(' '), repo: await loadConfig(paths, { cwd: io.cwd }) }];
  const invalid = repos.some(({ repo }) => hasErrors(repo));
  if (options.output === 'json') {
    io.stdout(`${JSON.stringify({ valid: !invalid, results: repos.map(({ path, repo }) => summarise(path, repo)) }, null, 2)}\n`);
    return invalid ? 1 : 0;
  }
  for (const { path, repo } of repos) {
    for (const d of repo.diagnostics) {
      const line = renderDiagnostic(d);
      io.stderr(`${d.severity === 'error' ? paint('red', line) : paint('yellow', line)}\n`);
    }
    io.stdout(`${summaryLine(path, repo, paint)}\n`);
  }
  return invalid ? 1 : 0;
}

function summarise(path: string, repo: ConfigRepo) {
  return {
    path,
    valid: !hasErrors(repo),
    files: repo.files,
    documents: repo.documents.map((d) => ({ kind: d.kind, name: d.name, file: d.source.file, line: documentLine(d.source) })),
    ignored: repo.foreign,
    diagnostics: repo.diagnostics,
  };
}

function summaryLine(path: string, repo: ConfigRepo, paint: Paint): string {
  const errors = repo.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = repo.diagnostics.length - errors;
  const counts = new Map<string, number>();
  for (const d of repo.documents) counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1);
  const kinds = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
  const ignored = repo.foreign.length > 0 ? `; ${repo.foreign.length} other manifest${repo.foreign.length === 1 ? '' : 's'} ignored` : '';
  const files = `${repo.files.length} file${repo.files.length === 1 ? '' : 's'}`;
  const warned = warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : '';
  if (errors > 0) return paint('red', `✗ ${path}: ${errors} error${errors === 1 ? '' : 's'}${warned} in ${files}`);
  return paint('green', `✓ ${path}: valid (${kinds || 'no documents'}) in ${files}${warned}${ignored}`);
}
