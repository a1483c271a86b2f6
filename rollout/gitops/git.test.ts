import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GitError } from '../../core/index.js';
import { readStateMarker } from './body.js';
import { commitStageChange } from './git.js';
import { writeLocalPullRequest } from './local-forge.js';
import { exampleCheckout, git } from '../../test/helpers/git-repo.js';
import { exampleStageChange } from '../../test/helpers/stage-change.js';

const run = promisify(execFile);
const quiet = { info: () => undefined, warn: () => undefined };

/** A person clones origin (at `branch`), commits a note to NOTES.md and pushes it back to `push`. */
async function personPushes(origin: string, who: { name: string; email: string }, note: { branch?: string; text: string; message: string; push: string }): Promise<void> {
  const other = join(await mkdtemp(join(tmpdir(), 'meshdrill-person-')), 'clone');
  await run('git', ['clone', '-q', ...(note.branch ? ['-b', note.branch] : []), origin, other]);
  await git(other, 'config', 'user.name', who.name);
  await git(other, 'config', 'user.email', who.email);
  await writeFile(join(other, 'NOTES.md'), note.text);
  await git(other, 'add', '-A');
  await git(other, 'commit', '-q', '-m', note.message);
  await git(other, 'push', '-q', 'origin', note.push);
}

const change = exampleStageChange;

