import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { writeRunOutputs, RUN_RECORD_VERSION, stageRecord, type PullRequestRecord, type RunRecord } from '../reports/index.js';
import { join, relative } from 'node:path';
import { createKubeClient, defaultLeaseDir, topologyWorkloads } from '../clusters/index.js';
import { checkoutReady, withControlCopy, gateOutcome, gitAt, planStage, planUpdates, runGate, runLiveGate, waitForGitOpsSync, commitStageChange, lastRevertTime, stageChangeBody, stageLiveSince, writeLocalPullRequest, type GateRun, type GitHubForge } from '../rollout/index.js';
import { embeddedCluster, existingCluster, k3sCluster, kindCluster, type ClusterHandle } from '../suites/index.js';
import { didYouMean, ClusterError, ConfigError, Redactor, type Logger } from '../core/index.js';
import { formatDuration, parseDuration, SLI_UNITS } from '../model/index.js';
import { githubForgeFromEnv } from './github-env.js';
import { meshedCallersOver, PrometheusClient, type PrometheusAuth, type Window } from '../slo/index.js';
import { loadRollout, repoYamlFiles, type LoadedRollout } from './rollout-repo.js';

export type ForgeChoice = 'auto' | 'local' | 'github';

export interface RolloutGateOptions {
  repoPath: string;
  cwd: string;
  plan?: string;
  forge: ForgeChoice;
  remote: string;
  dryRun: boolean;
  /** Where the run's record and reports go; default <cwd>/.meshdrill/runs/<run id>. */
  outDir?: string;
  seed: number;
  runId?: string;
  /** Poll the pull request until merged or closed (GitHub only). */
  waitForMerge?: { timeoutMs: number; pollMs: number; sleep: (ms: number) => Promise<void> };
  /**
   * On a live cluster, after the merge: wait this long for the Argo CD Applications and Flux
   * Kustomizations that apply the changed files to report the merge commit synced and healthy.
   */
  waitForSync?: { timeoutMs: number; pollMs: number };
  /** GitHub settings beyond the environment: tests point these at a local server. */
  github?: { writeIntervalMs?: number; retryAfterUnitMs?: number };
  env: NodeJS.ProcessEnv;
  /** What must never be written or posted (default: the environment's secrets). */
  secrets?: Redactor;
  /** Wall clock, for run ids, timestamps and cool-downs. */
  now: () => number;
  logger: Logger;
  /** A Cluster document of the repo to run on (provider sim, kind or k3s); default the embedded cluster. */
  cluster?: string;
  /** Time on a real cluster (kind, k3s); real time by default, tests inject a clock. */
  clusterClock?: { now(): number; sleep(ms: number): Promise<void> };
  /**
   * A live cluster the GitOps engine keeps at the plan's stage (`--context`, or `in-cluster` in a
   * CronJob): read only, its SLIs from the Prometheus given. Without it, the gate makes a cluster.
   */
  live?: { kubeconfig: string; context: string; kubeconfigPath?: string; prometheusUrl?: string; prometheusAuth?: PrometheusAuth };
}

/** A rollout gate's record always carries its decision. */
export type GateRunRecord = RunRecord & { decision: NonNullable<RunRecord['decision']> };

export interface RolloutGateResult {
  record: GateRunRecord;
  recordPath: string;
  run: GateRun;
}

/**
 * `meshdrill rollout gate`: measures the plan's live stage on the embedded cluster, decides, and
 * proposes the decision as a pull request — on GitHub when credentials are there, otherwise as a
 * local branch and a Markdown body beside the run record.
 */
