import { execFile } from 'node:child_process';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SHOP = join(import.meta.dirname, '..', '..', 'examples', 'shop');

export async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run('git', args, { cwd })).stdout.trim();
}

/**
 * The example config repo as a person's checkout, committed by them; unless `remote: false`,
 * with a bare "origin" it was pushed to. `dir` holds both and has room for run output.
 */
export async function exampleCheckout(options: { remote?: boolean } = {}): Promise<{ dir: string; work: string; origin: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-repo-'));
  const origin = join(dir, 'origin.git');
  const work = join(dir, 'work');
  await cp(SHOP, work, { recursive: true });
  await run('git', ['init', '-q', '-b', 'main', work]);
  await git(work, 'config', 'user.name', 'Pat Platform');
  await git(work, 'config', 'user.email', 'pat@example.com');
  await git(work, 'add', '-A');
  await git(work, 'commit', '-q', '-m', 'mesh config');
  if (options.remote !== false) {
    await run('git', ['init', '-q', '--bare', '-b', 'main', origin]);
    await git(work, 'remote', 'add', 'origin', origin);
    await git(work, 'push', '-q', '-u', 'origin', 'main');
  }
  return { dir, work, origin };
}
