import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { meshAdapter } from '../../meshes/index.js';
import type { MeshAdapter } from '../../meshes/types.js';
import type { Topology } from '../../model/topology.js';
import { applyUpdates, planStage, planUpdates, stageDiff, type RolloutPlan, type StagePlan } from '../../rollout/index.js';
import { documentsOfKind, hasErrors, loadConfig, type LoadedDocument } from '../config/index.js';
import { didYouMean } from '../config/suggest.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../logger.js';
import type { CliIO } from './io.js';

interface Loaded {
  root: string;
  plan: LoadedDocument<'RolloutPlan'>;
  topology: Topology;
  adapter: MeshAdapter;
}

async function loadRollout(repoPath: string, planName: string | undefined, io: CliIO): Promise<Loaded> {
  const root = resolve(io.cwd, repoPath);
  if (!(await stat(root).catch(() => undefined))?.isDirectory()) throw new ConfigError(`${repoPath}: expected a config repo directory`);
  const repo = await loadConfig(root, { cwd: root });
  if (hasErrors(repo)) throw new ConfigError(`${repoPath} has ${repo.diagnostics.filter((d) => d.severity === 'error').length} config errors; run \`meshdrill validate ${repoPath}\` to see them`);
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
  return { root, plan, topology, adapter: meshAdapter(plan.data.spec.mesh.name, plan.data.spec.mesh.mode, plan.data.spec.mesh.revision) };
}

function stageNumber(text: string | undefined, plan: RolloutPlan, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > plan.spec.stages.length) throw new ConfigError(`--stage: expected a stage from 0 to ${plan.spec.stages.length}; found "${text}"`);
  return n;
}

function describe(plan: RolloutPlan, stage: number): string {
  return stage === 0 ? 'unmeshed' : plan.spec.stages[stage - 1]!.name;
}

function table(stage: StagePlan): string[] {
  const width = Math.max(9, ...stage.namespaces.map((n) => n.namespace.length)) + 2;
  return [`  ${'NAMESPACE'.padEnd(width)}MESHED  MTLS`, ...stage.namespaces.map((n) => `  ${n.namespace.padEnd(width)}${(n.meshed ? 'yes' : 'no').padEnd(8)}${n.mtls ?? '-'}`)];
}

/** `meshdrill rollout status <repo>`: the plan's current stage and what it means per namespace. */
export async function rolloutStatusCommand(repoPath: string, options: { plan?: string; output: 'text' | 'json' }, io: CliIO): Promise<number> {
  const { plan, topology, adapter } = await loadRollout(repoPath, options.plan, io);
  const current = plan.data.status.stage;
  const stage = planStage(plan.data, topology, current, adapter);
  if (options.output === 'json') {
    io.stdout(`${JSON.stringify({ plan: plan.name, mesh: plan.data.spec.mesh, stage: current, stages: plan.data.spec.stages.length, namespaces: stage.namespaces, policies: stage.policies }, null, 2)}\n`);
    return 0;
  }
  const next = plan.data.spec.stages[current];
  const lines = [
    `plan ${plan.name} (${plan.data.spec.mesh.name} ${plan.data.spec.mesh.mode}) at stage ${current} of ${plan.data.spec.stages.length} (${describe(plan.data, current)})`,
    next
      ? `  next: ${next.name} — ${next.namespaces.length ? `meshes ${next.namespaces.join(', ')}` : 'meshes no new namespace'}${next.mtls ? `; mTLS ${next.mtls}` : ''}; bake ${next.bake}; ${next.gates.length} gate${next.gates.length === 1 ? '' : 's'}${next.requires.length ? `; requires ${next.requires.join(', ')}` : ''}`
      : '  the plan is complete',
    ...table(stage),
  ];
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

/** `meshdrill rollout plan <repo> [--stage N]`: what moving to a stage (default: the next) changes. */
export async function rolloutPlanCommand(repoPath: string, options: { plan?: string; stage?: string; output: 'text' | 'json' }, io: CliIO): Promise<number> {
  const { plan, topology, adapter } = await loadRollout(repoPath, options.plan, io);
  const current = plan.data.status.stage;
  const target = stageNumber(options.stage, plan.data, Math.min(current + 1, plan.data.spec.stages.length));
  const from = planStage(plan.data, topology, current, adapter);
  const to = planStage(plan.data, topology, target, adapter);
  const diff = stageDiff(from, to);
  if (options.output === 'json') {
    io.stdout(`${JSON.stringify({ plan: plan.name, from: current, to: target, changes: diff, policies: to.policies, removedPolicies: to.removedPolicies }, null, 2)}\n`);
    return 0;
  }
  const lines = [`plan ${plan.name}: stage ${current} (${describe(plan.data, current)}) → ${target} (${describe(plan.data, target)})`];
  for (const d of diff) {
    if (d.from.meshed !== d.to.meshed) lines.push(`  ${d.to.meshed ? '+ mesh' : '- unmesh'} ${d.namespace}${adapter.name === 'istio' && adapter.mode === 'ambient' ? '' : ' (workloads restart)'}`);
    if (d.from.mtls !== d.to.mtls) lines.push(`  ~ mTLS ${d.from.mtls ?? 'default'} → ${d.to.mtls ?? 'default'} in ${d.namespace}`);
  }
  if (diff.length === 0) lines.push('  no change to any namespace');
  const requires = to.current && target > current ? to.current.requires : [];
  if (requires.length) lines.push(`  requires before applying: ${requires.join(', ')}`);
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

/** `meshdrill rollout render <repo> [--stage N] [--dry-run]`: writes what the stage means into the repo's manifests. */
export async function rolloutRenderCommand(repoPath: string, options: { plan?: string; stage?: string; dryRun: boolean; logLevel: string }, io: CliIO): Promise<number> {
  const { root, plan, topology, adapter } = await loadRollout(repoPath, options.plan, io);
  const target = stageNumber(options.stage, plan.data, plan.data.status.stage);
  const files = new Map<string, string>();
  for (const file of await yamlFiles(root)) files.set(relative(root, file), await readFile(file, 'utf8'));
  const updates = planUpdates({ files, planFile: relative(root, plan.source.file.startsWith('/') ? plan.source.file : join(root, plan.source.file)), stage: planStage(plan.data, topology, target, adapter), adapter });
  const logger = createLogger({ level: 'info', write: (line) => io.stdout(`${line}\n`) });
  if (updates.length === 0) io.stdout(`${repoPath} already renders stage ${target} of plan ${plan.name}; nothing to write\n`);
  await applyUpdates(root, updates, { dryRun: options.dryRun, logger });
  return 0;
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await yamlFiles(full)));
    else if (/\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out;
}
