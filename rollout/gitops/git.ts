import type { SimpleGit, SimpleGitOptions } from 'simple-git';
import { GitError, type Logger } from '../../core/index.js';
import { applyUpdates } from '../apply.js';
import type { FileUpdate } from '../render.js';

/** simple-git, loaded when a command first touches git. */
export async function gitAt(options: string | Partial<SimpleGitOptions>): Promise<SimpleGit> {
  const { simpleGit } = await import('simple-git');
  return typeof options === 'string' ? simpleGit(options) : simpleGit(options);
}

/** Who commits by default: a bot-style identity, not one that looks like a person's account. */
export const MESHDRILL_AUTHOR = { name: 'meshdrill[bot]', email: 'meshdrill[bot]@users.noreply.github.com' };
/** The address earlier meshdrill versions committed with: their commits are meshdrill's too. */
const LEGACY_AUTHOR_EMAIL = 'meshdrill@users.noreply.github.com';

/** How this repo wants stage changes committed (RolloutPlan spec.git). */
export interface GitIdentity {
  author?: { name: string; email: string };
  branchPrefix?: string;
}

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
export function stageBranch(change: Pick<StageChange, 'plan' | 'stage' | 'verdict'>, prefix = 'meshdrill'): string {
  return `${prefix}/${change.plan}/stage-${change.stage}-${change.verdict}`;
}

/**
 * Whether a checkout can take a stage change: a git repository, no merge in progress, no
 * uncommitted changes (meshdrill's own untracked run output aside), and — with the remote —
 * not behind it. Checked before a gate measures anything, so a bake is never wasted on a checkout
 * that would be refused afterwards, and again right before the commit.
 */
export async function checkoutReady(root: string, options: { remote?: string; requireRemote?: boolean } = {}): Promise<{ original: string; base: string; hasRemote: boolean; remoteName: string }> {
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
  const remotes = await git.getRemotes();
  const hasRemote = remotes.some((r) => r.name === remoteName);
  if (!hasRemote && options.requireRemote) throw new GitError(`${root} has no remote "${remoteName}" to push the stage branch to (remotes: ${remotes.map((r) => r.name).join(', ') || 'none'}); add it or choose one with --remote`);
  if (hasRemote) {
    await git.fetch(remoteName).catch((error: Error) => {
      throw new GitError(`fetching ${remoteName}: ${error.message.trim().split('\n').at(-1)}`, { cause: error });
    });
    // The stage change must sit on top of what is merged: a base that moved on the remote is
    // pulled first, or the PR would quietly revert other people's work.
    const upstream = await revision(git, `refs/remotes/${remoteName}/${original}`);
    if (upstream && upstream !== base) {
      const behind = (await git.raw(['merge-base', upstream, base]).catch(() => '')).trim() !== upstream;
      if (behind) throw new GitError(`${remoteName}/${original} has moved: it has commits your checkout of ${original} lacks; pull them first so the stage change is made on top of them`);
    }
  }
  return { original, base, hasRemote, remoteName };
}

/** Makes the stage commit on the forge instead of pushing the local one (GitHub signs it: Verified). */
export type PublishCommit = (input: { branch: string; parent: string; message: string; files: Array<{ path: string; content: string | undefined }>; expected: string | undefined }) => Promise<{ commit: string; tree: string }>;

/**
 * Commits a stage change on its own branch and pushes it (when the repo has the remote). The
 * user's checkout is left as it was: same branch, clean tree. A dirty repo is refused. A branch
 * that holds commits a person made — locally, unpushed, or on the remote — is never reset or
 * force-pushed: meshdrill says so and leaves it. The commit is made detached and the branch moved
 * to it only when its tree differs from the branch's tip: the same evidence moves no ref, with or
 * without a remote. On any failure the checkout is put back and no ref has moved.
 */
