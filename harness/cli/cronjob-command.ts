import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { ConfigError, didYouMean } from '../../core/index.js';
import { documentsOfKind, loadConfig } from '../config/index.js';
import { GITHUB_SECRET, inClusterManifests } from '../in-cluster/manifests.js';
import { loadRollout } from '../rollout-repo.js';
import type { CliIO } from './io.js';

export interface CronJobOptions {
  plan?: string;
  image: string;
  gitUrl: string;
  gitBranch: string;
  repoDir: string;
  prometheus: string;
  namespace: string;
  schedule: string;
  gameday?: string;
  out?: string;
}

/**
 * `meshdrill cronjob <repo>`: meshdrill as CronJobs in the cluster it judges — the rollout gate
 * (read only) and, with --gameday, a game day of faults — with the least RBAC their runs use.
 */
export async function cronJobCommand(repoPath: string, options: CronJobOptions, io: CliIO): Promise<number> {
  if (/\/\/[^/@]*@/.test(options.gitUrl)) throw new ConfigError(`--git-url: credentials in the URL would be stored in a ConfigMap; put the token in the Secret ${GITHUB_SECRET} (key GITHUB_TOKEN) instead`);
  if (/\/\/[^/@]*@/.test(options.prometheus)) throw new ConfigError('--prometheus: credentials in the URL would be stored in a ConfigMap; give them as MESHDRILL_PROMETHEUS_* in a Secret instead');
  const loaded = await loadRollout(repoPath, options.plan, io.cwd);
  let gameDay: { name: string; schedule: string; steps: Array<Record<string, unknown>> } | undefined;
  if (options.gameday !== undefined) {
    const gameDays = documentsOfKind(await loadConfig(loaded.root, { cwd: loaded.root }), 'GameDay');
    const found = gameDays.find((g) => g.name === options.gameday);
    if (!found) throw new ConfigError(`--gameday: no GameDay "${options.gameday}" in ${repoPath}${didYouMean(options.gameday, gameDays.map((g) => g.name))} (found: ${gameDays.map((g) => g.name).join(', ') || 'none'})`);
    gameDay = { name: found.name, schedule: found.data.spec.schedule ?? '0 6 * * 1', steps: found.data.spec.steps as Array<Record<string, unknown>> };
  }
  const objects = inClusterManifests({ plan: loaded.plan.data, topology: loaded.topology, adapter: loaded.adapter }, { namespace: options.namespace, image: options.image, gitUrl: options.gitUrl, gitBranch: options.gitBranch, repoDir: options.repoDir, prometheusUrl: options.prometheus, gateSchedule: options.schedule, ...(gameDay ? { gameDay } : {}) });
  const header = [
    `# meshdrill in the cluster, generated from ${repoPath} (plan ${loaded.plan.name}${gameDay ? `, game day ${gameDay.name}` : ''}).`,
    `# Needs: the namespace ${options.namespace}; a Secret ${GITHUB_SECRET} in it with GITHUB_TOKEN (or GITHUB_APP_ID,`,
    '# GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID) allowed to push branches and open pull requests;',
    '# Prometheus auth, if any, as MESHDRILL_PROMETHEUS_* in that Secret. Regenerate when the plan or topology changes:',
    '# the RBAC grants exactly what their runs read (and, for the game day, what its faults change).',
  ].join('\n');
  const text = `${header}\n${objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n')}`;
  if (options.out) await writeFile(resolve(io.cwd, options.out), text);
  else io.stdout(text);
  io.stderr(`meshdrill: ${objects.length} objects${options.out ? ` in ${options.out}` : ''}: the rollout gate every "${options.schedule}"${gameDay ? ` and game day ${gameDay.name} at "${gameDay.schedule}"` : ''}\n`);
  return 0;
}
