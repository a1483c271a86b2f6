import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../../test/helpers/fake-github.js';
import { GitError } from '../../core/index.js';
import { decideStage } from '../decide.js';
import { stageChangeBody } from './body.js';
import { GitHubForge, githubRepoFromRemote, type PullRequestRequest } from './github-forge.js';
import type { StagePlan } from '../stage.js';

const TOKEN = 'ghp_secretTokenThatMustNeverBePrinted0001';
const servers: FakeGitHub[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function github(): Promise<FakeGitHub> {
  const server = await new FakeGitHub('platform', 'mesh-config', TOKEN).start();
  servers.push(server);
  return server;
}

function forge(server: FakeGitHub, options: { token?: string; log?: string[] } = {}): GitHubForge {
  const log = options.log ?? [];
  return new GitHubForge({
    owner: 'platform',
    repo: 'mesh-config',
    auth: { token: options.token ?? TOKEN },
    baseUrl: server.url,
    writeIntervalMs: 0,
    retryAfterUnitMs: 1,
    logger: { info: (meta, msg) => log.push(`${msg} ${JSON.stringify(meta)}`), warn: (meta, msg) => log.push(`${msg} ${JSON.stringify(meta)}`) },
  });
}

const stage = (n: number): StagePlan => ({ plan: 'shop-migration', stage: n, namespaces: [{ namespace: 'frontend', meshed: n > 0 }], policies: [], removedPolicies: [] });

function request(options: { stage: number; verdict: 'advance' | 'revert'; runId: string; evidence?: string }): PullRequestRequest {
  const decision = decideStage([], { now: 0, lastStage: false });
  const withEvidence = options.evidence ? { ...decision, reasons: [options.evidence] } : decision;
  const from = stage(options.verdict === 'advance' ? options.stage - 1 : options.stage + 1);
  const { title, body } = stageChangeBody({ plan: 'shop-migration', from, to: stage(options.stage), decision: withEvidence, runId: options.runId, verdict: options.verdict });
  return { plan: 'shop-migration', head: `meshdrill/shop-migration/stage-${options.stage}-${options.verdict}`, base: 'main', title, body, labels: ['meshdrill', `stage/${options.stage}`, options.verdict, 'slo/pass'], commit: 'a'.repeat(40), humanCommits: false, dryRun: false };
}

describe('GitHub forge against a fake GitHub checked with the OpenAPI description', () => {
  it('opens one labelled pull request, then leaves it alone on a second run with the same evidence', async () => {
    const server = await github();

    const first = await forge(server).ensurePullRequest(request({ stage: 1, verdict: 'advance', runId: 'run-1' }));
    const writesAfterFirst = server.writes().length;
    const second = await forge(server).ensurePullRequest(request({ stage: 1, verdict: 'advance', runId: 'run-2' }));

    expect(first).toMatchObject({ forge: 'github', action: 'created', number: 1, url: 'https://github.invalid/platform/mesh-config/pull/1' });
    expect(server.pull(1)).toMatchObject({ head: 'meshdrill/shop-migration/stage-1-advance', base: 'main', state: 'open', labels: ['meshdrill', 'stage/1', 'advance', 'slo/pass'] });
    expect(server.pull(1).body).toContain('"runId":"run-1"');
    expect(second).toMatchObject({ action: 'unchanged', number: 1 });
    expect(server.writes().length).toBe(writesAfterFirst);
    expect(server.violations).toEqual([]);
  });

  it('updates the adopted pull request when the evidence changed', async () => {
    const server = await github();
    await forge(server).ensurePullRequest(request({ stage: 1, verdict: 'advance', runId: 'run-1' }));

    const result = await forge(server).ensurePullRequest(request({ stage: 1, verdict: 'advance', runId: 'run-2', evidence: 'p99 moved' }));

    expect(result.action).toBe('updated');
    expect(server.pulls).toHaveLength(1);
    expect(server.pull(1).body).toContain('p99 moved');
    expect(server.violations).toEqual([]);
  });

  it('closes the older pull request of the plan with a comment linking the newer decision', async () => {
    const server = await github();
    await forge(server).ensurePullRequest(request({ stage: 2, verdict: 'advance', runId: 'run-1' }));

    const result = await forge(server).ensurePullRequest(request({ stage: 0, verdict: 'revert', runId: 'run-2' }));

    expect(result).toMatchObject({ action: 'created', number: 2, superseded: [1] });
    expect(server.pull(1).state).toBe('closed');
    expect(server.pull(1).comments).toEqual(['Superseded by #2: a newer meshdrill decision for plan `shop-migration`. Closing this one.']);
    expect(server.pulls.filter((p) => p.state === 'open').map((p) => p.number)).toEqual([2]);
    expect(server.violations).toEqual([]);
  });

  it('says once, in a comment, that it stopped force-pushing after a person committed', async () => {
    const server = await github();
    await forge(server).ensurePullRequest(request({ stage: 1, verdict: 'advance', runId: 'run-1' }));

    await forge(server).ensurePullRequest({ ...request({ stage: 1, verdict: 'advance', runId: 'run-2' }), humanCommits: true });
    await forge(server).ensurePullRequest({ ...request({ stage: 1, verdict: 'advance', runId: 'run-3' }), humanCommits: true });

    expect(server.pull(1).comments).toHaveLength(1);
    expect(server.pull(1).comments[0]).toContain('no longer force-pushes');
    expect(server.violations).toEqual([]);
  });

  it('retries rate limits (403 with an exhausted quota, 429 with retry-after); after a server error on a create, looks first', async () => {
    const server = await github();
    const log: string[] = [];
    server.fail(1, { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000)) }, body: { message: 'API rate limit exceeded' } });
    server.fail(1, { status: 429, headers: { 'retry-after': '2' }, body: { message: 'You have exceeded a secondary rate limit' }, method: 'POST' });
    server.fail(1, { status: 502, headers: {}, body: { message: 'Server Error' }, method: 'POST' });

    const result = await forge(server, { log }).ensurePullRequest(request({ stage: 1, verdict: 'advance', runId: 'run-1' }));

    expect(result.action).toBe('created');
    // The 502 on POST /pulls is not blindly retried: the open pull requests are listed first (200), none is the one, then one more create (201).
    expect(server.requests.map((r) => r.status)).toEqual([403, 200, 429, 502, 200, 201, 200]);
    expect(log.filter((l) => l.startsWith('GitHub'))).toHaveLength(3);
    expect(log.some((l) => l.startsWith('GitHub answered 502 while opening the pull request, and nothing was made: trying once more'))).toBe(true);
    expect(log.some((l) => l.startsWith('GitHub secondary rate limit on POST') && l.includes('retrying after 2s'))).toBe(true);
    expect(server.violations).toEqual([]);
  });

  it('fails with a clear error on bad credentials, without the token in it', async () => {
    const server = await github();
    const log: string[] = [];

    const error = await forge(server, { token: 'ghp_wrongTokenAlsoSecret', log }).preflight().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GitError);
    expect((error as Error).message).toBe('GitHub refused the credentials while reading the repository (401 Bad credentials); check GITHUB_TOKEN or the GitHub App settings');
    expect(JSON.stringify([String(error), (error as Error).stack, log])).not.toContain('ghp_');
    expect(server.writes()).toEqual([]);
  });

  it('authenticates as a GitHub App installation', async () => {
    const server = await github();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    server.app = { appId: '4242', installationId: '99', publicKey };
    const app = new GitHubForge({
      owner: 'platform',
      repo: 'mesh-config',
      auth: { appId: '4242', installationId: '99', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
      baseUrl: server.url,
      writeIntervalMs: 0,
      logger: { info: () => undefined, warn: () => undefined },
    });

    const result = await app.ensurePullRequest(request({ stage: 1, verdict: 'advance', runId: 'run-1' }));

    expect(result.action).toBe('created');
    expect(server.requests[0]).toMatchObject({ method: 'POST', template: '/app/installations/{installation_id}/access_tokens', status: 201 });
    expect(server.violations).toEqual([]);
  });

  it('refuses, before anything is pushed, credentials that cannot push', async () => {
    const server = await github();
    server.canPush = false;

    const error = await forge(server).preflight().catch((e: unknown) => e);

    expect((error as Error).message).toBe('the GitHub credentials can read platform/mesh-config but not push to it; meshdrill needs contents and pull-requests write access');
  });

  it('waits for a merge, and reads closed-unmerged as rejected', async () => {
    const server = await github();
    const client = forge(server);
    await client.ensurePullRequest(request({ stage: 1, verdict: 'advance', runId: 'run-1' }));
    let now = 0;
    let polls = 0;
    const clock = { now: () => now, sleep: async (ms: number) => { now += ms; if (++polls === 3) server.merge(1); } };

    const merged = await client.waitForMerge(1, { timeoutMs: 60_000, pollMs: 5_000, ...clock });
    await client.ensurePullRequest(request({ stage: 2, verdict: 'advance', runId: 'run-2' }));
    server.pull(2).state = 'closed';
    const rejected = await client.waitForMerge(2, { timeoutMs: 60_000, pollMs: 5_000, ...clock });
    await client.ensurePullRequest(request({ stage: 3, verdict: 'advance', runId: 'run-3' }));
    const timedOut = await client.waitForMerge(3, { timeoutMs: 20_000, pollMs: 5_000, ...clock });

    expect([merged, rejected, timedOut]).toEqual(['merged', 'rejected', 'timeout']);
    expect(polls).toBeGreaterThanOrEqual(3);
  });

  it('sets a commit status on the config repo', async () => {
    const server = await github();

    await forge(server).setCommitStatus('b'.repeat(40), { state: 'failure', context: 'meshdrill/rollout-gate', description: 'revert: key gate batch-to-payments failed' });

    expect(server.statuses).toEqual([{ sha: 'b'.repeat(40), state: 'failure', context: 'meshdrill/rollout-gate', description: 'revert: key gate batch-to-payments failed' }]);
    expect(server.violations).toEqual([]);
  });

  it('reads owner and repository from GitHub remote URLs', () => {
    expect(githubRepoFromRemote('https://github.com/platform/mesh-config.git')).toEqual({ owner: 'platform', repo: 'mesh-config' });
    expect(githubRepoFromRemote('git@github.com:platform/mesh-config.git')).toEqual({ owner: 'platform', repo: 'mesh-config' });
    expect(githubRepoFromRemote('https://x-access-token:abc@github.com/platform/mesh-config')).toEqual({ owner: 'platform', repo: 'mesh-config' });
    expect(githubRepoFromRemote('https://github.example.com/platform/mesh-config.git', 'github.example.com')).toEqual({ owner: 'platform', repo: 'mesh-config' });
    expect(githubRepoFromRemote('/tmp/origin.git')).toBeUndefined();
  });

  it('posts one check run with annotations in batches of 50, and keeps one comment per marker up to date', async () => {
    const server = await github();
    const client = forge(server);
    await client.ensurePullRequest(request({ stage: 1, verdict: 'advance', runId: 'run-1' }));
    const annotations = Array.from({ length: 120 }, (_, i) => ({ path: 'manifests/payments.yaml', line: i + 1, level: 'failure' as const, message: `finding ${i}` }));

    await client.createCheckRun('c'.repeat(40), { name: 'meshdrill check', conclusion: 'failure', title: '1 error', summary: 'x'.repeat(70_000), annotations });
    const first = await client.upsertComment(1, 'meshdrill:check', 'two broken calls');
    const same = await client.upsertComment(1, 'meshdrill:check', 'two broken calls');
    const changed = await client.upsertComment(1, 'meshdrill:check', 'one broken call');

    expect(server.checkRuns).toHaveLength(1);
    expect(server.checkRuns[0]!.annotations).toHaveLength(120);
    expect(server.checkRuns[0]!.summary.length).toBeLessThanOrEqual(65_535);
    expect([first, same, changed]).toEqual(['created', 'unchanged', 'updated']);
    expect(server.pull(1).comments).toEqual(['one broken call\n<!-- meshdrill:check -->']);
    expect(server.violations).toEqual([]);
  });
});
