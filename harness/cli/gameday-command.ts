import { createHash, randomBytes } from 'node:crypto';
import { DRY_RUN_BANNER, VERDICT_TEXT, writeRunOutputs } from '../../reports/index.js';
import { stat, readFile } from 'node:fs/promises';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { clusterIdentity, defaultLeaseDir, identityMismatch, kindNodeControl, kubeconfigContexts, createKubeClient, collectDiagnostics, useExistingCluster } from '../../clusters/index.js';
import { ChangeExecutor, Journal, listJournals, replayJournal, type JournalState } from '../../chaos/index.js';
import type { MeshAdapter } from '../../meshes/index.js';
import { embeddedCluster, embeddedFleet, existingCluster, k3sCluster, kindCluster, namespacesGone, servedSimCluster, runGameDay, runSuite, type ClusterHandle, type GameDayRecord, type GameDay, type Suite } from '../../suites/index.js';
import { assertNoConfigErrors, documentsOfKind, loadConfig } from '../config/index.js';
import { didYouMean, ConfigError, createLogger, type LogLevel } from '../../core/index.js';
import { terminalProgress } from '../progress.js';
import type { CliIO } from './io.js';
import { prometheusOptions } from './prometheus-options.js';
import { notModelledLines } from './not-modelled-lines.js';

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

