import type { SimpleGit, SimpleGitOptions } from 'simple-git';

/** simple-git, loaded when a command first touches git. */
export async function gitAt(options: string | Partial<SimpleGitOptions>): Promise<SimpleGit> {
  const { simpleGit } = await import('simple-git');
  return typeof options === 'string' ? simpleGit(options) : simpleGit(options);
}
import { GitError, type Logger } from '../../core/index.js';
import { applyUpdates } from '../apply.js';
import type { FileUpdate } from '../render.js';

export const MESHDRILL_AUTHOR = { name: 'meshdrill', email: 'meshdrill@users.noreply.github.com' };

export interface StageChange {
  plan: string;
  stage: number;
  verdict: 'advance' | 'revert';
  runId: string;
  updates: FileUpdate[];
  title: string;
  body: string;
}

export interface BranchResult {
  branch: string;
  /** The commit the branch starts from, and the branch the user had checked out (the PR's base). */
  base: string;
  baseBranch: string;
  commit?: string;
  type: 'created' | 'updated' | 'unchanged';
  pushed: boolean;
  /** A person committed to the branch: meshdrill stops force-pushing it. */
  humanCommits: boolean;
}

/** The deterministic branch of a stage change: meshdrill/<plan>/stage-<n>-<verdict>. */
export function stageBranch(change: Pick<StageChange, 'plan' | 'stage' | 'verdict'>): string {
  return `meshdrill/${change.plan}/stage-${change.stage}-${change.verdict}`;
}

/**
 * Commits a stage change on its own branch and pushes it (when the repo has the remote). The
 * user's checkout is left as it was: same branch, clean tree. A dirty repo is refused; a branch a
 * person has committed to is not force-pushed; on any failure the new branch is removed.
 */