export async function rolloutGate(options: RolloutGateOptions): Promise<RolloutGateResult> {
  const startedAt = options.now();
  const runId = options.runId ?? `gate-${new Date(startedAt).toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
  const loaded = await loadRollout(options.repoPath, options.plan, options.cwd);
  // The repo as it is now: the stage change is made from it and the record digests it.
  const inputs = await repoYamlFiles(loaded.root, loaded.plan);
  const { root, plan } = loaded;
  const outDir = options.outDir ?? join(options.cwd, '.meshdrill', 'runs', runId);
  // Everything that can refuse the gate is settled before anything runs: credentials, the
  // repository, and a checkout the stage change can be committed from (a bake is never wasted).
  const forge = await chooseForge(options, root);
  if (forge) await forge.preflight();
  if (plan.data.spec.git.verifiedCommits && !forge) throw new ConfigError(`rollout plan "${plan.name}" asks for verified commits (spec.git.verifiedCommits), which GitHub makes through its API: give a GitHub token or App (GITHUB_TOKEN, or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID), or --forge github`);
  if (options.live && options.cluster !== undefined) throw new ConfigError('--cluster makes a cluster for the gate; --context measures a live one: give one of them');
  if (options.live && !options.live.prometheusUrl) throw new ConfigError(`--context ${options.live.context}: a gate on a live cluster reads its SLIs from the mesh's metrics; give the Prometheus that scrapes them (--prometheus URL)`);
  const provision = options.live ? undefined : clusterFor(loaded, options, runId, outDir);
  if (!options.dryRun) await checkoutReady(root, { remote: options.remote, requireRemote: forge !== undefined || options.remote !== 'origin' });

  const revertedAt = await lastRevertTime(root, plan.name);
  const coolDownMs = parseDuration(plan.data.spec.coolDown) ?? 3_600_000;
  const coolDownUntil = revertedAt !== undefined ? revertedAt + coolDownMs : undefined;

  let run: GateRun;
  let notModelled: string[] = [];
  let provider: string;
  if (options.live) {
    ({ run, provider } = await measureLiveCluster(loaded, options.live, inputs.planFile, { ...options, ...(coolDownUntil !== undefined ? { coolDownUntil } : {}) }));
  } else {
    ({ run, provider, notModelled } = await measureMadeCluster(loaded, provision!, { ...options, runId, ...(coolDownUntil !== undefined ? { coolDownUntil } : {}) }));
  }

  const secrets = options.secrets ?? Redactor.fromEnv(options.env);
  let pullRequest: PullRequestRecord | undefined;
  let failure: unknown;
  if (run.targetStage !== undefined) {
    try {
      pullRequest = await proposeStage(loaded, run, inputs, { ...options, runId, outDir }, forge);
    } catch (error) {
      // The evidence is not lost with the pull request: the record says what was decided and what failed.
      failure = error;
      pullRequest = { forge: forge ? 'github' : 'local', action: 'failed', branch: '', base: '', superseded: [], note: (error as Error).message };
    }
  }

  await mkdir(outDir, { recursive: true });
  const record = await buildRecord(loaded, run, inputs.files, { runId, startedAt, finishedAt: options.now(), provider, notModelled, ...(pullRequest ? { pullRequest } : {}) });
  const recordPath = await writeRunOutputs(outDir, record, options.env, secrets);
  if (failure) throw failure;
  return { record, recordPath, run };
}

/** The gate on a cluster made for it: the mesh installed, the topology deployed and driven, stages applied. */
async function measureMadeCluster(loaded: LoadedRollout, provision: (seed: number) => Promise<ClusterHandle>, options: RolloutGateOptions & { runId: string; coolDownUntil?: number }): Promise<{ run: GateRun; provider: string; notModelled: string[] }> {
  const { plan, topology, slos, adapter } = loaded;
  options.logger.info({ plan: plan.name, stage: plan.data.status.stage, runId: options.runId }, `starting the ${options.cluster ? `"${options.cluster}"` : 'embedded'} cluster`);
  const cluster = await provision(options.seed);
  try {
    // The mesh, then the topology's workloads, then its traffic: the gate measures a cluster that is serving.
    if (cluster.installMesh) await cluster.installMesh(adapter, DAY);
    else for (const object of await adapter.installManifests({ now: new Date(cluster.now()) })) await cluster.kube.apply(object);
    await cluster.advance(5_000);
    // A control-mode baseline is an unmeshed copy of the live stage's namespaces, serving beside them.
    const live = plan.data.status.stage;
    const served = plan.data.spec.baseline.mode === 'control' && live > 0 ? withControlCopy(topology, plan.data.spec.stages[live - 1]!.namespaces) : topology;
    for (const object of topologyWorkloads(served)) await cluster.kube.apply(object);
    await cluster.advance(5_000);
    await cluster.startTraffic(served);
    const run = await runGate(
      { plan: plan.data, topology, slos, ...(options.coolDownUntil !== undefined ? { coolDownUntil: options.coolDownUntil } : {}) },
      {
        kube: cluster.kube,
        adapter,
        sources: cluster.sources(adapter.name, adapter.mode),
        now: () => cluster.now(),
        wait: (ms) => cluster.advance(ms),
        wallClock: options.now,
        progress: (message) => options.logger.info({}, message),
      },
    );
    return { run, provider: cluster.provider, notModelled: cluster.notModelled?.() ?? [] };
  } finally {
    await cluster.close();
  }
}

