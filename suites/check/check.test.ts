import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../harness/cli/io.js';
import { runCli } from '../../harness/cli/main.js';

const run = promisify(execFile);
const SHOP = join(import.meta.dirname, '..', '..', 'examples', 'shop');

async function git(cwd: string, ...args: string[]): Promise<void> {
  await run('git', args, { cwd });
}

/** The example repo committed as base; head meshes payments and makes it STRICT. */
async function repoWithStrictPayments(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-check-'));
  await cp(SHOP, dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, '-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '-m', 'base');
  const namespaces = await readFile(join(dir, 'manifests', 'namespaces.yaml'), 'utf8');
  await writeFile(join(dir, 'manifests', 'namespaces.yaml'), namespaces.replace('    team: payments', '    team: payments\n    istio-injection: enabled'));
  await writeFile(join(dir, 'manifests', 'payments-strict.yaml'), 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: payments\nspec:\n  mtls:\n    mode: STRICT\n');
  await git(dir, 'add', '-A');
  await git(dir, '-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '-m', 'payments STRICT');
  return dir;
}

function capture(cwd: string): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, isTTY: false, cwd };
}

describe('meshdrill check', () => {
  it('names the calls a head that flips payments to STRICT would break, and the rule it breaks', async () => {
    const dir = await repoWithStrictPayments();
    const io = capture(dir);

    const code = await runCli(['check', '.', '--base', 'HEAD~1', '--head', 'HEAD'], io);

    const text = io.out.join('');
    expect(code).toBe(1);
    expect(text).toContain('manifests/payments-strict.yaml:1 error MD101 strict-with-plaintext-callers: payments is STRICT, but 3 callers are not meshed: checkout/api → payments/api, legacy/batch → payments/api, legacy/reporting → payments/ledger');
    expect(text).toContain('BROKEN legacy/batch → payments/api: ok → failing (0% success)');
    expect(text).toContain('BROKEN checkout/api → payments/api: ok → failing (0% success)');
    expect(text).toMatch(/\(base \d+ ms, head \d+ ms on the embedded cluster\)/);
  }, 60_000);

  it('writes a pull-request comment with the findings and the broken calls, escaped', async () => {
    const dir = await repoWithStrictPayments();
    const io = capture(dir);

    await runCli(['check', '.', '--base', 'HEAD~1', '--head', 'HEAD', '--format', 'md'], io);

    const comment = io.out.join('');
    expect(comment.split('\n')[0]).toMatch(/^## ❌ meshdrill check: 1 errors, \d+ broken calls$/);
    expect(comment).toContain('| ❌ legacy/batch → payments/api | ok | failing \\(0% success\\) |');
  }, 60_000);

  it('passes the example repo as it is, and refuses a ref that does not exist', async () => {
    const dir = await repoWithStrictPayments();
    const clean = capture(dir);
    const badRef = capture(dir);

    const cleanCode = await runCli(['check', '.', '--head', 'HEAD~1'], clean);
    const badCode = await runCli(['check', '.', '--base', 'no-such-branch'], badRef);

    expect(cleanCode).toBe(0);
    expect(clean.out.join('')).toMatch(/^meshdrill check: 0 errors, \d+ warnings\n/);
    expect(badCode).toBe(2);
    expect(badRef.err.join('')).toBe('meshdrill: git ref "no-such-branch" does not exist in .\n');
  }, 60_000);
});
