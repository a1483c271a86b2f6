import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../../test/helpers/fake-github.js';
import { exampleCheckout, git } from '../../test/helpers/git-repo.js';
import { exampleStageChange } from '../../test/helpers/stage-change.js';
import { commitStageChange } from './git.js';
import { GitHubForge } from './github-forge.js';

// Branches that require signed commits take only commits GitHub signed: meshdrill has GitHub make
// the stage commit through its Git Data API (Renovate's platformCommit), on a fake GitHub whose API
// writes the real bare repository the checkout pushes to, its requests checked against GitHub's
// OpenAPI description.
const run = promisify(execFile);
const TOKEN = 'ghs_verifiedcommitstoken0123456789';
const quiet = { info: () => undefined, warn: () => undefined };
const servers: FakeGitHub[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

const change = exampleStageChange;

async function github(origin: string): Promise<{ server: FakeGitHub; forge: GitHubForge }> {
  const server = await new FakeGitHub('platform', 'mesh-config', TOKEN).start();
  servers.push(server);
  server.gitDir = origin;
  return { server, forge: new GitHubForge({ owner: 'platform', repo: 'mesh-config', auth: { token: TOKEN }, baseUrl: server.url, writeIntervalMs: 0, logger: quiet }) };
}

describe('rollout/gitops: verified commits through the GitHub API', () => {
  it('has GitHub make and sign the stage commit with the same files, fetches it back, and makes nothing new for the same evidence', async () => {
    const { work, origin } = await exampleCheckout();
    const { server, forge } = await github(origin);
    const publish = (input: Parameters<GitHubForge['createVerifiedCommit']>[0]) => forge.createVerifiedCommit(input);
    const branch = 'meshdrill/shop-migration/stage-1-advance';

    const planned = await change(work);
    const first = await commitStageChange(work, planned, { dryRun: false, logger: quiet, publish });
    const again = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet, publish });

    expect(first).toMatchObject({ branch, type: 'created', pushed: true, humanCommits: false });
    expect(await git(origin, 'rev-parse', branch)).toBe(first.commit);
    expect(server.verifiedCommits).toEqual([first.commit]);
    expect(await git(origin, 'log', '-1', '--format=%an <%ae>|%cn|%P', branch)).toBe(`meshdrill-app[bot] <1234+meshdrill-app[bot]@users.noreply.github.com>|GitHub|${await git(work, 'rev-parse', 'main')}`);
    expect(await git(origin, 'log', '-1', '--format=%B', branch)).toContain('Meshdrill-Run-Id: run-1\nMeshdrill-Plan: shop-migration');
    expect((await git(origin, 'diff', '--name-only', 'main', branch)).split('\n').sort()).toEqual(planned.updates.map((u) => u.path).sort());
    expect(await git(work, 'rev-parse', branch)).toBe(first.commit);
    // GitHub's own commit, with meshdrill's trailers and a bot identity, is meshdrill's: not a person's.
    expect(again).toMatchObject({ type: 'unchanged', humanCommits: false, commit: first.commit });
    expect(server.verifiedCommits).toHaveLength(1);
    expect(server.violations).toEqual([]);
    expect(server.writes().map((r) => `${r.method} ${r.template}`)).toEqual(['POST /repos/{owner}/{repo}/git/trees', 'POST /repos/{owner}/{repo}/git/commits', 'POST /repos/{owner}/{repo}/git/refs']);
  });

  it('moves an existing branch only if it still holds what was fetched, and refuses a base GitHub does not have', async () => {
    const { work, origin } = await exampleCheckout();
    const { forge } = await github(origin);
    const publish = (input: Parameters<GitHubForge['createVerifiedCommit']>[0]) => forge.createVerifiedCommit(input);
    await commitStageChange(work, await change(work), { dryRun: false, logger: quiet, publish });
    // A newer plan on main, then a push to the stage branch that lands between meshdrill's fetch and its write.
    await writeFile(join(work, 'NOTES.md'), 'unpushed\n');
    await git(work, 'add', '-A');
    await git(work, 'commit', '-qm', 'notes, not pushed');

    const unpushed = await commitStageChange(work, await change(work), { dryRun: false, logger: quiet, publish }).catch((e: Error) => e.message);
    await git(work, 'push', '-q', 'origin', 'main');
    const racing = await commitStageChange(work, await change(work), {
      dryRun: false,
      logger: quiet,
      publish: async (input) => {
        const other = join(await mkdtemp(join(tmpdir(), 'meshdrill-racer-')), 'clone');
        await run('git', ['clone', '-q', '-b', input.branch, origin, other]);
        await git(other, 'commit', '-q', '--allow-empty', '-m', 'someone else', '--author', 'Pat <pat@example.com>');
        await git(other, 'push', '-q', 'origin', input.branch);
        return forge.createVerifiedCommit(input);
      },
    }).catch((e: Error) => e.message);

    expect(unpushed).toMatch(/^verified commits are made by GitHub on top of [0-9a-f]{12}, which origin\/main does not have: push main first$/);
    expect(racing).toMatch(/^meshdrill\/shop-migration\/stage-1-advance on GitHub is at [0-9a-f]{12}, not [0-9a-f]{12} as fetched: someone pushed meanwhile/);
  });
});