export async function commitStageChange(root: string, change: StageChange, options: { dryRun: boolean; logger: Pick<Logger, 'info' | 'warn'>; remote?: string; requireRemote?: boolean; identity?: GitIdentity; publish?: PublishCommit }): Promise<BranchResult> {
  const author = options.identity?.author ?? MESHDRILL_AUTHOR;
  const ours = new Set([author.email, MESHDRILL_AUTHOR.email, LEGACY_AUTHOR_EMAIL]);
  const git = await gitAt(root);
  const { original, base, hasRemote, remoteName } = await checkoutReady(root, options);
  const branch = stageBranch(change, options.identity?.branchPrefix);
  const remoteHead = hasRemote ? await revision(git, `refs/remotes/${remoteName}/${branch}`) : undefined;
  const localHead = await revision(git, `refs/heads/${branch}`);
  const local = localHead ? await humanCommits(git, localHead, base, ours) : [];
  const remote = remoteHead ? await humanCommits(git, remoteHead, base, ours) : [];
  const people = [...local, ...remote];
  if (people.length > 0) {
    const where = [local.length ? 'locally' : '', remote.length ? `on ${remoteName}` : ''].filter(Boolean).join(' and ');
    options.logger.warn({ branch }, `${branch} has commits a person made ${where} (${[...new Set(people)].slice(0, 3).join('; ')}); meshdrill does not reset or force-push it: merge, close or delete it to let meshdrill take it over again`);
    return { branch, base, baseBranch: original, ...(remoteHead ?? localHead ? { commit: (remoteHead ?? localHead)! } : {}), type: 'unchanged', pushed: false, humanCommits: true };
  }
  if (options.dryRun) {
    options.logger.info({ branch, files: change.updates.map((u) => u.path).join(',') }, `DRY-RUN: would commit to ${branch}${hasRemote ? ` and push to ${remoteName}` : ''}`);
    return { branch, base, baseBranch: original, type: remoteHead ? 'updated' : 'created', pushed: false, humanCommits: false };
  }
  let commit: string;
  try {
    // Detached: no branch moves until the commit is known to be new.
    await git.raw(['checkout', '-q', '--detach', base]);
    await applyUpdates(root, change.updates, { dryRun: false, logger: { info: () => undefined } });
    await git.add(['-A', '--', ...change.updates.map((u) => u.path)]);
    const trailers = [`Meshdrill-Run-Id: ${change.runId}`, `Meshdrill-Plan: ${change.plan}`, `Meshdrill-Stage: ${change.stage}`, `Meshdrill-Verdict: ${change.verdict}`];
    // meshdrill commits as itself (author and committer), through per-command config only.
    const as = await gitAt({ baseDir: root, config: [`user.name=${author.name}`, `user.email=${author.email}`] });
    await as.commit([change.title, change.body, trailers.join('\n')]);
    commit = (await git.revparse(['HEAD'])).trim();
  } catch (error) {
    throw error instanceof GitError ? error : new GitError(`committing ${branch}: ${(error as Error).message}`, { cause: error });
  } finally {
    await git.raw(['checkout', '-q', '-f', original]).catch(() => undefined);
  }
  // The same tree as the branch already has (pushed, or committed before without a remote): nothing moves.
  const tip = remoteHead ?? localHead;
  if (tip && (await treeOf(git, commit)) === (await treeOf(git, tip))) {
    if (remoteHead && localHead !== remoteHead) await git.raw(['branch', '-f', branch, remoteHead]);
    return { branch, base, baseBranch: original, commit: tip, type: 'unchanged', pushed: false, humanCommits: false };
  }
  if (options.publish && hasRemote) {
    const published = await publishVerified(git, { branch, base, commit, remoteName, remoteHead, original, updates: change.updates, publish: options.publish });
    options.logger.info({ branch, commit: published.slice(0, 12) }, `GitHub made and signed ${branch}`);
    return { branch, base, baseBranch: original, commit: published, type: tip ? 'updated' : 'created', pushed: true, humanCommits: false };
  }
  try {
    if (hasRemote) {
      await git.push([remoteName, `${commit}:refs/heads/${branch}`, `--force-with-lease=${branch}:${remoteHead ?? ''}`]).catch((error: Error) => {
        throw new GitError(`pushing ${branch} to ${remoteName}: ${error.message.split('\n').find((l) => l.includes('!') || l.includes('error')) ?? error.message}`, { cause: error });
      });
    }
    // The local branch is what was pushed and reported, never something else.
    await git.raw(['branch', '-f', branch, commit]);
  } catch (error) {
    throw error instanceof GitError ? error : new GitError(`committing ${branch}: ${(error as Error).message}`, { cause: error });
  }
  options.logger.info({ branch, commit: commit.slice(0, 12) }, hasRemote ? `pushed ${branch}` : `committed ${branch} (no remote ${remoteName})`);
  return { branch, base, baseBranch: original, commit, type: tip ? 'updated' : 'created', pushed: hasRemote, humanCommits: false };
}

/**
 * The local commit made again by the forge: same parent, message and files. GitHub builds it from
 * the parent it has, so the parent must be on the remote; the forge's tree must equal the local one
 * (a file mode or line ending GitHub would change is an error, not a silent difference). The
 * remote branch is then fetched, and the local branch set to what GitHub made.
 */
