import { relative, resolve } from 'node:path';
import { parseDuration } from '../../model/index.js';

import { applyUpdates, planStage, planUpdates, stageDiff, type GateRun, type RolloutPlan, type StagePlan } from '../../rollout/index.js';
import { ConfigError, createLogger, type LogLevel } from '../../core/index.js';
import { rolloutGate, type ForgeChoice, type GateRunRecord, type RolloutGateOptions } from '../rollout-gate.js';
import { loadRollout, repoYamlFiles } from '../rollout-repo.js';
import type { CliIO } from './io.js';
import { prometheusOptions } from './prometheus-options.js';
import { useExistingCluster } from '../../clusters/index.js';
import { notModelledLines } from './not-modelled-lines.js';

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
  const { plan, topology, adapter } = await loadRollout(repoPath, options.plan, io.cwd);
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
  const { plan, topology, adapter } = await loadRollout(repoPath, options.plan, io.cwd);
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
  const { root, plan, topology, adapter } = await loadRollout(repoPath, options.plan, io.cwd);
  const target = stageNumber(options.stage, plan.data, plan.data.status.stage);
  const { files, planFile } = await repoYamlFiles(root, plan);
  const updates = planUpdates({ files, planFile, stage: planStage(plan.data, topology, target, adapter), adapter });
  const logger = createLogger({ level: 'info', write: (line) => io.stdout(`${line}\n`) });
  if (updates.length === 0) io.stdout(`${repoPath} already renders stage ${target} of plan ${plan.name}; nothing to write\n`);
  await applyUpdates(root, updates, { dryRun: options.dryRun, logger });
  return 0;
}

/** `meshdrill rollout gate <repo>`: measure the live stage, decide, and propose the decision by pull request. */
export async function rolloutGateCommand(
  repoPath: string,
  options: { plan?: string; cluster?: string; kubeconfig?: string; context?: string; prometheus?: string; forge: ForgeChoice; remote: string; dryRun: boolean; out?: string; seed: string; waitForMerge?: string; waitForSync?: string; output: 'text' | 'json'; logLevel: LogLevel },
  io: CliIO,
): Promise<number> {
  const seed = Number(options.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed: expected a whole number; found "${options.seed}"`);
  let waitForMerge: RolloutGateOptions['waitForMerge'];
  if (options.waitForMerge !== undefined) {
    const timeoutMs = parseDuration(options.waitForMerge);
    if (timeoutMs === undefined) throw new ConfigError(`--wait-for-merge: expected a duration like "30m"; found "${options.waitForMerge}"`);
    waitForMerge = { timeoutMs, pollMs: 30_000, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
  }
  let waitForSync: RolloutGateOptions['waitForSync'];
  if (options.waitForSync !== undefined) {
    const timeoutMs = parseDuration(options.waitForSync);
    if (timeoutMs === undefined) throw new ConfigError(`--wait-for-sync: expected a duration like "15m"; found "${options.waitForSync}"`);
    if (!waitForMerge || options.context === undefined) throw new ConfigError('--wait-for-sync waits, after --wait-for-merge, for the GitOps engine of the live cluster named with --context');
    waitForSync = { timeoutMs, pollMs: 15_000 };
  }
  const logger = createLogger({ level: options.logLevel, write: (line) => io.stderr(`${line}\n`) });
  let live: RolloutGateOptions['live'];
  if (options.context !== undefined) {
    // Read only: the gate applies nothing there, so no allow-listing is asked for.
    const cluster = await useExistingCluster({ ...(options.kubeconfig ? { path: resolve(io.cwd, options.kubeconfig) } : {}), context: options.context, allowChaos: false, env: io.env });
    io.secrets?.add(...cluster.secrets);
    live = { kubeconfig: cluster.kubeconfig, context: options.context, kubeconfigPath: cluster.kubeconfigPath, ...prometheusOptions(options.prometheus, io) };
  } else if (options.kubeconfig !== undefined || options.prometheus !== undefined) {
    throw new ConfigError(`${options.kubeconfig !== undefined ? '--kubeconfig' : '--prometheus'} is for a gate on a live cluster: name its context with --context (or --context in-cluster in a pod)`);
  }
  const { record, recordPath, run } = await rolloutGate({
    repoPath,
    cwd: io.cwd,
    ...(options.plan ? { plan: options.plan } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    ...(live ? { live } : {}),
    forge: options.forge,
    remote: options.remote,
    dryRun: options.dryRun,
    ...(options.out ? { outDir: resolve(io.cwd, options.out) } : {}),
    seed,
    ...(waitForMerge ? { waitForMerge } : {}),
    ...(waitForSync ? { waitForSync } : {}),
    env: io.env,
    ...(io.secrets ? { secrets: io.secrets } : {}),
    now: () => Date.now(),
    logger,
  });
  if (options.output === 'json') io.stdout(`${JSON.stringify(record, null, 2)}\n`);
  else io.stdout(`${gateReport(record, run).join('\n')}\n  record: ${relative(io.cwd, recordPath) || recordPath}\n`);
  return run.decision.verdict === 'revert' ? 1 : 0;
}

function gateReport(record: GateRunRecord, run: GateRun): string[] {
  const lines = [`rollout gate ${run.plan}: stage ${run.liveStage} is live (${record.cluster.provider} cluster, ${record.cluster.mesh.name} ${record.cluster.mesh.mode})`];
  for (const gate of record.gates) {
    const last = gate.measurements.at(-1);
    const mark = { passed: 'PASS', failed: 'FAIL', inconclusive: 'HOLD', pending: 'WAIT' }[gate.state];
    lines.push(`  ${mark} ${gate.name}${gate.key ? ' (key)' : ''}: ${gate.objective}${gate.baseline ? ` (baseline ${Number(gate.baseline.value.toFixed(3))} from ${gate.baseline.source})` : ''} — ${last ? last.reason : 'not measured'}; ${gate.reason}`);
  }
  for (const r of record.requirements) lines.push(`  ${r.holds ? 'PASS' : 'FAIL'} requires ${r.requirement}: ${r.reason}`);
  const target = record.decision.toStage;
  lines.push(`  verdict: ${record.decision.verdict.toUpperCase()}${target !== undefined ? ` to stage ${target}` : ''} — ${record.decision.reasons.join('; ')}`);
  lines.push(...notModelledLines(record.notModelled));
  const pr = record.pullRequest;
  if (pr) {
    if (pr.action === 'skipped') lines.push(`  pull request: none (${pr.note ?? 'nothing to change'})`);
    else if (pr.forge === 'github') lines.push(`  pull request: ${pr.url ?? pr.branch} ${pr.action}${pr.superseded.length ? `; closed ${pr.superseded.map((n) => `#${n}`).join(', ')}` : ''}${pr.note ? ` (${pr.note})` : ''}`);
    else lines.push(`  branch ${pr.branch} ${pr.action === 'dry-run' ? 'not written (dry run)' : `${pr.action}${pr.commit ? ` at ${pr.commit.slice(0, 12)}` : ''}`}${pr.path ? `; pull request body in ${pr.path}` : ''}${pr.note ? `\n  ${pr.note}` : ''}`);
  }
  return lines;
}
