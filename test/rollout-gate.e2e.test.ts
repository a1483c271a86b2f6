import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../harness/cli/main.js';
import type { CliIO } from '../harness/cli/io.js';
import { createLogger } from '../core/logger.js';
import { rolloutGate, type RolloutGateOptions } from '../harness/rollout-gate.js';
import { parseRunRecord } from '../reports/run-record.js';
import { FakeGitHub } from './helpers/fake-github.js';
import { exampleCheckout, git } from './helpers/git-repo.js';

const TOKEN = 'ghs_e2eTokenNeverPrinted0000000000000000';

/** A person merges the pull request: the branch into main on origin, and GitHub marks it merged. */
async function merge(work: string, github: FakeGitHub, number: number): Promise<void> {
  const pr = github.pull(number);
  await git(work, 'fetch', '-q', 'origin');
  await git(work, 'merge', '-q', '--no-ff', '-m', `Merge pull request #${number}`, `origin/${pr.head}`);
  await git(work, 'push', '-q', 'origin', 'main');
  github.merge(number);
}

async function stageOf(work: string): Promise<number> {
  return Number(/status:\s*\n\s*stage: (\d+)/.exec(await readFile(join(work, 'rollout-plan.yaml'), 'utf8'))![1]);
}

const servers: FakeGitHub[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

/** A gate on the example checkout, proposing to the fake GitHub, its record under `out/<runId>`. */
function gateOptions(work: string, out: string, github: FakeGitHub, runId: string, clock: Pick<RolloutGateOptions, 'now' | 'logger'>): RolloutGateOptions {
  return {
    repoPath: work,
    cwd: work,
    forge: 'github',
    remote: 'origin',
    dryRun: false,
    outDir: join(out, runId),
    seed: 7,
    runId,
    github: { writeIntervalMs: 0, retryAfterUnitMs: 1 },
    env: { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: 'platform/mesh-config', GITHUB_API_URL: github.url },
    ...clock,
  };
}

describe('rollout gate, end to end on the embedded cluster with git and a fake GitHub', () => {
  it('advances the example plan stage by stage through merged PRs, holds STRICT on evidence, and reverts a forced STRICT by PR', async () => {
    const github = await new FakeGitHub('platform', 'mesh-config', TOKEN).start();
    servers.push(github);
    const { dir, work } = await exampleCheckout();
    const out = join(dir, 'runs');
    const logLines: string[] = [];
    // Git stamps commits with the real time, and the cool-down is read from those stamps.
    let clock = Date.now();
    const gate = (runId: string) => rolloutGate(gateOptions(work, out, github, runId, { now: () => (clock += 1_000), logger: createLogger({ level: 'debug', write: (line) => logLines.push(line) }) }));

    // Stage 0 → 4: each gate advances, its PR is merged, the next gate measures the new stage.
    const verdicts: string[] = [];
    for (let stage = 0; stage < 4; stage++) {
      const { record } = await gate(`advance-${stage}`);
      verdicts.push(`${record.decision.fromStage}:${record.decision.verdict}:${record.decision.toStage}`);
      expect(record.pullRequest).toMatchObject({ forge: 'github', action: 'created', branch: `meshdrill/shop-migration/stage-${stage + 1}-advance`, base: 'main' });
      await merge(work, github, record.pullRequest!.number!);
      expect(await stageOf(work)).toBe(stage + 1);
    }
    expect(verdicts).toEqual(['0:advance:1', '1:advance:2', '2:advance:3', '3:advance:4']);
    expect(github.pull(1).labels).toEqual(['meshdrill', 'stage/1', 'advance', 'slo/pass']);
    expect(github.statuses.map((s) => `${s.context}=${s.state}`)).toEqual(Array(4).fill('meshdrill/rollout-gate=success'));

    // Stage 4 is live; STRICT (stage 5) requires every caller meshed, and legacy/batch is not.
    const held = await gate('hold-4');
    expect(held.record.decision.verdict).toBe('hold');
    expect(held.record.requirements).toEqual([expect.objectContaining({ requirement: 'all-callers-meshed', holds: false })]);
    expect(held.record.requirements[0]!.reason).toMatch(/payments: [\d.]+% of requests arrived in plaintext/);
    // The ingress gateway takes shoppers' plaintext whatever STRICT says: only legacy's callers hold the stage.
    expect(held.record.requirements[0]!.reason).not.toContain('ingress');
    expect(held.record.pullRequest).toBeUndefined();

    // A person forces STRICT anyway; the next gate sees legacy/batch's calls reset and reverts by PR.
    const plan = await readFile(join(work, 'rollout-plan.yaml'), 'utf8');
    await runCli(['rollout', 'render', work, '--stage', '5'], io(work));
    expect(await readFile(join(work, 'rollout-plan.yaml'), 'utf8')).not.toBe(plan);
    await git(work, 'add', '-A');
    await git(work, 'commit', '-q', '-m', 'Force STRICT: we accept the risk');
    await git(work, 'push', '-q', 'origin', 'main');
    const reverted = await gate('revert-5');
    expect(reverted.record.decision).toMatchObject({ verdict: 'revert', fromStage: 5, toStage: 4 });
    expect(reverted.record.decision.reasons[0]).toMatch(/^key gate batch-to-payments failed: 5 failed measurements \(limit 0\); last: 0% misses >= 99%/);
    const revertPr = github.pull(reverted.record.pullRequest!.number!);
    expect(revertPr).toMatchObject({ head: 'meshdrill/shop-migration/stage-4-revert', labels: ['meshdrill', 'stage/4', 'revert', 'slo/fail'] });
    expect(revertPr.body).toContain('**Revert** rollout plan `shop-migration` from stage 5 (strict-mtls) to stage 4 (ingress).');
    expect(github.statuses.at(-1)).toMatchObject({ state: 'failure', context: 'meshdrill/rollout-gate' });
    await merge(work, github, revertPr.number);
    expect(await stageOf(work)).toBe(4);

    // After the revert the plan cools down: a passing stage 4 holds instead of advancing.
    const cooling = await gate('cool-down');
    expect(cooling.record.decision.verdict).toBe('hold');
    expect(cooling.record.decision.reasons.join(' ')).toContain('cooling down after a revert');

    // Every request and response matched GitHub's OpenAPI description; the token never leaked.
    expect(github.violations).toEqual([]);
    const record = parseRunRecord(JSON.parse(await readFile(reverted.recordPath, 'utf8')));
    expect(record.gates.map((g) => `${g.name}:${g.state}`)).toEqual(['checkout-availability:passed', 'batch-to-payments:failed', 'payments-plaintext:passed']);
    expect(JSON.stringify([logLines, github.pulls, await readFile(reverted.recordPath, 'utf8')])).not.toContain(TOKEN);
  }, 120_000);

  it('leaves everything as it was on a second run with the same evidence: same branch, no GitHub writes', async () => {
    const github = await new FakeGitHub('platform', 'mesh-config', TOKEN).start();
    servers.push(github);
    const { dir, work } = await exampleCheckout();
    const out = join(dir, 'runs');
    const options = (runId: string) => gateOptions(work, out, github, runId, { now: () => Date.parse('2026-11-22T08:00:00Z'), logger: createLogger({ level: 'silent' }) });

    const first = await rolloutGate(options('first'));
    const writes = github.writes().length;
    const head = await git(work, 'rev-parse', 'origin/meshdrill/shop-migration/stage-1-advance').catch(() => git(work, 'ls-remote', 'origin', 'meshdrill/shop-migration/stage-1-advance'));
    const second = await rolloutGate(options('second'));

    expect(first.record.pullRequest?.action).toBe('created');
    expect(second.record.pullRequest?.action).toBe('unchanged');
    expect(github.writes().length).toBe(writes);
    expect((await git(work, 'ls-remote', 'origin', 'meshdrill/shop-migration/stage-1-advance')).split('\t')[0]).toBe(head.split('\t')[0]);
    expect(await git(work, 'status', '--porcelain')).toBe('');
  });
});

function io(cwd: string): CliIO {
  return { stdout: () => undefined, stderr: () => undefined, env: {}, isTTY: false, cwd };
}
