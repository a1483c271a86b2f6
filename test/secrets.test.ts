import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../core/index.js';
import { captureIO, runCli } from './helpers/cli.js';
import { FakeGitHub } from './helpers/fake-github.js';
import { exampleCheckout, git } from './helpers/git-repo.js';

const TOKEN = 'ghp_secretTokenEchoedByGitHub000000000000';

/** Every file under a directory, as text. */
async function texts(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(await readFile(join(entry.parentPath, entry.name), 'utf8'));
  }
  return out;
}

describe('secrets', () => {
  it('a GitHub that echoes the token and answers 500 to the first POST /pulls: the token is nowhere, and there is one pull request', async () => {
    const github = await new FakeGitHub('platform', 'mesh-config', TOKEN).start();
    github.fail(1, { status: 500, headers: {}, body: { message: `internal error while handling request with Authorization: token ${TOKEN}` }, method: 'POST' });
    const { work, origin } = await exampleCheckout();
    const io = captureIO(work, { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: 'platform/mesh-config', GITHUB_API_URL: github.url });

    const code = await runCli(['rollout', 'gate', '.', '--out', 'out', '--log-level', 'debug'], io);
    await github.stop();

    expect(code).toBe(0);
    expect(github.pulls).toHaveLength(1);
    const printed = io.out.join('') + io.err.join('');
    expect(printed).toContain('GitHub answered 500 while opening the pull request, and nothing was made: trying once more (GitHub failed while opening the pull request on platform/mesh-config: 500 internal error while handling request with Authorization: token [redacted])');
    expect(printed).not.toContain(TOKEN);
    for (const text of await texts(join(work, 'out'))) expect(text).not.toContain(TOKEN);
    expect(JSON.stringify(github.pulls)).not.toContain(TOKEN);
    // Nor in any git object meshdrill wrote, here or on the remote.
    expect(await git(origin, 'log', '--all', '-p')).not.toContain(TOKEN);
    expect(await git(work, 'log', '--all', '-p')).not.toContain(TOKEN);
  });

  it('a failed pull request still leaves the run record, with the error and without the token', async () => {
    const github = await new FakeGitHub('platform', 'mesh-config', TOKEN).start();
    github.fail(10, { status: 500, headers: {}, body: { message: `boom ${TOKEN}` }, method: 'POST' });
    const { work } = await exampleCheckout();
    const io = captureIO(work, { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: 'platform/mesh-config', GITHUB_API_URL: github.url });

    const code = await runCli(['rollout', 'gate', '.', '--out', 'out'], io);
    await github.stop();
    const record = JSON.parse(await readFile(join(work, 'out', 'run.json'), 'utf8')) as { decision: { verdict: string }; pullRequest: { action: string; note: string } };

    expect(code).toBe(3);
    expect(record.decision.verdict).toBe('advance');
    expect(record.pullRequest.action).toBe('failed');
    expect(record.pullRequest.note).toContain('GitHub failed while opening the pull request on platform/mesh-config: 500 boom [redacted]');
    expect(io.err.join('')).not.toContain(TOKEN);
  });

  it('knows token shapes it was never told of, and secret values in every form', () => {
    const redactor = Redactor.fromEnv({ GITHUB_TOKEN: 'plain-looking-secret-value', PROMETHEUS_PASSWORD: 'hunter22', HOME: '/root' });
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----';

    const out = redactor.redact([
      'token plain-looking-secret-value',
      `b64 ${Buffer.from('plain-looking-secret-value').toString('base64')}`,
      'basic hunter22',
      'pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz',
      'app ghs_16C7e42F292c6912E7710c838347Ae178B4a',
      'jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl',
      pem,
      'home /root stays',
    ].join('\n'));

    expect(out.split('\n')).toEqual(['token [redacted]', 'b64 [redacted]', 'basic [redacted]', 'pat [redacted]', 'app [redacted]', 'jwt [redacted]', '[redacted]', 'home /root stays']);
  });
});