/** What stops a run from outside: SIGINT, SIGTERM or SIGHUP, recorded so the run reverts and exits 130/143/129. */
export interface Interrupts {
  reason(): string | undefined;
  /** Aborted with the first signal: real-time waits end at once. */
  signal: AbortSignal;
  /** What the run is still taking back, said when a second signal comes. */
  reverting(what: string[]): void;
  dispose(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export function processInterrupts(write: (text: string) => void = (t) => process.stderr.write(t)): Interrupts {
  let reason: string | undefined;
  let still: string[] = [];
  const controller = new AbortController();
  const handlers = SIGNALS.map((name) => {
    const handler = () => {
      if (reason) {
        // A second Ctrl-C does not kill the run half-way through its revert: it says what is left.
        write(`meshdrill: still reverting${still.length ? `: ${still.join(', ')}` : ''}; the journal keeps what is left for \`meshdrill cleanup\` if this process is killed\n`);
        return;
      }
      reason = name;
      controller.abort(new Error(`interrupted (${name})`));
      write(`meshdrill: ${name}: reverting every fault, then stopping\n`);
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    reason: () => reason,
    signal: controller.signal,
    reverting: (what) => void (still = what),
    dispose: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
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
    const cluster = await useExistingCluster({ ...(options.kubeconfig ? { path: resolve(io.cwd, options.kubeconfig) } : existingDoc?.kubeconfig?.path ? { path: resolve(root, existingDoc.kubeconfig.path) } : {}), context, allowChaos: existingDoc?.allowChaos ?? false, ...(options.yesReally !== undefined ? { yesReally: options.yesReally } : {}), env: io.env });
    io.secrets?.add(...cluster.secrets);
    // Safety first: faults on someone else's cluster only when its context is allow-listed.
    if (injects && !cluster.chaosAllowed && !options.dryRun) throw new ConfigError(`context "${context}" is not allow-listed for chaos: set allowChaos: true in its Cluster document, or pass --yes-really ${context}`);
    served = existingCluster({ kubeconfig: cluster.kubeconfig, context, kubeconfigPath: cluster.kubeconfigPath, ...prometheusOptions(options.prometheus, io), ...(options.traffic ? { traffic: { runId, logger: { info: (_m, msg) => io.stderr(`${msg}\n`) } } } : {}) });
  } else if (options.kubeconfig) {
    const text = await readFile(resolve(io.cwd, options.kubeconfig), 'utf8').catch(() => {
      throw new ConfigError(`--kubeconfig ${options.kubeconfig}: cannot read it`);
    });
    served = await servedSimCluster(text, resolve(io.cwd, options.kubeconfig));
    // Chaos on a real cluster needs its context allow-listed and SLIs from Prometheus: not in this meshdrill yet.
    if (!served) throw new ConfigError(`--kubeconfig ${options.kubeconfig}: not an embedded cluster served by \`meshdrill sim serve\`; for an existing cluster name its context with --context (chaos there also needs --yes-really <context> or allowChaos in its Cluster document)`);
  }
  // A terminal gets a live step list; CI and pipes get plain log lines.
  const live = io.isTTY && !io.env['CI'] && options.output === 'text' && options.logLevel === 'info';
  const progress = live ? terminalProgress((text) => io.stderr(text), { ...(process.stderr.columns ? { columns: process.stderr.columns } : {}) }) : undefined;
  const logger = createLogger({ level: live ? 'warn' : options.logLevel, write: (line) => io.stderr(`${line}\n`) });
  logger.info({ runId }, `${noun} ${gameDay.name} on the ${served ? served.provider : clusterDoc?.spec.provider === 'kind' || clusterDoc?.spec.provider === 'k3s' ? clusterDoc.spec.provider : clusterDoc?.spec.fleet ? 'embedded fleet of' : 'embedded'} cluster${clusterDoc?.spec.fleet ? `s ${clusterDoc.spec.fleet.clusters.map((c) => c.name).join(', ')}` : ''}${options.dryRun ? ' (dry run: faults are planned, not injected)' : ''}`);
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
    const common = { meshVersion: plan!.spec.mesh.version!, ...prometheusOptions(options.prometheus, io) };
    if (kindSpec) return kindCluster({ kind: { runDir: join(outDir, 'cluster'), leaseDir: defaultLeaseDir(io.env), runId, keep: options.keep, reuse: options.reuse === true, fingerprint: JSON.stringify([kindSpec, plan?.spec.mesh]), workers: kindSpec.nodes, ...(kindSpec.kubernetesVersion ? { kubernetesVersion: kindSpec.kubernetesVersion } : {}), ...(kindSpec.images ? { images: kindSpec.images } : {}), ...(kindSpec.portMappings ? { portMappings: kindSpec.portMappings } : {}), logger }, ...common });
    if (k3sSpec) return k3sCluster({ k3s: { runDir: join(outDir, 'cluster'), runId, keep: options.keep, nodes: k3sSpec.nodes, ...(k3sSpec.kubernetesVersion ? { kubernetesVersion: k3sSpec.kubernetesVersion } : {}), logger }, ...common });
    if (clusterDoc?.spec.fleet) return embeddedFleet({ seed, fleet: clusterDoc.spec.fleet, ...(clusterDoc.spec.nodes ? { nodes: clusterDoc.spec.nodes } : {}) });
    return embeddedCluster({ seed, ...(clusterDoc?.spec.nodes ? { nodes: clusterDoc.spec.nodes } : {}) });
  };
  const deps = {
    provision: async (seed: number) => served ?? made(seed),
    provider: served?.provider ?? (kindSpec ? 'kind' : k3sSpec ? 'k3s' : clusterDoc?.spec.fleet ? 'embedded fleet' : 'embedded'),
    keep: options.keep,
    now: () => Date.now(),
    logger,
    interrupted: interrupts.reason,
    signal: interrupts.signal,
    onReverting: interrupts.reverting,
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
  const recordPath = await writeRunOutputs(outDir, record, io.env, io.secrets);
  if (options.output === 'json') io.stdout(`${JSON.stringify(record, null, 2)}\n`);
  else io.stdout(`${summary(record, `${noun} ${gameDay.name}`).join('\n')}\n  record: ${relative(io.cwd, recordPath)}\n  report: ${relative(io.cwd, join(dirname(recordPath), 'report.html'))}\n`);
  const signal = interrupts.reason();
  if (signal) return SIGNAL_EXIT[signal] ?? 130;
  return EXIT[record.outcome.verdict] ?? (options.failOnFlaky ? 1 : 0);
}

/** Exit codes by verdict; flaky is 0, or 1 with --fail-on-flaky. A dry run did what was asked. */
const EXIT: Record<string, number | undefined> = { pass: 0, 'dry-run': 0, fail: 1, aborted: 1, inconclusive: 1, 'steady-state-not-met': 1, error: 3 };

function summary(record: GameDayRecord, name: string): string[] {
  const banner = VERDICT_TEXT[record.outcome.verdict] ?? record.outcome.verdict.toUpperCase();
  const lines = [`${name}: ${banner} (${record.cluster.provider} cluster, ${record.cluster.mesh.name} ${record.cluster.mesh.mode}, ${record.steps?.length ?? 0} steps)`];
  for (const h of record.hypotheses ?? []) {
    const outcome = h.outcome ?? (h.holds ? 'held' : 'failed');
    const failed = h.evaluations.filter((e) => e.verdict === 'Failed');
    const worst = failed[0] ?? h.evaluations.at(-1);
    const detail = failed.length ? `, ${failed.length} failed (first: ${worst!.gate} ${worst!.reason}, ${worst!.phase} the faults)` : outcome !== 'held' && h.reason ? `; ${h.reason}` : worst ? `; last: ${worst.gate} ${worst.reason}` : '';
    lines.push(`  ${outcome === 'held' ? 'held' : outcome.toUpperCase()} hypothesis ${h.name}: ${h.evaluations.length} evaluations${detail}`);
  }
  for (const f of record.faults ?? []) lines.push(`  fault ${f.name}: ${f.summary}${f.impact ? ` — ${f.impact}` : ''}${f.leftovers.length ? `; LEFTOVERS: ${f.leftovers.join(', ')}` : ''}`);
  const stepDetails = new Set<string>();
  for (const st of (record.steps ?? []).filter((x) => x.status !== 'ok')) {
    lines.push(`  ${st.status.toUpperCase()} step ${st.name}: ${st.detail}`);
    stepDetails.add(st.detail);
  }
  for (const a of record.assertions ?? []) lines.push(`  ${a.evaluation.verdict === 'Successful' ? 'ok' : 'FAILED'} assert ${a.evaluation.gate}: ${a.evaluation.reason}`);
  // A reason a step line already told is not told twice.
  for (const r of record.outcome.reasons) if (!stepDetails.has(r)) lines.push(`  ${r}`);
  for (const w of record.outcome.warnings ?? []) lines.push(`  warning: ${w}`);
  lines.push(...notModelledLines(record.notModelled));
  if (record.outcome.verdict === 'dry-run') lines.unshift(DRY_RUN_BANNER);
  return lines;
}

export interface CleanupOptions {
  runId?: string;
  journalDir: string;
  kubeconfig?: string;
  context?: string;
  dryRun?: boolean;
  includeKept?: boolean;
  discard?: string;
  logLevel: LogLevel;
}

/**
 * `meshdrill cleanup`: replays the undo journals of runs that did not end cleanly — each only on
 * the cluster its journal names (the kube-system namespace's uid must match), each undo deleting
 * only what its run made. `--dry-run` says what it would do; `--discard` retires a journal whose
 * cluster is gone.
 */
export async function cleanupCommand(options: CleanupOptions, io: CliIO): Promise<number> {
  const dir = resolve(io.cwd, options.journalDir);
  if (options.discard) return discardJournal(dir, options.discard, io);
  const all = await listJournals(dir);
  const named = options.runId ? all.filter((j) => j.runId === options.runId) : all;
  if (options.runId && named.length === 0) throw new ConfigError(`no journal for run ${options.runId} in ${options.journalDir}`);
  const kept = named.filter((j) => j.kept && !j.discarded && j.pending.length > 0 && !options.includeKept);
  const pending = named.filter((j) => !j.discarded && j.pending.length > 0 && (!j.kept || options.includeKept));
  for (const j of kept) io.stdout(`${j.runId}: kept on purpose (--keep): ${j.pending.length} change${j.pending.length === 1 ? '' : 's'} stay; add --include-kept to take them back\n`);
  if (pending.length === 0) {
    if (kept.length === 0) io.stdout(`nothing to clean up: no pending undos in ${options.journalDir}\n`);
    return 0;
  }
  let refused = 0;
  for (const j of pending) {
    const problem = await cleanupOne(dir, j, options, io);
    if (problem) {
      refused++;
      io.stderr(`meshdrill: ${j.runId}: ${problem}\n`);
    }
  }
  return refused > 0 ? 3 : 0;
}

/** One journal: reach the cluster it names, prove it is that cluster, replay. Returns why it refused. */
async function cleanupOne(dir: string, j: { runId: string } & JournalState, options: CleanupOptions, io: CliIO): Promise<string | undefined> {
  const header = j.header;
  if (!header) return `its journal records no cluster (an older meshdrill wrote it), so meshdrill cannot tell which cluster it changed and touches none; \`meshdrill cleanup --discard ${j.runId}\` retires it`;
  const path = options.kubeconfig ? resolve(io.cwd, options.kubeconfig) : header.kubeconfigPath;
  if (!path) return `its run reached the cluster without a kubeconfig file; pass --kubeconfig and --context for cluster ${header.cluster.server} (context "${header.cluster.context}")`;
  let context = options.context ?? (options.kubeconfig ? undefined : header.cluster.context);
  const env = { ...io.env, KUBECONFIG: path };
  if (!context) {
    // A file with one context is unambiguous; with several, a person names the one they mean.
    const contexts = kubeconfigContexts(await readFile(path.split(delimiter)[0]!, 'utf8').catch(() => ''));
    if (contexts.length !== 1) return `${options.kubeconfig} holds ${contexts.length} contexts (${contexts.join(', ')}); name the cluster the run changed with --context (its journal says "${header.cluster.context}")`;
    context = contexts[0]!;
  }
  const cluster = await useExistingCluster({ context, allowChaos: false, env });
  io.secrets?.add(...cluster.secrets);
  const kube = createKubeClient(cluster.kubeconfig);
  const actual = await clusterIdentity(kube, cluster.kubeconfig, context);
  const mismatch = identityMismatch(header.cluster, actual);
  if (mismatch) return `refused: ${mismatch}; nothing was changed (run cleanup against the cluster the journal names)`;
  // A served embedded cluster brings lost nodes back through its API; a kind cluster (context
  // kind-<name>) by starting the node containers again.
  const served = /^kind-/.test(context) ? undefined : await servedSimCluster(cluster.kubeconfig);
  const nodes = served?.nodes ?? (/^kind-/.test(context) ? await kindNodeControl(kube) : undefined);
  const journal = await Journal.open(dir, j.runId);
  try {
    const result = await replayJournal(journal, new ChangeExecutor(kube, nodes, j.runId), { dryRun: options.dryRun === true });
    // What it deleted of the run's namespaces is gone once they have stopped Terminating.
    if (!options.dryRun) await namespacesGone(kube, j.runId, (ms) => (served ? served.advance(ms) : new Promise<void>((resolve) => setTimeout(resolve, ms))));
    const verb = options.dryRun ? 'would replay' : 'replayed';
    io.stdout(`${j.runId}: ${result.made.length} undo${result.made.length === 1 ? '' : 's'} ${verb}${result.leftAlone.length ? `, ${result.leftAlone.length} left alone` : ''}\n${result.made.map((r) => `  ${r}\n`).join('')}${result.leftAlone.map((r) => `  left alone: ${r}\n`).join('')}`);
  } finally {
    await journal.close();
  }
  return undefined;
}

async function discardJournal(dir: string, runId: string, io: CliIO): Promise<number> {
  const found = (await listJournals(dir)).find((j) => j.runId === runId);
  if (!found) throw new ConfigError(`no journal for run ${runId} in ${dir}`);
  const journal = await Journal.open(dir, runId);
  try {
    await journal.discard('retired with cleanup --discard: its cluster is gone or was cleaned by hand');
  } finally {
    await journal.close();
  }
  io.stdout(`${runId}: journal retired; its ${found.pending.length} pending undo${found.pending.length === 1 ? '' : 's'} will not be replayed\n`);
  return 0;
}

