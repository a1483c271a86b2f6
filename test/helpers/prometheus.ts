import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Prometheus binary on this machine (Debian's `prometheus` package), if any. */
export function prometheusBinary(): string | undefined {
  for (const candidate of ['/usr/bin/prometheus', 'prometheus']) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts Prometheus on loopback with its own temp dir, scraping `target` (host:port) every second.
 * `web` is a web config (TLS, basic auth) and `ready` how to tell it is up through that config.
 */
export async function startPrometheus(binary: string, target: string, options: { web?: string; https?: boolean; ready?: (url: string) => Promise<boolean>; flags?: string[] } = {}): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-prometheus-'));
  const port = await freePort();
  await writeFile(
    join(dir, 'prometheus.yml'),
    ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'scrape_configs:', '  - job_name: meshdrill-sim', '    metrics_path: /metrics', '    static_configs:', `      - targets: ['${target}']`, ''].join('\n'),
  );
  if (options.web) await writeFile(join(dir, 'web.yml'), options.web);
  const child: ChildProcess = spawn(binary, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...(options.web ? [`--web.config.file=${join(dir, 'web.yml')}`] : []), ...(options.flags ?? [])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `${options.https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${stderr}`);
    const ready = options.ready ? await options.ready(url).catch(() => false) : await fetch(`${url}/-/ready`).then((r) => r.ok).catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus did not become ready: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