/**
 * The gate on a live cluster: nothing is installed, applied or driven; the stage went live when
 * its commit reached the branch the GitOps engine follows, and its evidence is in Prometheus.
 */
async function measureLiveCluster(loaded: LoadedRollout, live: NonNullable<RolloutGateOptions['live']>, planFile: string, options: RolloutGateOptions & { coolDownUntil?: number }): Promise<{ run: GateRun; provider: string }> {
  const { plan, topology, slos, adapter } = loaded;
  // Windows lie in Prometheus's past: they are placed by its clock, not this process's.
  const prometheus = new PrometheusClient({ url: live.prometheusUrl!, ...(live.prometheusAuth ? { auth: live.prometheusAuth } : {}) });
  const offset = (await prometheus.serverTime()) - options.now();
  const now = () => options.now() + offset;
  const cluster = existingCluster({ kubeconfig: live.kubeconfig, context: live.context, ...(live.kubeconfigPath ? { kubeconfigPath: live.kubeconfigPath } : {}), prometheusUrl: live.prometheusUrl!, ...(live.prometheusAuth ? { prometheusAuth: live.prometheusAuth } : {}), now });
  const since = await stageLiveSince(loaded.root, planFile, plan.name, plan.data.status.stage);
  options.logger.info({ plan: plan.name, stage: plan.data.status.stage, context: live.context }, `measuring stage ${plan.data.status.stage} live on context ${live.context}`);
  try {
    const run = await runLiveGate(
      { plan: plan.data, topology, slos, ...(options.coolDownUntil !== undefined ? { coolDownUntil: options.coolDownUntil } : {}) },
      { kube: cluster.kube, adapter, sources: cluster.sources(adapter.name, adapter.mode), callersView: (callers) => meshedCallersOver(prometheus, adapter.name, adapter.mode, callers), now, ...(since !== undefined ? { since } : {}), progress: (message) => options.logger.info({}, message) },
    );
    return { run, provider: cluster.provider };
  } finally {
    await cluster.close();
  }
}

