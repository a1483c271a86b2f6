import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { startSimCluster, attachMeshTwin } from '../../clusters/index.js';
import { ConfigError } from '../../core/index.js';
import type { CliIO } from './io.js';

export interface SimServeOptions {
  port: string;
  nodes: string;
  state?: string;
  kubeconfig: string;
  time: 'real' | 'virtual';
  seed: string;
}

/** `meshdrill sim serve`: the embedded cluster as a standalone API server, until interrupted. */
export async function simServeCommand(options: SimServeOptions, io: CliIO, signal: { wait(): Promise<string> }): Promise<number> {
  const port = integer(options.port, '--port', 0, 65535);
  const nodes = integer(options.nodes, '--nodes', 1, 100);
  const seed = integer(options.seed, '--seed', 0, 2 ** 31);
  const cluster = await startSimCluster({
    port,
    nodes,
    seed,
    time: options.time,
    ...(options.state ? { statePath: resolve(io.cwd, options.state) } : {}),
  });
  // The mesh twin acts once a mesh is installed, and serves its metrics at /metrics.
  attachMeshTwin(cluster);
  const kubeconfigPath = resolve(io.cwd, options.kubeconfig);
  await mkdir(dirname(kubeconfigPath), { recursive: true });
  await writeFile(kubeconfigPath, cluster.kubeconfig, { mode: 0o600 });
  io.stdout(
    [
      `embedded cluster serving at ${cluster.url} (${nodes} worker node${nodes === 1 ? '' : 's'}, ${options.time} time${options.state ? `, state in ${options.state}` : ''})`,
      `kubeconfig written to ${options.kubeconfig}; try:`,
      `  KUBECONFIG=${options.kubeconfig} kubectl get nodes`,
      options.time === 'virtual' ? `  curl -X POST '${cluster.url}/sim/v1/advance?by=1m'   # move virtual time` : '',
      'Ctrl-C stops it.',
      '',
    ]
      .filter((line, i, all) => line !== '' || i === all.length - 1)
      .join('\n'),
  );
  const reason = await signal.wait();
  await cluster.close();
  io.stderr(`stopped (${reason})${options.state ? `; state saved to ${options.state}` : ''}\n`);
  return 0;
}

function integer(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${flag}: expected a whole number from ${min} to ${max}; found "${text}"`);
  return value;
}

/** Resolves on SIGINT or SIGTERM. */
export function processSignals(): { wait(): Promise<string> } {
  return {
    wait: () =>
      new Promise((resolveSignal) => {
        const done = (name: string) => () => resolveSignal(name);
        process.once('SIGINT', done('SIGINT'));
        process.once('SIGTERM', done('SIGTERM'));
      }),
  };
}
