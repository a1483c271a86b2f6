import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { createKubeClient, useExistingCluster } from '../../clusters/index.js';
import { ConfigError } from '../../core/index.js';
import { observeCallGraph, PrometheusClient, prometheusTarget } from '../../slo/index.js';
import { discoverTopology, scaffold, topologyFromTelemetry, writeScaffold, type DiscoveredNamespace, type TelemetryTopology } from '../init.js';
import type { CliIO } from './io.js';

/** `meshdrill init [dir]`: a new mesh config repo, its topology optionally discovered from a cluster. */
export interface InitOptions {
  name: string;
  mesh: 'istio' | 'linkerd';
  kubeconfig?: string;
  context?: string;
  /** Prometheus holding the mesh's metrics: the call graph and its rates come from there. */
  prometheus?: string;
  /** How far back the call graph is measured, as a PromQL duration. */
  window?: string;
  force: boolean;
  /** The meshdrill action the scaffolded workflows use (owner/repo@ref). */
  action?: string;
}

export async function initCommand(dir: string, options: InitOptions, io: CliIO): Promise<number> {
  if (options.action !== undefined && !/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[\w.-]+$/.test(options.action)) throw new ConfigError(`--action: expected owner/repo@ref (a tag or a commit SHA); found "${options.action}"`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.name)) throw new ConfigError(`--name: expected a DNS label like "shop"; found "${options.name}"`);
  const target = resolve(io.cwd, dir);
  let namespaces: DiscoveredNamespace[] | undefined;
  if (options.context || options.kubeconfig) {
    if (!options.context) throw new ConfigError('discovery needs --context (meshdrill never uses the current context implicitly)');
    // The context is read in memory only: init writes no kubeconfig (and so no token) into the repo.
    const cluster = await useExistingCluster({ ...(options.kubeconfig ? { path: resolve(io.cwd, options.kubeconfig) } : {}), context: options.context, allowChaos: false, env: io.env });
    io.secrets?.add(...cluster.secrets);
    namespaces = await discoverTopology(createKubeClient(cluster.kubeconfig));
    io.stderr(`discovered ${namespaces.length} namespaces with workloads on ${options.context}${options.prometheus === undefined ? '; add the calls between services to topology.yaml (or pass --prometheus to measure them)' : ''}\n`);
  }
  let observed: TelemetryTopology | undefined;
  if (options.prometheus !== undefined) {
    const window = options.window ?? '1h';
    if (!/^\d+[smhd]$/.test(window)) throw new ConfigError(`--window: expected a duration like "1h" or "30m"; found "${window}"`);
    const url = URL.canParse(options.prometheus) ? new URL(options.prometheus) : undefined;
    if (!url || !['http:', 'https:'].includes(url.protocol)) throw new ConfigError(`--prometheus: expected a URL like http://localhost:9090; found "${options.prometheus}"`);
    const target = prometheusTarget(options.prometheus, io.env);
    io.secrets?.add(...target.secrets);
    const graph = await observeCallGraph(new PrometheusClient({ url: target.url, auth: target.auth }), options.mesh, { window });
    if (graph.calls.length === 0 && graph.unattributed.length === 0) throw new ConfigError(`${options.prometheus} has no ${options.mesh} request metrics over the last ${window}: is the mesh's telemetry scraped there, and is --mesh right?`);
    observed = topologyFromTelemetry(namespaces ?? [], graph);
    io.stderr(`measured ${graph.calls.length} calls between services and ${observed.entrypoints.length} entrypoints from ${options.mesh} telemetry over ${window}\n`);
    for (const note of observed.notes) io.stderr(`note: ${note}\n`);
  }
  const written = await writeScaffold(target, scaffold({ name: options.name, mesh: options.mesh, ...(namespaces ? { namespaces } : {}), ...(observed ? { observed } : {}), ...(options.action ? { action: options.action } : {}) }), options.force);
  io.stdout(`${written.map((f) => `  ${relative(io.cwd, resolve(target, f))}`).join('\n')}\nnext: meshdrill validate ${relative(io.cwd, target) || '.'} && meshdrill gameday run ${relative(io.cwd, resolve(target, 'gameday.yaml'))}\n`);
  return 0;
}