async function proposeStage(loaded: LoadedRollout, run: GateRun, inputs: { files: Map<string, string>; planFile: string }, options: RolloutGateOptions & { runId: string; outDir: string }, forge: GitHubForge | undefined): Promise<PullRequestRecord> {
  const { root, plan, topology, adapter } = loaded;
  const target = run.targetStage!;
  const verdict = run.decision.verdict as 'advance' | 'revert';
  const { files, planFile } = inputs;
  const to = planStage(plan.data, topology, target, adapter);
  const updates = planUpdates({ files, planFile, stage: to, adapter });
  if (updates.length === 0) {
    options.logger.info({ stage: target }, 'the repo already holds the target stage; no pull request');
    return { forge: forge ? 'github' : 'local', action: 'skipped', branch: '', base: '', superseded: [], note: `the repo already renders stage ${target}` };
  }
  const redactor = options.secrets ?? Redactor.fromEnv(options.env);
  const secrets = (text: string) => redactor.redact(text);
  const written = stageChangeBody({ plan: plan.name, from: planStage(plan.data, topology, run.liveStage, adapter), to, decision: run.decision, runId: options.runId, verdict });
  const git = plan.data.spec.git;
  const { title, labels } = asTheRepoWants(git, written.title, labelsFor(run));
  const body = written.body;
  const branch = await commitStageChange(root, { plan: plan.name, stage: target, verdict, runId: options.runId, updates, title, body }, { dryRun: options.dryRun, logger: options.logger, remote: options.remote, requireRemote: forge !== undefined || options.remote !== 'origin', identity: { ...(git.author ? { author: git.author } : {}), branchPrefix: git.branchPrefix }, ...(git.verifiedCommits && forge ? { publish: (input) => forge.createVerifiedCommit(input) } : {}) });
  const base = { branch: branch.branch, base: branch.baseBranch, ...(branch.commit ? { commit: branch.commit } : {}), superseded: [] as number[] };
  if (!forge) {
    if (options.dryRun) return { forge: 'local', action: 'dry-run', ...base, note: 'DRY-RUN: nothing committed or written' };
    const path = await writeLocalPullRequest(join(options.outDir), { title: secrets(title), body: secrets(body), branch, base: branch.baseBranch }, options.logger);
    return { forge: 'local', action: branch.type === 'unchanged' ? 'unchanged' : branch.type, ...base, path: relative(options.cwd, path), note: `with a GitHub token this would open a pull request from ${branch.branch} into ${branch.baseBranch}` };
  }
  const pr = await forge.ensurePullRequest({ plan: plan.name, head: branch.branch, base: branch.baseBranch, title, body, labels, ...(branch.commit ? { commit: branch.commit } : {}), humanCommits: branch.humanCommits, dryRun: options.dryRun });
  // The same evidence as last time leaves GitHub untouched: no status either.
  if (branch.commit && !options.dryRun && pr.action !== 'unchanged') {
    await forge.setCommitStatus(branch.commit, { state: verdict === 'advance' ? 'success' : 'failure', context: 'meshdrill/rollout-gate', description: `${verdict} to stage ${target}: ${run.decision.reasons[0] ?? ''}` });
  }
  if (options.waitForMerge && pr.number !== undefined && !options.dryRun) {
    options.logger.info({ number: pr.number }, 'waiting for the pull request to be merged');
    const outcome = await forge.waitForMerge(pr.number, { ...options.waitForMerge, now: options.now });
    if (outcome !== 'merged') return { ...pr, note: outcome === 'rejected' ? 'closed without merging: the change was rejected' : 'not merged before the timeout' };
    if (!options.waitForSync || !options.live) return { ...pr, note: 'merged' };
    return { ...pr, note: `merged; ${await syncedAfterMerge(root, forge, pr.number, updates.map((u) => u.path), options)}` };
  }
  return pr;
}

/** Waits for the GitOps engine to apply the merge commit, and says how that went. */
async function syncedAfterMerge(root: string, forge: GitHubForge, number: number, files: string[], options: RolloutGateOptions): Promise<string> {
  const revision = await forge.mergeCommit(number);
  if (!revision) return 'GitHub names no merge commit, so no sync could be waited for';
  const git = await gitAt(root);
  const prefix = (await git.revparse(['--show-prefix']).catch(() => '')).trim();
  const repoUrl = await git.remote(['get-url', options.remote]).then((u) => (typeof u === 'string' ? u.trim() : ''), () => '');
  const kube = createKubeClient(options.live!.kubeconfig);
  options.logger.info({ revision: revision.slice(0, 12) }, 'waiting for the GitOps engine to apply the merge');
  const result = await waitForGitOpsSync(kube, { repoUrl, revision, files: files.map((f) => `${prefix}${f}`), ...options.waitForSync!, now: options.now, sleep: options.waitForMerge!.sleep });
  const who = result.owners.map((o) => `${o.kind} ${o.namespace}/${o.name} (${o.state})`).join(', ');
  if (result.outcome === 'no-owner') return `no Argo CD Application or Flux Kustomization on context ${options.live!.context} applies ${files.join(', ')} from ${repoUrl || 'this repository'}: nothing to wait for`;
  if (result.outcome === 'timeout') throw new ClusterError(`merged, but not synced and healthy at ${revision.slice(0, 12)} within ${formatDuration(options.waitForSync!.timeoutMs)}: ${who}`);
  return `synced and healthy at ${revision.slice(0, 12)}: ${who}`;
}

