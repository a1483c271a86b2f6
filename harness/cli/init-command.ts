import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { createKubeClient } from '../../clusters/kube/index.js';
import { useExistingCluster } from '../../clusters/kubeconfig/provider.js';
import { ConfigError } from '../errors.js';
import { discoverTopology, scaffold, writeScaffold } from '../init.js';
import type { CliIO } from './io.js';

/** `meshdrill init [dir]`: a new mesh config repo, its topology optionally discovered from a cluster. */
export async function initCommand(dir: string, options: { name: string; mesh: 'istio' | 'linkerd'; kubeconfig?: string; context?: string; force: boolean }, io: CliIO): Promise<number> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.name)) throw new ConfigError(`--name: expected a DNS label like "shop"; found "${options.name}"`);
  const target = resolve(io.cwd, dir);
  let namespaces;
  if (options.context || options.kubeconfig) {
    if (!options.context) throw new ConfigError('discovery needs --context (meshdrill never uses the current context implicitly)');
    const cluster = await useExistingCluster({ ...(options.kubeconfig ? { path: resolve(io.cwd, options.kubeconfig) } : {}), context: options.context, allowChaos: false, runDir: resolve(target, '.meshdrill', 'init'), env: io.env });
    namespaces = await discoverTopology(createKubeClient(await readFile(cluster.kubeconfigPath, 'utf8')));
    io.stderr(`discovered ${namespaces.length} namespaces with workloads on ${options.context}; add the calls between services to topology.yaml\n`);
  }
  const written = await writeScaffold(target, scaffold({ name: options.name, mesh: options.mesh, ...(namespaces ? { namespaces } : {}) }), options.force);
  io.stdout(`${written.map((f) => `  ${relative(io.cwd, resolve(target, f))}`).join('\n')}\nnext: meshdrill validate ${relative(io.cwd, target) || '.'} && meshdrill gameday run ${relative(io.cwd, resolve(target, 'gameday.yaml'))}\n`);
  return 0;
}
