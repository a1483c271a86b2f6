import { readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { meshAdapter, type MeshAdapter } from '../meshes/index.js';
import type { ClusterSpec } from '../clusters/index.js';
import type { Topology } from '../model/index.js';
import type { Slo } from '../slo/index.js';
import { assertNoConfigErrors, documentsOfKind, loadConfig, type LoadedDocument } from './config/index.js';
import { listYamlFiles } from './config/load.js';
import { didYouMean, ConfigError } from '../core/index.js';

/** A config repo's rollout plan with what it refers to. */
export interface LoadedRollout {
  root: string;
  plan: LoadedDocument<'RolloutPlan'>;
  topology: Topology;
  slos: Slo[];
  adapter: MeshAdapter;
  /** The repo's Cluster documents, by name: where `rollout gate --cluster` may run. */
  clusters: Map<string, ClusterSpec>;
}

export async function loadRollout(repoPath: string, planName: string | undefined, cwd: string): Promise<LoadedRollout> {
  const root = resolve(cwd, repoPath);
  if (!(await stat(root).catch(() => undefined))?.isDirectory()) throw new ConfigError(`${repoPath}: expected a config repo directory`);
  const repo = await loadConfig(root, { cwd: root });
  assertNoConfigErrors(repo, repoPath, { show: 3, allWith: `meshdrill validate ${repoPath}` });
  const plans = documentsOfKind(repo, 'RolloutPlan');
  const plan = planName ? plans.find((p) => p.name === planName) : plans.length === 1 ? plans[0] : undefined;
  if (!plan) {
    const names = plans.map((p) => p.name);
    if (planName) throw new ConfigError(`no RolloutPlan "${planName}" in ${repoPath}${didYouMean(planName, names)} (found: ${names.join(', ') || 'none'})`);
    throw new ConfigError(plans.length === 0 ? `no RolloutPlan in ${repoPath}` : `${repoPath} has ${plans.length} rollout plans (${names.join(', ')}); choose one with --plan`);
  }
  const topologies = documentsOfKind(repo, 'Topology');
  const topology = (plan.data.spec.topology ? topologies.find((t) => t.name === plan.data.spec.topology) : topologies[0])?.data;
  if (!topology) throw new ConfigError(`rollout plan "${plan.name}" needs a Topology in ${repoPath}`);
  const slos = documentsOfKind(repo, 'SLO').map((d) => d.data);
  const clusters = new Map(documentsOfKind(repo, 'Cluster').map((d) => [d.name, d.data]));
  return { root, plan, topology, slos, clusters, adapter: meshAdapter(plan.data.spec.mesh.name, plan.data.spec.mesh.mode, plan.data.spec.mesh.revision) };
}

/** Every YAML file of the repo by path relative to its root, and the plan's own file. */
export async function repoYamlFiles(root: string, plan: LoadedDocument<'RolloutPlan'>): Promise<{ files: Map<string, string>; planFile: string }> {
  const files = new Map<string, string>();
  for (const file of await listYamlFiles(root)) files.set(relative(root, file), await readFile(file, 'utf8'));
  return { files, planFile: relative(root, plan.source.file.startsWith('/') ? plan.source.file : join(root, plan.source.file)) };
}
