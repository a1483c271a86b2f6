import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, ClusterError } from '../../core/index.js';

const run = promisify(execFile);

async function onPath(command: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env['PATH'] ?? '').split(':')) {
    try {
      await access(join(dir, command));
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/**
 * The k6 binary for a plan: the k6 on PATH, or — when the plan needs extensions — a custom k6
 * built once with `xk6 build <version> --with <ext>…` and cached under a hash of version and
 * extensions (grafana/xk6 README).
 */
export async function k6Binary(options: { extensions: string[]; k6Version: string; cacheDir: string; env?: NodeJS.ProcessEnv }): Promise<{ path: string; built: boolean }> {
  const env = options.env ?? process.env;
  if (options.extensions.length === 0) {
    if (!(await onPath('k6', env))) throw new ConfigError('k6 is not on PATH; install it (https://grafana.com/docs/k6/latest/set-up/install-k6/) or use the sim load runner');
    return { path: 'k6', built: false };
  }
  const extensions = [...options.extensions].sort();
  const key = createHash('sha256').update(JSON.stringify({ version: options.k6Version, extensions })).digest('hex').slice(0, 16);
  const path = join(options.cacheDir, `k6-${key}`);
  try {
    await access(path);
    return { path, built: false };
  } catch {
    // not built yet
  }
  for (const tool of ['go', 'xk6']) {
    if (!(await onPath(tool, env))) {
      throw new ConfigError(
        `${tool} is not on PATH, and the load plan needs a k6 with extensions (${extensions.join(', ')}). Install Go (https://go.dev/doc/install), then xk6: go install go.k6.io/xk6/cmd/xk6@latest`,
      );
    }
  }
  await mkdir(options.cacheDir, { recursive: true });
  try {
    await run('xk6', ['build', options.k6Version, ...extensions.flatMap((e) => ['--with', e]), '--output', path], { env, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    throw new ClusterError(`xk6 build failed: ${((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n').slice(-3).join(' ')}`, { cause: error });
  }
  return { path, built: true };
}
