import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redactor, RUN_OUTPUT_MARKER } from '../core/index.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { RunRecord } from './run-record.js';

/**
 * Every run ends in a report: the record (run.json), the HTML page beside it (report.html), and —
 * in GitHub Actions — the Markdown appended to the job summary. Returns the record's path.
 */
export async function writeRunOutputs(outDir: string, given: RunRecord, env: NodeJS.ProcessEnv, secrets: Redactor = Redactor.fromEnv(env)): Promise<string> {
  // Reasons, notes and errors carry text from outside (GitHub, the cluster): no secret is written.
  const record = secrets.redactDeep(given);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, RUN_OUTPUT_MARKER), "A meshdrill run's output (run.json, report.html, diagnostics). Config scans skip this folder.\n");
  const recordPath = join(outDir, 'run.json');
  await writeFile(recordPath, `${JSON.stringify(record, null, 2)}\n`);
  await writeFile(join(outDir, 'report.html'), renderHtml(record));
  const summaryFile = env['GITHUB_STEP_SUMMARY'];
  if (summaryFile) await appendFile(summaryFile, `${renderMarkdown(record)}\n`);
  return recordPath;
}