describe('rollout/gitops', () => {
  it('commits the stage on its own branch with trailers, pushes it, and leaves the checkout as it was', async () => {
    const { work, origin } = await exampleCheckout();

    const result = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet });

    expect(result).toMatchObject({ branch: 'meshdrill/shop-migration/stage-1-advance', type: 'created', pushed: true, humanCommits: false });
    expect(await git(work, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(await git(work, 'status', '--porcelain')).toBe('');
    expect(await git(origin, 'rev-parse', 'meshdrill/shop-migration/stage-1-advance')).toBe(result.commit);
    const message = await git(origin, 'log', '-1', '--format=%an <%ae>%n%B', 'meshdrill/shop-migration/stage-1-advance');
    expect(message.split('\n')[0]).toBe('meshdrill[bot] <meshdrill[bot]@users.noreply.github.com>');
    expect(message).toContain('Meshdrill-Run-Id: run-1\nMeshdrill-Plan: shop-migration\nMeshdrill-Stage: 1\nMeshdrill-Verdict: advance');
    const changed = await git(origin, 'diff', '--name-only', 'main', 'meshdrill/shop-migration/stage-1-advance');
    expect(changed.split('\n').sort()).toEqual(['manifests/namespaces.yaml', 'meshdrill/shop-migration/mtls.yaml', 'rollout-plan.yaml']);
    const planDiff = await git(origin, 'diff', '-U0', 'main', 'meshdrill/shop-migration/stage-1-advance', '--', 'rollout-plan.yaml');
    expect(planDiff.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual(['-  stage: 0', '+  stage: 1']);
  });

  it('commits as the repo asks (its author, its branch prefix), and still knows its own commits on the next run', async () => {
    const { work, origin } = await exampleCheckout();
    const identity = { author: { name: 'Platform Bot', email: 'platform-bot@example.com' }, branchPrefix: 'bots/mesh' };

    const first = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet, identity });
    const second = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet, identity });

    expect(first).toMatchObject({ branch: 'bots/mesh/shop-migration/stage-1-advance', type: 'created' });
    expect(await git(origin, 'log', '-1', '--format=%an <%ae> / %cn <%ce>', 'bots/mesh/shop-migration/stage-1-advance')).toBe('Platform Bot <platform-bot@example.com> / Platform Bot <platform-bot@example.com>');
    // Its own commit is not a person's: the second run does not stop at it.
    expect(second).toMatchObject({ type: 'unchanged', humanCommits: false });
  });

  it('leaves an unchanged branch alone on a second run with the same evidence', async () => {
    const { work } = await exampleCheckout();
    const first = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet });

    const second = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet });

    expect(second).toMatchObject({ type: 'unchanged', pushed: false, commit: first.commit });
  });

  it('stops force-pushing once a person has committed to the branch', async () => {
    const { work, origin } = await exampleCheckout();
    await commitStageChange(work, await change(work), { dryRun: false, logger: quiet });
    await personPushes(origin, { name: 'Pat Platform', email: 'pat@example.com' }, { branch: 'meshdrill/shop-migration/stage-1-advance', text: 'checked with the payments team\n', message: 'note', push: 'HEAD' });
    const humanHead = await git(origin, 'rev-parse', 'meshdrill/shop-migration/stage-1-advance');
    const warnings: string[] = [];

    const result = await commitStageChange(work, await change(work), { dryRun: false, logger: { info: () => undefined, warn: (_m, msg) => warnings.push(msg) } });

    expect(result).toMatchObject({ type: 'unchanged', humanCommits: true, pushed: false });
    expect(await git(origin, 'rev-parse', 'meshdrill/shop-migration/stage-1-advance')).toBe(humanHead);
    expect(warnings).toEqual([expect.stringMatching(/^meshdrill\/shop-migration\/stage-1-advance has commits a person made on origin \([0-9a-f]+ by pat@example.com\); meshdrill does not reset or force-push it/)]);
  });

  it('never resets a local stage branch a person committed to, pushed or not', async () => {
    const { work } = await exampleCheckout();
    await git(work, 'remote', 'remove', 'origin');
    await commitStageChange(work, await change(work), { dryRun: false, logger: quiet });
    // A person adds a commit on the local stage branch and goes back to main: nothing is pushed anywhere.
    await git(work, 'checkout', '-q', 'meshdrill/shop-migration/stage-1-advance');
    await writeFile(join(work, 'NOTES.md'), 'talked to payments\n');
    await git(work, 'add', 'NOTES.md');
    await git(work, '-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '-m', 'notes');
    await git(work, 'checkout', '-q', 'main');
    const theirs = await git(work, 'rev-parse', 'meshdrill/shop-migration/stage-1-advance');
    const warnings: string[] = [];

    const result = await commitStageChange(work, await change(work), { dryRun: false, logger: { info: () => undefined, warn: (_m, msg) => warnings.push(msg) } });

    expect(result).toMatchObject({ type: 'unchanged', humanCommits: true, commit: theirs });
    expect(await git(work, 'rev-parse', 'meshdrill/shop-migration/stage-1-advance')).toBe(theirs);
    expect(await git(work, 'show', 'meshdrill/shop-migration/stage-1-advance:NOTES.md')).toBe('talked to payments');
    expect(warnings[0]).toContain('has commits a person made locally');
  });

  it('makes no commit and moves no ref on the same evidence without a remote, nor with one', async () => {
    const { work } = await exampleCheckout();
    const first = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet });
    const refsBefore = await git(work, 'for-each-ref', '--format=%(refname) %(objectname)');

    const second = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet });

    expect(second).toMatchObject({ type: 'unchanged', commit: first.commit });
    expect(await git(work, 'for-each-ref', '--format=%(refname) %(objectname)')).toBe(refsBefore);
    // The local branch is what was pushed and reported.
    expect(await git(work, 'rev-parse', 'meshdrill/shop-migration/stage-1-advance')).toBe(first.commit);
    await git(work, 'remote', 'remove', 'origin');
    const offline = await git(work, 'for-each-ref', '--format=%(refname) %(objectname)');

    const third = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet });

    expect(third).toMatchObject({ type: 'unchanged', commit: first.commit });
    expect(await git(work, 'for-each-ref', '--format=%(refname) %(objectname)')).toBe(offline);
  });

  it('refuses a repo with uncommitted changes and changes nothing', async () => {
    const { work } = await exampleCheckout();
    await writeFile(join(work, 'scratch.yaml'), 'a: 1\n');

    await expect(commitStageChange(work, await change(work), { dryRun: false, logger: quiet })).rejects.toThrow(new GitError(`${work} has uncommitted changes (scratch.yaml); commit or stash them first`));
    expect(await git(work, 'branch', '--list', 'meshdrill/*')).toBe('');
  });

  it('with --dry-run says what it would commit and creates no branch', async () => {
    const { work, origin } = await exampleCheckout();
    const lines: string[] = [];

    await commitStageChange(work, await change(work), { dryRun: true, logger: { info: (meta, msg) => lines.push(`${msg} ${String(meta['branch'])}`), warn: () => undefined } });

    expect(lines).toEqual(['DRY-RUN: would commit to meshdrill/shop-migration/stage-1-advance and push to origin meshdrill/shop-migration/stage-1-advance']);
    expect(await git(origin, 'branch', '--list', 'meshdrill/*')).toBe('');
  });

  it('commits locally and writes the pull request body when there is no remote', async () => {
    const { work } = await exampleCheckout();
    await git(work, 'remote', 'remove', 'origin');
    const stageChange = await change(work);

    const result = await commitStageChange(work, stageChange, { dryRun: false, logger: quiet });
    const reports = await mkdtemp(join(tmpdir(), 'meshdrill-reports-'));
    const path = await writeLocalPullRequest(reports, { title: stageChange.title, body: stageChange.body, branch: result, base: 'main' }, quiet);

    expect(result).toMatchObject({ type: 'created', pushed: false });
    expect(await git(work, 'branch', '--list', 'meshdrill/*')).toBe('meshdrill/shop-migration/stage-1-advance');
    expect(await readdir(reports)).toEqual(['meshdrill_shop-migration_stage-1-advance.md']);
    const body = await readFile(path, 'utf8');
    expect(body.split('\n')[0]).toBe('# meshdrill: advance shop-migration to stage 1 (frontend-canary)');
    expect(readStateMarker(body)).toEqual({ plan: 'shop-migration', stage: 1, verdict: 'advance', runId: 'run-1', evidence: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('refuses a checkout whose base branch moved on the remote, and pushes nothing', async () => {
    const { work, origin } = await exampleCheckout();
    await personPushes(origin, { name: 'Sam Sre', email: 'sam@example.com' }, { text: 'payments moved behind the egress gateway\n', message: 'notes', push: 'main' });

    const error = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet }).catch((e: unknown) => e);

    expect((error as Error).message).toBe('origin/main has moved: it has commits your checkout of main lacks; pull them first so the stage change is made on top of them');
    expect(await git(origin, 'branch', '--list', 'meshdrill/*')).toBe('');
    expect(await git(work, 'branch', '--list', 'meshdrill/*')).toBe('');
  });

  it('refuses a missing remote when one is required, and a repo in the middle of a merge conflict', async () => {
    const { work } = await exampleCheckout();
    const missing = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet, remote: 'upstream', requireRemote: true }).catch((e: unknown) => e);
    await git(work, 'checkout', '-q', '-b', 'side');
    await writeFile(join(work, 'NOTES.md'), 'side\n');
    await git(work, 'add', '-A');
    await git(work, 'commit', '-q', '-m', 'side');
    await git(work, 'checkout', '-q', 'main');
    await writeFile(join(work, 'NOTES.md'), 'main\n');
    await git(work, 'add', '-A');
    await git(work, 'commit', '-q', '-m', 'main');
    await run('git', ['merge', 'side'], { cwd: work }).catch(() => undefined);

    const conflicted = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet }).catch((e: unknown) => e);

    expect((missing as Error).message).toBe(`${work} has no remote "upstream" to push the stage branch to (remotes: origin); add it or choose one with --remote`);
    expect((conflicted as Error).message).toBe(`${work} has unresolved merge conflicts (NOTES.md); resolve or abort the merge first`);
    expect(await git(work, 'branch', '--list', 'meshdrill/*')).toBe('');
  });
});

describe('stage changes as the repo wants them', () => {
  it('writes Conventional Commit subjects when asked, and adds the repo\'s labels after meshdrill\'s own', async () => {
    const { asTheRepoWants } = await import('../../test/helpers/cli.js');

    expect(asTheRepoWants({ conventionalCommits: true, labels: ['platform', 'meshdrill'] }, 'meshdrill: advance shop-migration to stage 2 (catalog)', ['meshdrill', 'stage/2', 'advance', 'slo/pass'])).toEqual({
      title: 'chore(mesh): advance shop-migration to stage 2 (catalog)',
      labels: ['meshdrill', 'stage/2', 'advance', 'slo/pass', 'platform'],
    });
    expect(asTheRepoWants({ conventionalCommits: false, labels: [] }, 'meshdrill: revert x to stage 1 (a)', ['meshdrill'])).toEqual({ title: 'meshdrill: revert x to stage 1 (a)', labels: ['meshdrill'] });
  });
});
