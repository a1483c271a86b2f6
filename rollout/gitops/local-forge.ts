import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/index.js';
import type { BranchResult } from './git.js';

/**
 * The forge when there is no GitHub token: the branch and commit are in the local repo, and the
 * pull request it would open is written as Markdown beside the run's reports.
 */
export async function writeLocalPullRequest(dir: string, pr: { title: string; body: string; branch: BranchResult; base: string }, logger: Pick<Logger, 'info'>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${pr.branch.branch.replace(/[^\w.-]+/g, '_')}.md`);
  await writeFile(path, `# ${pr.title}\n\n${pr.body}\n`);
  logger.info({ path, head: pr.branch.branch, base: pr.base }, 'no GitHub token: wrote the pull request body locally; on GitHub it would open a pull request from head into base');
  return path;
}