async function publishVerified(git: SimpleGit, input: { branch: string; base: string; commit: string; remoteName: string; remoteHead: string | undefined; original: string; updates: StageChange['updates']; publish: PublishCommit }): Promise<string> {
  const upstream = await revision(git, `refs/remotes/${input.remoteName}/${input.original}`);
  // (merge-base --is-ancestor answers by exit code alone, which simple-git does not always surface.)
  const onRemote = upstream !== undefined && (await git.raw(['merge-base', input.base, upstream]).catch(() => '')).trim() === input.base;
  if (!onRemote) throw new GitError(`verified commits are made by GitHub on top of ${input.base.slice(0, 12)}, which ${input.remoteName}/${input.original} does not have: push ${input.original} first`);
  const prefix = (await git.revparse(['--show-prefix']).catch(() => '')).trim();
  const message = (await git.raw(['log', '-1', '--format=%B', input.commit])).replace(/\n+$/, '\n');
  const files = input.updates.map((u) => ({ path: `${prefix}${u.path}`, content: u.after }));
  const made = await input.publish({ branch: input.branch, parent: input.base, message, files, expected: input.remoteHead });
  await git.fetch(input.remoteName, `+refs/heads/${input.branch}:refs/remotes/${input.remoteName}/${input.branch}`).catch((error: Error) => {
    throw new GitError(`fetching ${input.branch} back from ${input.remoteName}: ${error.message.trim().split('\n').at(-1)}`, { cause: error });
  });
  const fetched = await revision(git, `refs/remotes/${input.remoteName}/${input.branch}`);
  if (fetched !== made.commit) throw new GitError(`${input.remoteName}/${input.branch} is at ${fetched?.slice(0, 12) ?? 'nothing'}, not at the commit GitHub made (${made.commit.slice(0, 12)})`);
  if ((await treeOf(git, made.commit)) !== (await treeOf(git, input.commit))) throw new GitError(`GitHub's commit ${made.commit.slice(0, 12)} holds other files than the stage change meshdrill rendered (a file mode or line ending changed on the way); the branch ${input.branch} needs a look`);
  await git.raw(['branch', '-f', input.branch, made.commit]);
  return made.commit;
}

async function revision(git: SimpleGit, ref: string): Promise<string | undefined> {
  return (await git.raw(['rev-parse', '--verify', '--quiet', ref]).catch(() => '')).trim() || undefined;
}

async function treeOf(git: SimpleGit, commit: string): Promise<string> {
  return (await git.raw(['rev-parse', `${commit}^{tree}`])).trim();
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

/**
 * When the plan's live stage went live in git: the first-parent commit (the merge or squash on the
 * branch the GitOps engine follows) from which status.stage has held its present value. Undefined
 * when the history does not reach back that far (a shallow clone) or the file is not committed.
 */
export async function stageLiveSince(root: string, planFile: string, plan: string, stage: number): Promise<number | undefined> {
  const git = await gitAt(root);
  const log = await git.raw(['log', '--first-parent', '--format=%H %ct', 'HEAD', '--', planFile]).catch(() => '');
  const { parseAllDocuments } = await import('yaml');
  const stageIn = (text: string) => {
    for (const doc of parseAllDocuments(text)) {
      const data = (doc as { toJS?: () => unknown }).toJS?.() as { kind?: string; metadata?: { name?: string }; status?: { stage?: unknown } } | null | undefined;
      if (data?.kind === 'RolloutPlan' && data.metadata?.name === plan) return typeof data.status?.stage === 'number' ? data.status.stage : 0;
    }
    return undefined;
  };
  let since: number | undefined;
  for (const line of log.split('\n').filter((l) => l.trim() !== '')) {
    const [sha, time] = line.trim().split(' ');
    const text = await git.raw(['show', `${sha}:${planFile}`]).catch(() => undefined);
    if (text === undefined || stageIn(text) !== stage) return since;
    since = Number(time) * 1000;
  }
  // The whole history holds this stage: since the first commit, unless the clone is shallow.
  const shallow = (await git.raw(['rev-parse', '--is-shallow-repository']).catch(() => 'true')).trim() === 'true';
  return shallow ? undefined : since;
}

/** The commits on `ref` since `base` that meshdrill did not author ("<sha> by <email>"). */
async function humanCommits(git: SimpleGit, ref: string, base: string, ours: Set<string>): Promise<string[]> {
  const log = await git.raw(['log', '--format=%h %ae %(trailers:key=Meshdrill-Run-Id,valueonly,separator=)', `${base}..${ref}`]).catch(() => '');
  return log
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter(([sha, email, run]) => {
      if (!sha || !email) return false;
      if (ours.has(email)) return false;
      // A verified commit GitHub made for meshdrill carries the App's bot identity and meshdrill's trailers: no person's.
      return !(run && /\[bot\]@users\.noreply\./.test(email));
    })
    .map(([sha, email]) => `${sha} by ${email}`);
}