export async function commitStageChange(root: string, change: StageChange, options: { dryRun: boolean; logger: Pick<Logger, 'info' | 'warn'>; remote?: string; requireRemote?: boolean }): Promise<BranchResult> {
  const git = await gitAt(root);
  const remoteName = options.remote ?? 'origin';
  if (!(await git.checkIsRepo().catch(() => false))) throw new GitError(`${root} is not a git repository`);
  const status = await git.status();
  if (status.conflicted.length > 0) throw new GitError(`${root} has unresolved merge conflicts (${status.conflicted.slice(0, 5).join(', ')}); resolve or abort the merge first`);
  // meshdrill's own run output (.meshdrill/, untracked) does not make the repo dirty.
  const dirty = status.files.filter((f) => !(f.index === '?' && f.path.startsWith('.meshdrill/')));
  if (dirty.length > 0) throw new GitError(`${root} has uncommitted changes (${dirty.slice(0, 5).map((f) => f.path).join(', ')}${dirty.length > 5 ? ', …' : ''}); commit or stash them first`);
  const original = (await git.revparse(['--abbrev-ref', 'HEAD'])).trim();
  const base = (await git.revparse(['HEAD'])).trim();
  const branch = stageBranch(change);
  const remotes = await git.getRemotes();
  const hasRemote = remotes.some((r) => r.name === remoteName);
  let remoteHead: string | undefined;
  let humanCommits = false;
  if (!hasRemote && options.requireRemote) throw new GitError(`${root} has no remote "${remoteName}" to push the stage branch to (remotes: ${remotes.map((r) => r.name).join(', ') || 'none'}); add it or choose one with --remote`);
  if (hasRemote) {
    await git.fetch(remoteName).catch((error: Error) => {
      throw new GitError(`fetching ${remoteName}: ${error.message.trim().split('\n').at(-1)}`, { cause: error });
    });
    // The stage change must sit on top of what is merged: a base that moved on the remote is
    // pulled first, or the PR would quietly revert other people's work.
    const upstream = (await git.raw(['rev-parse', '--verify', '--quiet', `refs/remotes/${remoteName}/${original}`]).catch(() => '')).trim();
    if (upstream && upstream !== base) {
      const behind = (await git.raw(['merge-base', upstream, base]).catch(() => '')).trim() !== upstream;
      if (behind) throw new GitError(`${remoteName}/${original} has moved: it has commits your checkout of ${original} lacks; pull them first so the stage change is made on top of them`);
    }
    remoteHead = (await git.raw(['rev-parse', '--verify', '--quiet', `refs/remotes/${remoteName}/${branch}`]).catch(() => '')).trim() || undefined;
    if (remoteHead) humanCommits = await hasHumanCommits(git, `${remoteName}/${branch}`, base);
  }
  if (humanCommits) {
    options.logger.warn({ branch }, 'a person has committed to the branch; not force-pushing it');
    return { branch, base, baseBranch: original, ...(remoteHead ? { commit: remoteHead } : {}), type: 'unchanged', pushed: false, humanCommits: true };
  }
  if (options.dryRun) {
    options.logger.info({ branch, files: change.updates.map((u) => u.path).join(',') }, `DRY-RUN: would commit to ${branch}${hasRemote ? ` and push to ${remoteName}` : ''}`);
    return { branch, base, baseBranch: original, type: remoteHead ? 'updated' : 'created', pushed: false, humanCommits: false };
  }
  try {
    await git.raw(['checkout', '-q', '-B', branch, base]);
    await applyUpdates(root, change.updates, { dryRun: false, logger: { info: () => undefined } });
    await git.add(['-A', '--', ...change.updates.map((u) => u.path)]);
    const trailers = [`Meshdrill-Run-Id: ${change.runId}`, `Meshdrill-Plan: ${change.plan}`, `Meshdrill-Stage: ${change.stage}`, `Meshdrill-Verdict: ${change.verdict}`];
    // meshdrill commits as itself (author and committer), through per-command config only.
    const as = await gitAt({ baseDir: root, config: [`user.name=${MESHDRILL_AUTHOR.name}`, `user.email=${MESHDRILL_AUTHOR.email}`] });
    await as.commit([change.title, change.body, trailers.join('\n')]);
    const commit = (await git.revparse(['HEAD'])).trim();
    // The same tree as what is already pushed: nothing to do.
    if (remoteHead && (await git.raw(['rev-parse', `${commit}^{tree}`])).trim() === (await git.raw(['rev-parse', `${remoteHead}^{tree}`])).trim()) {
      return { branch, base, baseBranch: original, commit: remoteHead, type: 'unchanged', pushed: false, humanCommits: false };
    }
    if (hasRemote) {
      await git.push([remoteName, `${branch}:${branch}`, `--force-with-lease=${branch}:${remoteHead ?? ''}`]).catch((error: Error) => {
        throw new GitError(`pushing ${branch} to ${remoteName}: ${error.message.split('\n').find((l) => l.includes('!') || l.includes('error')) ?? error.message}`, { cause: error });
      });
    }
    options.logger.info({ branch, commit: commit.slice(0, 12) }, hasRemote ? `pushed ${branch}` : `committed ${branch} (no remote ${remoteName})`);
    return { branch, base, baseBranch: original, commit, type: remoteHead ? 'updated' : 'created', pushed: hasRemote, humanCommits: false };
  } catch (error) {
    await git.raw(['checkout', '-q', '-f', original]).catch(() => undefined);
    await git.raw(['branch', '-D', branch]).catch(() => undefined);
    throw error instanceof GitError ? error : new GitError(`committing ${branch}: ${(error as Error).message}`, { cause: error });
  } finally {
    await git.raw(['checkout', '-q', original]).catch(() => undefined);
  }
}

/**
 * When the plan's last revert was merged (committer time of the newest commit on HEAD with
 * meshdrill's revert trailers for the plan): the cool-down runs from there. Git is the only state.
 */
export async function lastRevertTime(root: string, plan: string): Promise<number | undefined> {
  const git = await gitAt(root);
  const log = await git.raw(['log', '-z', '--format=%ct%n%B', `--grep=^Meshdrill-Plan: ${plan}$`, 'HEAD']).catch(() => '');
  for (const entry of log.split('\0')) {
    const [time, ...body] = entry.trim().split('\n');
    if (body.some((line) => line.trim() === 'Meshdrill-Verdict: revert') && body.some((line) => line.trim() === `Meshdrill-Plan: ${plan}`)) return Number(time) * 1000;
  }
  return undefined;
}

/** Whether the branch has commits since `base` that meshdrill did not author. */
async function hasHumanCommits(git: SimpleGit, ref: string, base: string): Promise<boolean> {
  const log = await git.raw(['log', '--format=%ae', `${base}..${ref}`]).catch(() => '');
  return log.split('\n').some((email) => email.trim() !== '' && email.trim() !== MESHDRILL_AUTHOR.email);
}