/**
 * The subject and labels as the plan's git settings ask: Conventional Commits ("chore(mesh): …")
 * where a repo's history is linted for them; the repo's labels after meshdrill's own, which it
 * keeps (it finds its earlier pull requests by the meshdrill label).
 */
export function asTheRepoWants(git: { conventionalCommits: boolean; labels: string[] }, title: string, labels: string[]): { title: string; labels: string[] } {
  return { title: git.conventionalCommits ? title.replace(/^meshdrill: /, 'chore(mesh): ') : title, labels: [...new Set([...labels, ...git.labels])] };
}

/** meshdrill, stage/<n>, advance|revert and slo/pass|warn|fail. */
export function labelsFor(run: GateRun): string[] {
  const outcomes = run.gates.map(gateOutcome);
  const slo = run.decision.verdict === 'revert' ? 'fail' : outcomes.some((g) => g.failures > 0 || g.inconclusives > 0) || run.requirements.some((r) => !r.holds) ? 'warn' : 'pass';
  return ['meshdrill', `stage/${run.targetStage ?? run.liveStage}`, run.decision.verdict, `slo/${slo}`];
}

const DAY = 24 * 3_600_000;

/**
 * The cluster a gate runs on: the embedded one, or one the repo's Cluster document describes.
 * Only clusters meshdrill makes: a gate applies stages, and an existing cluster's mesh is its owners'.
 */
function clusterFor(loaded: LoadedRollout, options: RolloutGateOptions, runId: string, outDir: string): (seed: number) => Promise<ClusterHandle> {
  if (options.cluster === undefined) return (seed) => embeddedCluster({ seed });
  const spec = loaded.clusters.get(options.cluster);
  if (!spec) throw new ConfigError(`--cluster: no Cluster "${options.cluster}" in ${options.repoPath}${didYouMean(options.cluster, [...loaded.clusters.keys()])} (found: ${[...loaded.clusters.keys()].join(', ') || 'none'})`);
  const { provider, nodes, kubernetesVersion } = spec.spec;
  if (provider === 'sim') return (seed) => embeddedCluster({ seed, nodes });
  if (provider === 'kubeconfig') throw new ConfigError(`--cluster ${options.cluster}: a rollout gate applies stages, so it runs on clusters meshdrill makes (sim, kind, k3s), not on an existing one`);
  const meshVersion = loaded.plan.data.spec.mesh.version;
  if (!meshVersion) throw new ConfigError(`--cluster ${options.cluster} is a ${provider} cluster: pin the mesh version in rollout plan "${loaded.plan.name}" (spec.mesh.version) so the install is reproducible`);
  const common = { runDir: join(outDir, 'cluster'), runId, keep: false, logger: options.logger, ...(kubernetesVersion ? { kubernetesVersion } : {}) };
  const clock = options.clusterClock ? { now: () => options.clusterClock!.now(), sleep: (ms: number) => options.clusterClock!.sleep(ms) } : {};
  if (provider === 'kind') return () => kindCluster({ kind: { ...common, leaseDir: defaultLeaseDir(options.env), reuse: false, fingerprint: JSON.stringify([spec, loaded.plan.data.spec.mesh]), workers: nodes, ...(spec.spec.images ? { images: spec.spec.images } : {}), ...(spec.spec.portMappings ? { portMappings: spec.spec.portMappings } : {}) }, meshVersion, env: options.env, ...clock });
  return () => k3sCluster({ k3s: { ...common, nodes }, meshVersion, env: options.env, ...clock });
}

