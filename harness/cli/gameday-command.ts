import { createHash, randomBytes } from 'node:crypto';
import { parse } from 'yaml';
import { writeRunOutputs } from '../../reports/index.js';
import { stat, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { defaultLeaseDir, kindNodeControl, createKubeClient, collectDiagnostics, useExistingCluster } from '../../clusters/index.js';
import { ChangeExecutor, Journal, listJournals, replayJournal } from '../../chaos/index.js';
import type { MeshAdapter } from '../../meshes/index.js';
import { embeddedCluster, existingCluster, k3sCluster, kindCluster, servedSimCluster, runGameDay, runSuite, type ClusterHandle, type GameDayRecord, type GameDay, type Suite } from '../../suites/index.js';
import { assertNoConfigErrors, documentsOfKind, loadConfig } from '../config/index.js';
import { didYouMean, ConfigError, createLogger, type LogLevel } from '../../core/index.js';
import { terminalProgress } from '../progress.js';
import type { CliIO } from './io.js';

export interface GameDayRunOptions {
  context?: string;
  yesReally?: string;
  prometheus?: string;
  /** What to run: a GameDay (default) or a Suite. */
  kind?: 'GameDay' | 'Suite';
  failOnFlaky?: boolean;
  name?: string;
  kubeconfig?: string;
  keep: boolean;
  /** kind: reuse a cluster made from the same Cluster document and mesh (named by their hash), and keep it. */
  reuse?: boolean;
  /** An existing cluster: drive the topology's entrypoints with k6 in the cluster instead of relying on its own traffic. */
  traffic?: boolean;
  out?: string;
  journalDir: string;
  dryRun: boolean;
  output: 'text' | 'json';
  logLevel: LogLevel;
}

/** What stops a run from outside: SIGINT or SIGTERM, recorded so the run reverts and exits 130/143. */
export interface Interrupts {
  reason(): string | undefined;
  dispose(): void;
}

export function processInterrupts(): Interrupts {
  let reason: string | undefined;
  const onInt = () => (reason = 'SIGINT');
  const onTerm = () => (reason = 'SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    reason: () => reason,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/** `meshdrill gameday run <file|repo>`: the game day on the embedded cluster, its record and verdict. */
export async function gameDayRunCommand(path: string, options: GameDayRunOptions, io: CliIO, interrupts: Interrupts): Promise<number> {
  const target = resolve(io.cwd, path);
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new ConfigError(`${path}: no such file or directory`);
  const root = info.isDirectory() ? target : dirname(target);
  const repo = await loadConfig(root, { cwd: io.cwd });
  assertNoConfigErrors(repo, path, { show: 3 });
  const kind = options.kind ?? 'GameDay';
  const noun = kind === 'GameDay' ? 'game day' : 'suite';
  const candidates = [...documentsOfKind(repo, 'GameDay'), ...documentsOfKind(repo, 'Suite')].filter((d) => d.kind === kind && (info.isDirectory() || resolve(io.cwd, d.source.file) === target));
  const gameDay = options.name ? candidates.find((g) => g.name === options.name) : candidates.length === 1 ? candidates[0] : undefined;
  if (!gameDay) {
    const names = candidates.map((g) => g.name);
    if (options.name) throw new ConfigError(`no ${kind} "${options.name}" in ${path}${didYouMean(options.name, names)} (found: ${names.join(', ') || 'none'})`);
    throw new ConfigError(candidates.length === 0 ? `no ${kind} in ${path}` : `${path} has ${candidates.length} ${noun}s (${names.join(', ')}); choose one with --name`);
  }
  const spec = gameDay.data.spec as { plan?: string; topology?: string; cluster?: string };
  const plan = spec.plan ? documentsOfKind(repo, 'RolloutPlan').find((p) => p.name === spec.plan)?.data : undefined;
  const topologyName = spec.topology ?? plan?.spec.topology;
  const topologies = documentsOfKind(repo, 'Topology');
  const topology = (topologyName ? topologies.find((t) => t.name === topologyName) : topologies[0])?.data;
  if (!topology) throw new ConfigError(`${noun} "${gameDay.name}" needs a Topology in ${path}`);
  const clusterDoc = spec.cluster ? documentsOfKind(repo, 'Cluster').find((c) => c.name === spec.cluster)?.data : undefined;

  let served: ClusterHandle | undefined;
  const runId = `${kind === 'GameDay' ? 'gameday' : 'suite'}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
  const outDir = options.out ? resolve(io.cwd, options.out) : join(io.cwd, '.meshdrill', 'runs', runId);
  const steps = (gameDay.data.spec.steps as Array<Record<string, unknown>>).flatMap((s) => ('try' in s ? [...(s['try'] as unknown[]), ...(s['catch'] as unknown[]), ...(s['finally'] as unknown[])] : [s]));
  const injects = steps.some((s) => (s as Record<string, unknown>)['fault'] !== undefined);
  const existingDoc = clusterDoc?.spec.provider === 'kubeconfig' ? clusterDoc.spec : undefined;
  if (options.context || existingDoc) {
    const context = options.context ?? existingDoc?.kubeconfig?.context;
    if (!context) throw new ConfigError('an existing cluster needs a context: --context <name> (meshdrill never uses the current context implicitly)');
    const cluster = await useExistingCluster({ ...(options.kubeconfig ? { path: resolve(io.cwd, options.kubeconfig) } : existingDoc?.kubeconfig?.path ? { path: resolve(root, existingDoc.kubeconfig.path) } : {}), context, allowChaos: existingDoc?.allowChaos ?? false, ...(options.yesReally !== undefined ? { yesReally: options.yesReally } : {}), runDir: outDir, env: io.env });
    // Safety first: faults on someone else's cluster only when its context is allow-listed.
    if (injects && !cluster.chaosAllowed && !options.dryRun) throw new ConfigError(`context "${context}" is not allow-listed for chaos: set allowChaos: true in its Cluster document, or pass --yes-really ${context}`);
    served = existingCluster({ kubeconfig: cluster.kubeconfig, context, kubeconfigPath: cluster.kubeconfigPath, ...(options.prometheus ? { prometheusUrl: options.prometheus } : {}), ...(options.traffic ? { traffic: { runId, logger: { info: (_m, msg) => io.stderr(`${msg}\n`) } } } : {}) });
  } else if (options.kubeconfig) {
    const text = await readFile(resolve(io.cwd, options.kubeconfig), 'utf8').catch(() => {
      throw new ConfigError(`--kubeconfig ${options.kubeconfig}: cannot read it`);
    });
    served = await servedSimCluster(text);
    // Chaos on a real cluster needs its context allow-listed and SLIs from Prometheus: not in this meshdrill yet.
    if (!served) throw new ConfigError(`--kubeconfig ${options.kubeconfig}: not an embedded cluster served by \`meshdrill sim serve\`; for an existing cluster name its context with --context (chaos there also needs --yes-really <context> or allowChaos in its Cluster document)`);
  }
  // A terminal gets a live step list; CI and pipes get plain log lines.
  const live = io.isTTY && !io.env['CI'] && options.output === 'text' && options.logLevel === 'info';
  const progress = live ? terminalProgress((text) => io.stderr(text), { ...(process.stderr.columns ? { columns: process.stderr.columns } : {}) }) : undefined;
  const logger = createLogger({ level: live ? 'warn' : options.logLevel, write: (line) => io.stderr(`${line}\n`) });
  logger.info({ runId }, `${noun} ${gameDay.name} on the ${served ? served.provider : clusterDoc?.spec.provider === 'kind' || clusterDoc?.spec.provider === 'k3s' ? clusterDoc.spec.provider : 'embedded'} cluster${options.dryRun ? ' (dry run: faults are planned, not injected)' : ''}`);
  const inputs = {
    ...(plan ? { plan } : {}),
    topology,
    slos: documentsOfKind(repo, 'SLO').map((d) => d.data),
    faults: new Map(documentsOfKind(repo, 'Fault').map((d) => [d.name, d.data.spec])),
    runId,
    journalDir: resolve(io.cwd, options.journalDir),
  };
  const kindSpec = clusterDoc?.spec.provider === 'kind' ? clusterDoc.spec : undefined;
  const k3sSpec = clusterDoc?.spec.provider === 'k3s' ? clusterDoc.spec : undefined;
  if ((kindSpec || k3sSpec) && !plan?.spec.mesh.version) throw new ConfigError(`cluster "${spec.cluster}" is a ${kindSpec ? 'kind' : 'k3s'} cluster: pin the mesh version in rollout plan "${spec.plan ?? ''}" (spec.mesh.version) so the install is reproducible`);
  const made = (seed: number) => {
    const common = { meshVersion: plan!.spec.mesh.version!, ...(options.prometheus ? { prometheusUrl: options.prometheus } : {}) };
    if (kindSpec) return kindCluster({ kind: { runDir: join(outDir, 'cluster'), leaseDir: defaultLeaseDir(io.env), runId, keep: options.keep, reuse: options.reuse === true, fingerprint: JSON.stringify([kindSpec, plan?.spec.mesh]), workers: kindSpec.nodes, ...(kindSpec.kubernetesVersion ? { kubernetesVersion: kindSpec.kubernetesVersion } : {}), ...(kindSpec.images ? { images: kindSpec.images } : {}), ...(kindSpec.portMappings ? { portMappings: kindSpec.portMappings } : {}), logger }, ...common });
    if (k3sSpec) return k3sCluster({ k3s: { runDir: join(outDir, 'cluster'), runId, keep: options.keep, nodes: k3sSpec.nodes, ...(k3sSpec.kubernetesVersion ? { kubernetesVersion: k3sSpec.kubernetesVersion } : {}), logger }, ...common });
    return embeddedCluster({ seed, ...(clusterDoc?.spec.nodes ? { nodes: clusterDoc.spec.nodes } : {}) });
  };
  const deps = {
    provision: async (seed: number) => served ?? made(seed),
    keep: options.keep,
    now: () => Date.now(),
    logger,
    interrupted: interrupts.reason,
    dryRun: options.dryRun,
    diagnostics: (cluster: ClusterHandle, adapter: MeshAdapter, namespaces: string[]) =>
      collectDiagnostics({ kube: cluster.kube, namespaces, controlPlaneNamespace: adapter.controlPlane.namespace, dir: join(outDir, 'diagnostics'), ...(cluster.proxyDump ? { proxyDump: (ns: string, pod: string) => cluster.proxyDump!(adapter.name, ns, pod) } : {}) }),
    ...(progress ? { progress } : {}),
  };
  const record = gameDay.kind === 'GameDay' ? await runGameDay({ ...inputs, gameDay: gameDay.data as GameDay }, deps) : await runSuite({ ...inputs, suite: gameDay.data as Suite }, deps);
  progress?.close();
  record.inputs.repo = relative(io.cwd, root) || '.';
  const sources = [...new Set(repo.documents.map((d) => d.source.file))].sort();
  record.inputs.files = await Promise.all(sources.map(async (file) => ({ path: relative(root, resolve(io.cwd, file)), sha256: createHash('sha256').update(await readFile(resolve(io.cwd, file))).digest('hex') })));
  const recordPath = await writeRunOutputs(outDir, record, io.env);
  if (options.output === 'json') io.stdout(`${JSON.stringify(record, null, 2)}\n`);
  else io.stdout(`${summary(record, `${noun} ${gameDay.name}`).join('\n')}\n  record: ${relative(io.cwd, recordPath)}\n  report: ${relative(io.cwd, join(dirname(recordPath), 'report.html'))}\n`);
  const signal = interrupts.reason();
  if (signal) return signal === 'SIGINT' ? 130 : 143;
  return { pass: 0, flaky: options.failOnFlaky ? 1 : 0, fail: 1, aborted: 1, error: 3 }[record.outcome.verdict];
}

function summary(record: GameDayRecord, name: string): string[] {
  const banner = { pass: 'PASS', flaky: 'FLAKY', fail: 'FAIL', aborted: 'ABORTED', error: 'ERROR' }[record.outcome.verdict];
  const lines = [`${name}: ${banner} (${record.cluster.provider} cluster, ${record.cluster.mesh.name} ${record.cluster.mesh.mode}, ${record.steps?.length ?? 0} steps)`];
  for (const h of record.hypotheses ?? []) {
    const failed = h.evaluations.filter((e) => e.verdict === 'Failed');
    const worst = failed[0] ?? h.evaluations.at(-1);
    lines.push(`  ${h.holds ? 'held' : 'FAILED'} hypothesis ${h.name}: ${h.evaluations.length} evaluations${failed.length ? `, ${failed.length} failed (first: ${worst!.gate} ${worst!.reason}, ${worst!.phase} the faults)` : worst ? `; last: ${worst.gate} ${worst.reason}` : ''}`);
  }
  for (const f of record.faults ?? []) lines.push(`  fault ${f.name}: ${f.summary}${f.impact ? ` — ${f.impact}` : ''}${f.leftovers.length ? `; LEFTOVERS: ${f.leftovers.join(', ')}` : ''}`);
  for (const st of (record.steps ?? []).filter((x) => x.status !== 'ok')) lines.push(`  ${st.status.toUpperCase()} step ${st.name}: ${st.detail}`);
  for (const a of record.assertions ?? []) lines.push(`  ${a.evaluation.verdict === 'Successful' ? 'ok' : 'FAILED'} assert ${a.evaluation.gate}: ${a.evaluation.reason}`);
  for (const r of record.outcome.reasons) lines.push(`  ${r}`);
  return lines;
}

/** `meshdrill cleanup`: replays the undo journal of runs that did not end cleanly. */
export async function cleanupCommand(options: { runId?: string; journalDir: string; kubeconfig?: string; logLevel: LogLevel }, io: CliIO): Promise<number> {
  const dir = resolve(io.cwd, options.journalDir);
  const journals = (await listJournals(dir)).filter((j) => (options.runId ? j.runId === options.runId : j.pending > 0));
  if (options.runId && journals.length === 0) throw new ConfigError(`no journal for run ${options.runId} in ${options.journalDir}`);
  const pending = journals.filter((j) => j.pending > 0);
  if (pending.length === 0) {
    io.stdout(`nothing to clean up: no pending undos in ${options.journalDir}\n`);
    return 0;
  }
  if (!options.kubeconfig) throw new ConfigError(`${pending.length} run${pending.length === 1 ? '' : 's'} left changes behind (${pending.map((j) => j.runId).join(', ')}); pass --kubeconfig for the cluster they ran on`);
  const text = await readFile(resolve(io.cwd, options.kubeconfig), 'utf8');
  // A served embedded cluster brings lost nodes back through its API; a kind cluster (its
  // kubeconfig's context is kind-<name>) by starting the node containers again.
  const kind = /^kind-/.test(String((parse(text) as { 'current-context'?: unknown } | null)?.['current-context'] ?? ''));
  const served = kind ? undefined : await servedSimCluster(text);
  const kube = served?.kube ?? createKubeClient(text);
  const executor = new ChangeExecutor(kube, served?.nodes ?? (kind ? await kindNodeControl(kube) : undefined));
  for (const j of pending) {
    const journal = await Journal.open(dir, j.runId);
    try {
      const replayed = await replayJournal(journal, executor);
      io.stdout(`${j.runId}: ${replayed.length} undo${replayed.length === 1 ? '' : 's'} replayed\n${replayed.map((r) => `  ${r}\n`).join('')}`);
    } finally {
      await journal.close();
    }
  }
  return 0;
}

