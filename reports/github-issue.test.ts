import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportCommand, captureIO } from '../test/helpers/cli.js';
import { FakeGitHub } from '../test/helpers/fake-github.js';
import type { RunRecord } from './run-record.js';
import { sampleRecord } from './sample-record.js';

const TOKEN = 'ghs_issueToken00000000000000000000000000';

describe('one GitHub issue per scheduled game day', () => {
  let github: FakeGitHub;
  let dir: string;
  beforeEach(async () => {
    github = await new FakeGitHub('platform', 'mesh-config', TOKEN).start();
    dir = await mkdtemp(join(tmpdir(), 'meshdrill-issue-'));
  });
  afterEach(() => github.stop());

  /** Writes the record and runs `meshdrill report <run.json> --github-issue` the way the workflow does. */
  async function report(record: RunRecord): Promise<{ code: number; out: string }> {
    const file = join(dir, `${record.runId}.json`);
    await writeFile(file, JSON.stringify(record));
    const io = { ...captureIO(dir), env: { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: 'platform/mesh-config', GITHUB_API_URL: github.url } };
    const code = await reportCommand([file], { format: 'html', githubIssue: true, runUrl: 'https://github.invalid/platform/mesh-config/actions/runs/42', writeIntervalMs: 0 }, io);
    return { code, out: io.out.join('') + io.err.join('') };
  }
  const failing = (runId: string): RunRecord => ({ ...sampleRecord({ series: 1, hours: 0.1 }), runId });
  const passing = (runId: string): RunRecord => ({ ...failing(runId), outcome: { verdict: 'pass', reasons: ['1 hypothesis held through 2 faults'] } });

  it('opens it on the first failure, updates it on the next, records a re-run once, and closes it on the first pass', async () => {
    const opened = await report(failing('gameday-1'));
    const writesAfterOpen = github.writes().length;
    const rerun = await report(failing('gameday-1'));
    const again = await report(failing('gameday-2'));
    const fixed = await report(passing('gameday-3'));
    const quiet = await report(passing('gameday-4'));

    expect(opened).toEqual({ code: 0, out: 'opened issue #1 https://github.invalid/platform/mesh-config/issues/1\n' });
    expect(rerun.out).toBe('already recorded this run on issue #1 https://github.invalid/platform/mesh-config/issues/1\n');
    expect(again.out).toBe('updated issue #1 https://github.invalid/platform/mesh-config/issues/1\n');
    expect(fixed.out).toBe('closed issue #1 https://github.invalid/platform/mesh-config/issues/1\n');
    expect(quiet.out).toBe('passed; no open issue\n');
    expect(github.issues).toHaveLength(1);
    const issue = github.issue(1);
    expect(issue).toMatchObject({ title: 'Game day weekly-mesh-resilience is failing', state: 'closed', stateReason: 'completed', labels: ['meshdrill', 'meshdrill/gameday'] });
    expect(issue.body).toContain('## ❌ meshdrill gameday: **FAIL**');
    expect(issue.body).toContain('<!-- meshdrill:recurring:gameday:weekly-mesh-resilience -->');
    expect(issue.comments).toHaveLength(2);
    expect(issue.comments[0]).toMatch(/^❌ Run `gameday-2` failed at .+ \(\[run\]\(https:\/\/github\.invalid\/platform\/mesh-config\/actions\/runs\/42\)\):\n- hypothesis/);
    expect(issue.comments[1]).toMatch(/^✅ Run `gameday-3` passed at .+; closing\./);
    expect(github.writes().length - writesAfterOpen).toBe(4); // comment + update, then comment + close; the re-run wrote nothing
    expect(github.violations).toEqual([]);
    expect(github.responses.join('')).not.toContain(TOKEN);
  });

  it('does not mistake a pull request carrying the same label for the issue', async () => {
    github.pulls.push({ number: 1, title: 'stage 2', body: '<!-- meshdrill:recurring:gameday:weekly-mesh-resilience -->', head: 'meshdrill/stage', base: 'main', state: 'open', merged: false, labels: ['meshdrill'], comments: [] });

    const opened = await report(failing('gameday-1'));

    expect(opened.out).toBe('opened issue #2 https://github.invalid/platform/mesh-config/issues/2\n');
    expect(github.pull(1).comments).toEqual([]);
  });

  it('names what is missing when the credentials or the repository are not set', async () => {
    const file = join(dir, 'run.json');
    await writeFile(file, JSON.stringify(failing('gameday-1')));

    const noToken = reportCommand([file], { format: 'html', githubIssue: true }, { ...captureIO(dir), env: { GITHUB_REPOSITORY: 'platform/mesh-config' } });
    await expect(noToken).rejects.toThrow('--github-issue needs credentials: set GITHUB_TOKEN (or GH_TOKEN), or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID');
    const noRepo = reportCommand([file], { format: 'html', githubIssue: true }, { ...captureIO(dir), env: { GITHUB_TOKEN: TOKEN } });
    await expect(noRepo).rejects.toThrow('--github-issue needs the repository: set GITHUB_REPOSITORY=owner/name');
    await expect(reportCommand([file], { format: 'html', runUrl: 'https://ci.invalid/1' }, captureIO(dir))).rejects.toThrow('--run-url goes with --github-issue');
  });
});
