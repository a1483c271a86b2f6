import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeGitHub } from '../../test/helpers/fake-github.js';
import { exampleCheckout, git } from '../../test/helpers/git-repo.js';
import { runCli } from './main.js';
import { captureIO } from '../../test/helpers/cli.js';


describe('meshdrill rollout gate', () => {
  it('with no token commits the branch locally, writes the PR body beside the record, and says what GitHub would get', async () => {
    const { work } = await exampleCheckout({ remote: false });
    const io = captureIO(work);

    const code = await runCli(['rollout', 'gate', '.', '--out', 'out'], io);

    expect(code).toBe(0);
    const text = io.out.join('');
    expect(text).toContain('rollout gate shop-migration: stage 0 is live (embedded cluster, istio sidecar)');
    expect(text).toContain('verdict: ADVANCE to stage 1');
    expect(text).toContain('with a GitHub token this would open a pull request from meshdrill/shop-migration/stage-1-advance into main');
    expect(text).toContain('record: out/run.json');
    expect(await git(work, 'branch', '--list', 'meshdrill/*')).toBe('meshdrill/shop-migration/stage-1-advance');
    expect((await readdir(join(work, 'out'))).sort()).toEqual(['.meshdrill-run', 'meshdrill_shop-migration_stage-1-advance.md', 'report.html', 'run.json']);
    expect(io.err.join('')).toContain('baseline measured over 10m at stage 0');
  });

  it('--dry-run measures and decides but writes no branch, body or commit', async () => {
    const { work } = await exampleCheckout({ remote: false });
    const io = captureIO(work);

    const code = await runCli(['rollout', 'gate', '.', '--dry-run', '--out', 'out'], io);

    expect(code).toBe(0);
    expect(io.err.join('')).toContain('DRY-RUN: would commit to meshdrill/shop-migration/stage-1-advance');
    expect(await git(work, 'branch', '--list', 'meshdrill/*')).toBe('');
    expect((await readdir(join(work, 'out'))).sort()).toEqual(['.meshdrill-run', 'report.html', 'run.json']);
  });

  it('exits 1 on a revert and 2 on a plan whose status.stage is out of range', async () => {
    const { work } = await exampleCheckout({ remote: false });
    const plan = await readFile(join(work, 'rollout-plan.yaml'), 'utf8');
    await writeFile(join(work, 'rollout-plan.yaml'), plan.replace('requires: [all-callers-meshed]', 'requires: []').replace('  stage: 0', '  stage: 5'));
    await git(work, 'commit', '-q', '-am', 'force STRICT');
    const reverted = captureIO(work);
    const revertCode = await runCli(['rollout', 'gate', '.', '--out', 'out', '-o', 'json'], reverted);
    await writeFile(join(work, 'rollout-plan.yaml'), plan.replace('  stage: 0', '  stage: 9'));
    await git(work, 'commit', '-q', '-am', 'typo');
    const bad = captureIO(work);

    const badCode = await runCli(['rollout', 'gate', '.'], bad);

    expect(revertCode).toBe(1);
    expect(JSON.parse(reverted.out.join(''))).toMatchObject({ schemaVersion: '1.4', kind: 'rollout-gate', decision: { verdict: 'revert', fromStage: 5, toStage: 4 } });
    expect(badCode).toBe(2);
    expect(bad.err.join('')).toBe('meshdrill: . has 1 config error:\n  rollout-plan.yaml:57:10 status.stage: expected a stage from 0 to 5; found 9\n');
  });

  it('asks for credentials with --forge github and none set, before running anything', async () => {
    const { work } = await exampleCheckout();
    const io = captureIO(work);

    const code = await runCli(['rollout', 'gate', '.', '--forge', 'github'], io);

    expect(code).toBe(2);
    expect(io.err.join('')).toBe('meshdrill: --forge github needs credentials: set GITHUB_TOKEN (or GH_TOKEN), or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID\n');
  });

  it('names the Cluster documents when --cluster names none of them, and will not gate an existing cluster', async () => {
    const { work } = await exampleCheckout();
    await writeFile(join(work, 'staging.yaml'), 'apiVersion: meshdrill.dev/v1alpha1\nkind: Cluster\nmetadata: {name: staging}\nspec: {provider: kubeconfig, kubeconfig: {context: staging}}\n');
    const typo = captureIO(work);
    const existing = captureIO(work);

    const codes = [await runCli(['rollout', 'gate', '.', '--forge', 'local', '--cluster', 'stagin'], typo), await runCli(['rollout', 'gate', '.', '--forge', 'local', '--cluster', 'staging'], existing)];

    expect(codes).toEqual([2, 2]);
    expect(typo.err.join('')).toBe('meshdrill: --cluster: no Cluster "stagin" in .; did you mean "staging"? (found: embedded, staging)\n');
    expect(existing.err.join('')).toBe('meshdrill: --cluster staging: a rollout gate applies stages, so it runs on clusters meshdrill makes (sim, kind, k3s), not on an existing one\n');
  });

  it('refuses a dirty checkout before it measures anything: no baseline, no bake, no record', async () => {
    const { work } = await exampleCheckout();
    await writeFile(join(work, 'NOTES.md'), 'half-written\n');
    const io = captureIO(work);

    const code = await runCli(['rollout', 'gate', '.', '--out', 'out'], io);

    expect(code).toBe(3);
    expect(io.err.join('')).toContain('has uncommitted changes (NOTES.md); commit or stash them first');
    expect(io.err.join('')).not.toContain('baseline measured');
    expect(io.err.join('')).not.toContain('starting the embedded cluster');
    expect(await readdir(work)).not.toContain('out');
  });

  it('stops before pushing when the token cannot push, and never prints the token', async () => {
    const token = 'ghp_cliTokenThatMustNotAppear000000000000';
    const github = await new FakeGitHub('platform', 'mesh-config', token).start();
    github.canPush = false;
    const { work } = await exampleCheckout();
    const io = captureIO(work, { GITHUB_TOKEN: token, GITHUB_REPOSITORY: 'platform/mesh-config', GITHUB_API_URL: github.url });

    const code = await runCli(['rollout', 'gate', '.', '--log-level', 'debug'], io);
    await github.stop();

    expect(code).toBe(3);
    expect(io.err.join('')).toContain('meshdrill: the GitHub credentials can read platform/mesh-config but not push to it');
    expect(await git(work, 'ls-remote', 'origin')).not.toContain('meshdrill/');
    expect(io.out.join('') + io.err.join('')).not.toContain(token);
  });
});