async function chooseForge(options: RolloutGateOptions, root: string): Promise<GitHubForge | undefined> {
  if (options.forge === 'local') return undefined;
  const remoteUrl = await (await gitAt(root)).remote(['get-url', options.remote]).then((u) => (typeof u === 'string' ? u.trim() : ''), () => '');
  const need = options.forge === 'github' ? '--forge github' : undefined;
  const forge = githubForgeFromEnv(options.env, { remoteUrl, logger: options.logger, ...(options.secrets ? { secrets: options.secrets } : {}), ...(need ? { need } : {}), ...(options.github ? { tuning: options.github } : {}) });
  return forge;
}

async function buildRecord(loaded: LoadedRollout, run: GateRun, files: Map<string, string>, meta: { runId: string; startedAt: number; finishedAt: number; provider: string; notModelled: string[]; pullRequest?: PullRequestRecord }): Promise<GateRunRecord> {
  const iso = (ms: number) => new Date(ms).toISOString();
  const window = (w: Window) => ({ from: iso(w.from), to: iso(w.to) });
  const commit = await (await gitAt(loaded.root)).revparse(['HEAD']).then((c) => c.trim(), () => undefined);
  const finite = (n: number) => (Number.isFinite(n) ? n : null);
  return {
    schemaVersion: RUN_RECORD_VERSION,
    runId: meta.runId,
    kind: 'rollout-gate',
    name: loaded.plan.data.metadata.name,
    startedAt: iso(meta.startedAt),
    finishedAt: iso(meta.finishedAt),
    inputs: {
      repo: loaded.root,
      ...(commit ? { commit } : {}),
      files: [...files].map(([path, text]) => ({ path, sha256: createHash('sha256').update(text).digest('hex') })),
      plan: loaded.plan.name,
      stage: run.liveStage,
    },
    cluster: { provider: meta.provider, mesh: { name: loaded.adapter.name, mode: loaded.adapter.mode } },
    timeline: run.events.map((e) => ({ at: iso(e.at), type: e.type, message: e.message })),
    gates: run.gates.map((g) => {
      const outcome = gateOutcome(g);
      return {
        name: g.name,
        key: g.gate.key,
        sli: g.gate.sli,
        scope: g.gate.scope,
        objective: g.gate.objective,
        source: g.gate.source,
        ...(g.baseline ? { baseline: { value: g.baseline.value, samples: g.baseline.samples, source: g.baseline.source, window: window(g.baseline.window) } } : {}),
        state: outcome.state,
        reason: outcome.reason,
        measurements: g.measurements.map((m) => ({ at: iso(m.window.to), verdict: m.verdict, value: finite(m.value), threshold: finite(m.threshold), samples: m.samples, window: window(m.window), source: m.source, reason: m.reason })),
      };
    }),
    requirements: run.requirements,
    decision: { verdict: run.decision.verdict, reasons: run.decision.reasons, fromStage: run.liveStage, ...(run.targetStage !== undefined ? { toStage: run.targetStage } : {}) },
    ...(meta.pullRequest ? { pullRequest: meta.pullRequest } : {}),
    ...(meta.notModelled.length ? { notModelled: meta.notModelled } : {}),
    series: run.gates.map((g) => ({
      name: g.name,
      sli: g.gate.sli,
      scope: g.gate.scope,
      unit: SLI_UNITS[g.gate.sli],
      objective: g.gate.objective,
      threshold: g.measurements.map((m) => m.threshold).find((t) => Number.isFinite(t)) ?? null,
      points: [...(g.baseline ? [[iso(g.baseline.window.to), g.baseline.value] as [string, number | null]] : []), ...g.measurements.map((m): [string, number | null] => [iso(m.window.to), finite(m.value)])],
    })),
    stages: [run.liveStage > 0 ? { at: iso(run.baselineWindow.from), stage: run.liveStage - 1 } : undefined, run.bakeWindow ? { at: iso(run.bakeWindow.from), stage: run.liveStage } : undefined]
      .filter((x): x is { at: string; stage: number } => x !== undefined)
      .map(({ at, stage }) => stageRecord(planStage(loaded.plan.data, loaded.topology, stage, loaded.adapter), at)),
  };
}
