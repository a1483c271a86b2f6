import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { renderHtml, renderJunit, renderMarkdown, parseRunRecord, renderTrend, recurringRunIssue, type RunRecord } from '../../reports/index.js';
import { ConfigError } from '../../core/index.js';
import { githubForgeFromEnv } from '../github-env.js';
import type { CliIO } from './io.js';

export type ReportFormat = 'html' | 'md' | 'junit' | 'json';

/** Reads a RunRecord with errors that say which file and what is wrong with it. */
export async function loadRunRecord(path: string, io: CliIO): Promise<RunRecord> {
  const text = await readFile(resolve(io.cwd, path), 'utf8').catch(() => {
    throw new ConfigError(`${path}: cannot read it`);
  });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: not JSON (${(error as Error).message}); a truncated record?`);
  }
  try {
    return parseRunRecord(data, path);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

export interface ReportOptions {
  format: ReportFormat;
  out?: string;
  htmlUrl?: string;
  /** Open, update or close the run's one GitHub issue instead of writing a report. */
  githubIssue?: boolean;
  /** Link to the CI run, in the issue's comments. */
  runUrl?: string;
  /** Tests pass 0: GitHub asks for a pause between writes. */
  writeIntervalMs?: number;
}

/** `meshdrill report <run.json> [--format] [--out]` and `meshdrill report trend <run.json>...`. */
export async function reportCommand(args: string[], options: ReportOptions, io: CliIO): Promise<number> {
  if (args[0] === 'trend') {
    const files = args.slice(1);
    if (files.length === 0) throw new ConfigError('report trend: expected one or more run records, e.g. `meshdrill report trend .meshdrill/runs/*/run.json`');
    const records = await Promise.all(files.map((f) => loadRunRecord(f, io)));
    return write(renderTrend(records), options.out, io);
  }
  if (args.length !== 1) throw new ConfigError(`report: expected one run record; found ${args.length} arguments (for several, use \`meshdrill report trend\`)`);
  if (options.runUrl !== undefined && !options.githubIssue) throw new ConfigError('--run-url goes with --github-issue: it links the CI run from the issue\'s comments');
  const record = await loadRunRecord(args[0]!, io);
  if (options.githubIssue) return syncIssue(record, options, io);
  const text = options.format === 'html' ? renderHtml(record) : options.format === 'md' ? renderMarkdown(record, options.htmlUrl ? { htmlUrl: options.htmlUrl } : {}) : options.format === 'junit' ? renderJunit(record) : `${JSON.stringify(record, null, 2)}\n`;
  return write(text, options.out, io);
}

async function write(text: string, out: string | undefined, io: CliIO): Promise<number> {
  if (!out) {
    io.stdout(text);
    return 0;
  }
  const path = resolve(io.cwd, out);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  io.stderr(`wrote ${out}\n`);
  return 0;
}

async function syncIssue(record: RunRecord, options: ReportOptions, io: CliIO): Promise<number> {
  const forge = githubForgeFromEnv(io.env, { need: '--github-issue', logger: { info: () => undefined, warn: (_m, msg) => io.stderr(`${msg}\n`) }, ...(options.writeIntervalMs !== undefined ? { tuning: { writeIntervalMs: options.writeIntervalMs } } : {}) })!;
  const request = recurringRunIssue(record, { ...(options.runUrl ? { runUrl: options.runUrl } : {}), ...(options.htmlUrl ? { htmlUrl: options.htmlUrl } : {}) });
  const result = await forge.syncIssue(request);
  const where = result.number !== undefined ? ` #${result.number}${result.url ? ` ${result.url}` : ''}` : '';
  const said = { opened: 'opened issue', updated: 'updated issue', closed: 'closed issue', unchanged: 'already recorded this run on issue', none: 'passed; no open issue' }[result.action];
  io.stdout(`${said}${where}\n`);
  return 0;
}
