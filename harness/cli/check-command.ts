import { appendFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { describeNotModelled, exec, notModelledIn } from '../../clusters/index.js';
import { escapeMarkdown as md, escapeXml } from '../../reports/index.js';
import { CALLS_ANNOTATION, RULES, behaviourOf, changedObjects, diffBehaviour, diffSlos, explain, globMatcher, groupStarved, readRepoManifests, topologyFromManifests, widenedAccess, blocks, type ObservedCalls, ruleSettings, runRules, validateManifest, type EdgeChange, type SloChange, type RuleSettings, type Finding } from '../../suites/index.js';
import { assertNoConfigErrors, documentsOfKind, loadConfig } from '../config/index.js';
import { listYamlFiles } from '../config/load.js';
import { ConfigError } from '../../core/index.js';
import { githubForgeFromEnv } from '../github-env.js';
import { observeCallGraph, PrometheusClient, prometheusTarget } from '../../slo/index.js';
import { sarif as sarifLog } from './check-sarif.js';
import type { CliIO } from './io.js';

export interface CheckOptions {
  base?: string;
  head?: string;
  /** Post a check run and one comment on the pull request (GITHUB_TOKEN, GITHUB_REPOSITORY, --pr). */
  github?: { pr: number; writeIntervalMs?: number };
  output: 'text' | 'json';
  format?: 'md' | 'junit' | 'sarif';
  /** Kustomization directories to render (--kustomize); default: CheckConfig spec.kustomize, else every entry point. */
  kustomize?: string[];
  /** --prometheus: the mesh's telemetry, for the calls of a topology made from the repo. */
  prometheus?: { url: string; window: string };
  /** The calls telemetry saw (filled from `prometheus`). */
  observed?: ObservedCalls;
}

/** A git ref's tree of the config repo, in a temporary directory; the working tree when no ref is given. */
async function tree(repoPath: string, ref: string | undefined, io: CliIO): Promise<string> {
  const root = resolve(io.cwd, repoPath);
  if (ref === undefined) return root;
  const top = await exec('git', ['-C', root, 'rev-parse', '--show-toplevel']);
  if (top.code !== 0) throw new ConfigError(`${repoPath} is not in a git repository; --base/--head need one`);
  const verify = await exec('git', ['-C', root, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (verify.code !== 0) throw new ConfigError(`git ref "${ref}" does not exist in ${repoPath}`);
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-check-'));
  const tar = join(dir, 'tree.tar');
  const prefix = relative(top.stdout.trim(), root);
  const archived = await exec('git', ['-C', top.stdout.trim(), 'archive', '--format=tar', '-o', tar, ref, '--', prefix || '.']);
  if (archived.code !== 0) throw new ConfigError(`git archive ${ref}: ${archived.stderr.trim()}`);
  const out = join(dir, 'tree');
  await exec('mkdir', ['-p', out]);
  const extracted = await exec('tar', ['-xf', tar, '-C', out]);
  if (extracted.code !== 0) throw new ConfigError(`extracting ${ref}: ${extracted.stderr.trim()}`);
  return join(out, prefix);
}

/** meshdrill's own documents, found by their apiVersion (meshdrill.dev/…); everything else is a manifest or ignored. */
const MESHDRILL_DOCUMENT = /^\s*apiVersion:\s*["']?meshdrill\.dev\//m;

async function load(dir: string, label: string, options: Pick<CheckOptions, 'kustomize' | 'observed'>) {
  const all = await listYamlFiles(dir);
  const own: string[] = [];
  for (const file of all) if (MESHDRILL_DOCUMENT.test(await readFile(file, 'utf8'))) own.push(file);
  const repo = await loadConfig(own, { cwd: dir });
  assertNoConfigErrors(repo, label, { show: 5 });
  const checkConfigs = documentsOfKind(repo, 'CheckConfig');
  if (checkConfigs.length > 1) throw new ConfigError(`${label} has ${checkConfigs.length} CheckConfig documents (${checkConfigs.map((d) => d.source.file).join(', ')}); keep one`);
  const config = checkConfigs[0]?.data.spec;
  const rel = (file: string) => relative(dir, file).split(sep).join('/');
  const included = config?.include?.map(globMatcher);
  const excluded = config?.exclude?.map(globMatcher) ?? [];
  const files = all.filter((f) => !own.includes(f) && (!included || included.some((m) => m(rel(f)))) && !excluded.some((m) => m(rel(f))));
  const kustomize = options.kustomize ?? config?.kustomize;
  const read = await readRepoManifests(dir, files, kustomize ? { kustomize } : {});
  const manifests = read.manifests;
  // Manifests are checked against their published schemas; kinds without one are kept, not judged.
  const invalid: string[] = [];
  const unchecked: string[] = [];
  for (const m of manifests) {
    const result = await validateManifest(m.object);
    if ('unchecked' in result) unchecked.push(`${m.file}:${m.line} ${m.object.kind}/${m.object.metadata.namespace ? `${m.object.metadata.namespace}/` : ''}${m.object.metadata.name}: kept as is; meshdrill has no schema for ${m.object.apiVersion} ${m.object.kind}`);
    else if (!result.ok) invalid.push(`${m.file}:${m.line} ${result.error}`);
  }
  if (invalid.length) throw new ConfigError(`${label} has ${invalid.length} invalid manifest${invalid.length === 1 ? '' : 's'}:${invalid.slice(0, 5).map((i) => `\n  ${i}`).join('')}`);
  // Who calls whom: the repo's Topology, else one made from its own workloads.
  let topology = documentsOfKind(repo, 'Topology')[0]?.data;
  const topologyNotes: string[] = [];
  if (!topology) {
    const made = topologyFromManifests(manifests, options.observed);
    if (!made) throw new ConfigError(`${label} has no Topology and no Deployment or StatefulSet to make one from; \`meshdrill check\` needs to know who calls whom (write a Topology document, or annotate workloads with ${CALLS_ANNOTATION})`);
    if (!made.topology) throw new ConfigError(`${label} has no Topology, and ${made.notes.join('; ')}`);
    topology = made.topology;
    topologyNotes.push(...made.notes);
  }
  return { repo, topology, plan: documentsOfKind(repo, 'RolloutPlan')[0]?.data, slos: documentsOfKind(repo, 'SLO').map((d) => d.data), manifests, unchecked: [...topologyNotes, ...read.notes, ...unchecked], settings: ruleSettings(checkConfigs[0]?.data) };
}

/**
 * `meshdrill check <repo> [--base REF] [--head REF]`: what a change to a mesh config repo would
 * break, before it merges. Static rules on the head; with a base, both run on the embedded
 * cluster and every call whose outcome changed is named.
 */
export async function checkCommand(repoPath: string, givenOptions: CheckOptions, io: CliIO): Promise<number> {
  const options = givenOptions.prometheus ? { ...givenOptions, observed: await observedCalls(givenOptions.prometheus, io) } : givenOptions;
  const head = await load(await tree(repoPath, options.head, io), options.head ? `${repoPath}@${options.head}` : repoPath, options);
  const base = options.base === undefined ? undefined : await load(await tree(repoPath, options.base, io), `${repoPath}@${options.base}`, options);
  // With a base, the base's CheckConfig judges the change: a pull request cannot switch off the rule it breaks.
  const settings: RuleSettings = base ? base.settings : head.settings;
  const findings = runRules({ manifests: head.manifests, topology: head.topology, ...(head.plan ? { plan: head.plan } : {}), options: settings, ...(base ? { base: base.manifests } : {}) });
  if (base) {
    // Judge the change, not the tree: a finding the base has too is shown as existing and does
    // not block (a SARIF baseline's "unchanged"); new and worsened ones do.
    const before = new Set(runRules({ manifests: base.manifests, topology: base.topology, ...(base.plan ? { plan: base.plan } : {}), options: settings }).map(findingKey));
    for (const f of findings) if (before.has(findingKey(f))) f.existing = true;
  }
  const mesh = head.plan?.spec.mesh ?? meshOfManifests(head.manifests);
  let changes: EdgeChange[] = [];
  let sloChanges: SloChange[] = [];
  let timing = '';
  let refused: string[] = [];
  let trafficNotes: string[] = [];
  if (base) {
    // Both trees are judged by the head's topology and SLOs: the question is what the change does.
    const before = await behaviourOf({ manifests: base.manifests, topology: head.topology, mesh, slos: head.slos });
    const after = await behaviourOf({ manifests: head.manifests, topology: head.topology, mesh, slos: head.slos });
    changes = diffBehaviour(before, after);
    explain(changes, changedObjects(base.manifests, head.manifests));
    groupStarved(changes);
    const severity = settings.severities['MD112'] ?? RULES.find((r) => r.id === 'MD112')!.severity;
    if (severity !== 'off') for (const w of widenedAccess(changes)) findings.push({ rule: 'MD112', name: 'access-widened', severity, message: `${w.call} was refused on the base and is allowed on the head, opened by ${w.cause.object}${w.cause.field ? ` ${w.cause.field}` : ''} (${w.cause.change})`, file: w.cause.file, line: w.cause.line, col: w.cause.col });
    sloChanges = diffSlos(before, after);
    timing = `base ${before.wallMs} ms, head ${after.wallMs} ms on the embedded cluster`;
    refused = [...before.ignored.map((i) => `base: ${i}`), ...after.ignored.map((i) => `head: ${i}`)];
    trafficNotes = after.notModelled;
  }
  const blocking = findings.filter((f) => !f.existing && blocks(f.severity, settings)).length + changes.filter((c) => c.broken && !c.downstreamOf).length + sloChanges.filter((c) => c.broken).length;
  const result: CheckResult = { findings, changes, slos: sloChanges, blocking, ...(timing ? { timing } : {}) };
  const isBlocking = (f: Finding) => !f.existing && blocks(f.severity, settings);
  result.notes = [...refused.map((r) => `refused by the embedded cluster, so not judged: ${r}`), ...notesOn(head)];
  result.notModelled = notModelledOf(head.manifests, trafficNotes);
  // Results go to stdout first: whatever happens on GitHub, the log has them.
  if (options.output === 'json') io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else if (options.format === 'md') io.stdout(markdown(result, options));
  else if (options.format === 'junit') io.stdout(junit(result, isBlocking));
  else if (options.format === 'sarif') io.stdout(`${JSON.stringify(sarifLog({ findings: result.findings, changes: result.changes, judgedChange: options.base !== undefined }, isBlocking), null, 2)}\n`);
  else io.stdout(text(result, options));
  if (options.github) await postToGitHub(repoPath, options, result, isBlocking, io);
  return blocking > 0 ? 1 : 0;
}

/**
 * The mesh a repo without a RolloutPlan is for, by what its manifests use: Linkerd's policy kinds
 * or inject annotations, Istio's kinds or labels (ambient by dataplane-mode); Istio sidecars when
 * nothing says.
 */
function meshOfManifests(manifests: Awaited<ReturnType<typeof load>>['manifests']): { name: 'istio' | 'linkerd'; mode: 'sidecar' | 'ambient' } {
  const linkerd = manifests.some((m) => m.object.apiVersion.endsWith('linkerd.io/v1alpha1') || m.object.apiVersion.includes('linkerd.io/') || m.object.metadata.annotations?.['linkerd.io/inject'] !== undefined || (m.object as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }).spec?.template?.metadata?.annotations?.['linkerd.io/inject'] !== undefined);
  const istio = manifests.some((m) => m.object.apiVersion.includes('istio.io/') || m.object.metadata.labels?.['istio-injection'] !== undefined || m.object.metadata.labels?.['istio.io/rev'] !== undefined || m.object.metadata.labels?.['istio.io/dataplane-mode'] !== undefined);
  if (linkerd && !istio) return { name: 'linkerd', mode: 'sidecar' };
  const ambient = manifests.some((m) => m.object.metadata.labels?.['istio.io/dataplane-mode'] === 'ambient');
  return { name: 'istio', mode: ambient ? 'ambient' : 'sidecar' };
}

/**
 * The call graph the mesh's telemetry saw, for a repo without a Topology (as `init --prometheus`
 * reads it): Istio's reporter=source requests or Linkerd's outbound request_total. The mesh is
 * guessed from which metric has data.
 */
async function observedCalls(prometheus: { url: string; window: string }, io: CliIO): Promise<ObservedCalls> {
  if (!/^\d+[smhd]$/.test(prometheus.window)) throw new ConfigError(`--window: expected a duration like "1h" or "30m"; found "${prometheus.window}"`);
  const target = prometheusTarget(prometheus.url, io.env);
  io.secrets?.add(...target.secrets);
  const client = new PrometheusClient({ url: target.url, auth: target.auth });
  for (const mesh of ['istio', 'linkerd'] as const) {
    const graph = await observeCallGraph(client, mesh, { window: prometheus.window });
    if (graph.calls.length > 0 || graph.unattributed.length > 0) return { ...graph, source: `${mesh === 'istio' ? 'Istio' : 'Linkerd'} telemetry in ${target.url} over ${prometheus.window}` };
  }
  throw new ConfigError(`${target.url} has no Istio or Linkerd request metrics over the last ${prometheus.window}: is the mesh's telemetry scraped there?`);
}

/** A finding's identity across base and head: its rule and what it says (lines move). */
function findingKey(f: Finding): string {
  return `${f.rule} ${f.message}`;
}

/** file:line:col of a finding. */
function at(f: Finding): string {
  return f.file ? `${f.file}:${f.line ?? 1}${f.col ? `:${f.col}` : ''}` : '';
}

/** What `check` found: rule findings on the head, and with a base, the calls and SLOs whose outcome changed. */
export interface CheckResult {
  findings: Finding[];
  changes: EdgeChange[];
  slos: SloChange[];
  /** Findings at or above the repo's failOn severity, plus broken calls and SLOs; exit 1 when above zero. */
  blocking: number;
  timing?: string;
  /** What was kept without judgement: manifests without a schema, topology namespaces without a manifest. */
  notes?: string[];
  /** What the twin read in the head but does not model, each with the file:line of the object or field. */
  notModelled?: string[];
}

/**
 * Everything in the head the twin reads but does not model, pointed at its line: whole kinds,
 * spec fields, mesh annotations (not-modelled.ts), and what the traffic met inside policies.
 */
function notModelledOf(manifests: Awaited<ReturnType<typeof load>>['manifests'], trafficNotes: string[]): string[] {
  const where = new Map(manifests.map((m) => [`${m.object.kind} ${m.object.metadata.namespace ? `${m.object.metadata.namespace}/` : ''}${m.object.metadata.name}`, m]));
  const out = new Set<string>();
  for (const m of manifests) {
    for (const entry of notModelledIn(m.object)) {
      const line = entry.path && m.lineOf ? m.lineOf(entry.path) : m.line;
      out.add(`${m.file}:${line} ${describeNotModelled(entry)}`);
    }
  }
  for (const note of trafficNotes) {
    const ref = /^(\w+ [\w.-]+\/[\w.-]+):/.exec(note)?.[1];
    const m = ref ? where.get(ref) : undefined;
    out.add(m ? `${m.file}:${m.line} ${note}` : note);
  }
  return [...out];
}

function notesOn(tree: Awaited<ReturnType<typeof load>>): string[] {
  const declared = new Set(tree.manifests.filter((m) => m.object.kind === 'Namespace').map((m) => m.object.metadata.name));
  const undeclared = tree.topology.spec.namespaces.map((n) => n.name).filter((n) => !declared.has(n));
  return [
    ...tree.unchecked,
    ...(undeclared.length ? [`the topology's namespace${undeclared.length === 1 ? '' : 's'} ${undeclared.join(', ')} ${undeclared.length === 1 ? 'has' : 'have'} no Namespace manifest: checked as plain namespaces (not meshed, no policy)`] : []),
  ];
}

function text({ findings, changes, slos, timing, notes, notModelled }: CheckResult, options: CheckOptions): string {
  const fresh = findings.filter((f) => !f.existing);
  const existing = findings.length - fresh.length;
  const lines = [`meshdrill check: ${fresh.filter((f) => f.severity === 'error').length} errors, ${fresh.filter((f) => f.severity === 'warning').length} warnings${existing ? ` (and ${existing} existing on the base)` : ''}${options.base !== undefined ? `, ${changes.filter((c) => c.broken && !c.downstreamOf).length} calls broken by the change${changes.some((c) => c.downstreamOf) ? ` (and ${changes.filter((c) => c.downstreamOf).length} downstream of them without traffic)` : ''}` : ''}`];
  for (const f of findings) lines.push(`  ${f.file ? `${at(f)} ` : ''}${f.existing ? `existing ${f.severity} (on the base too, not blocking)` : f.severity} ${f.rule} ${f.name}: ${f.message}`);
  if (options.base !== undefined) {
    lines.push(changes.length ? `calls whose outcome changed (${options.base} → ${options.head ?? 'working tree'}):` : 'no call changed its outcome');
    for (const c of changes) {
      if (c.downstreamOf) continue;
      lines.push(`  ${c.broken ? 'BROKEN ' : ''}${c.from} → ${c.to}: ${c.before} → ${c.after}`);
      for (const cause of c.causes ?? []) lines.push(`      by ${cause.file}:${cause.line}:${cause.col} ${cause.object}${cause.field ? ` ${cause.field}` : ''} (${cause.change})`);
      if (c.broken && !c.causes) lines.push('      by no changed object that governs this call (a change elsewhere in its path)');
      const starved = changes.filter((d) => d.downstreamOf === `${c.from} → ${c.to}`);
      if (starved.length) lines.push(`      and ${starved.length} call${starved.length === 1 ? '' : 's'} downstream lost ${starved.length === 1 ? 'its' : 'their'} traffic: ${starved.map((d) => `${d.from} → ${d.to}`).join(', ')}`);
    }
    for (const c of slos) lines.push(`  ${c.broken ? 'BROKEN ' : ''}SLO ${c.name} (${c.objective}): ${c.before} → ${c.after}`);
    lines.push(`  (${timing})`);
  }
  for (const n of notModelled ?? []) lines.push(`not modelled: ${n}`);
  for (const n of notes ?? []) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}

function markdown({ findings, changes, slos, blocking, notes, notModelled }: CheckResult, options: CheckOptions): string {
  const broken = changes.filter((c) => c.broken && !c.downstreamOf);
  const errors = findings.filter((f) => f.severity === 'error' && !f.existing);
  const out = [`## ${blocking ? '❌' : '✅'} meshdrill check: ${errors.length} errors, ${broken.length} broken calls`, ''];
  if (findings.length) out.push('| rule | where | finding |', '|---|---|---|', ...findings.map((f) => `| ${f.existing ? `existing ${f.severity}` : f.severity} ${f.rule} | ${f.file ? md(at(f)) : ''} | ${md(f.message)} |`), '');
  const cause = (c: EdgeChange) => [...(c.causes ?? []).map((k) => `${md(`${k.file}:${k.line}`)} ${md(k.object)}${k.field ? ` \`${md(k.field)}\`` : ''} (${k.change})`), ...(() => {
    const starved = changes.filter((d) => d.downstreamOf === `${c.from} → ${c.to}`);
    return starved.length ? [`and ${starved.length} downstream without traffic`] : [];
  })()].join('<br>');
  if (options.base !== undefined && changes.length) out.push('| call | before | after | decided by |', '|---|---|---|---|', ...changes.filter((c) => !c.downstreamOf).map((c) => `| ${c.broken ? '❌ ' : ''}${md(c.from)} → ${md(c.to)} | ${md(c.before)} | ${md(c.after)} | ${cause(c)} |`), '');
  if (slos.length) out.push('| SLO | before | after |', '|---|---|---|', ...slos.map((c) => `| ${c.broken ? '❌ ' : ''}${md(c.name)} ${md(c.objective)} | ${md(c.before)} | ${md(c.after)} |`), '');
  if (notModelled?.length) out.push(`<details><summary>${notModelled.length} thing${notModelled.length === 1 ? '' : 's'} the twin read but does not model</summary>`, '', ...notModelled.map((n) => `- ${md(n)}`), '', '</details>', '');
  if (notes?.length) out.push(`<details><summary>${notes.length} note${notes.length === 1 ? '' : 's'}: kept without judgement</summary>`, '', ...notes.map((n) => `- ${md(n)}`), '', '</details>', '');
  return `${out.join('\n')}\n`;
}

/**
 * The commit GitHub shows a pull request's checks on: the head of the pull request from the
 * event (GITHUB_EVENT_PATH), not GITHUB_SHA, which for a pull_request event is the merge commit.
 */
async function headSha(repoPath: string, options: CheckOptions, io: CliIO): Promise<string> {
  const eventPath = io.env['GITHUB_EVENT_PATH'];
  if (eventPath && options.head === undefined) {
    const event = JSON.parse(await readFile(eventPath, 'utf8').catch(() => '{}')) as { pull_request?: { head?: { sha?: unknown } } };
    const sha = event.pull_request?.head?.sha;
    if (typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha)) return sha;
  }
  const sha = await exec('git', ['-C', resolve(io.cwd, repoPath), 'rev-parse', options.head ?? 'HEAD']);
  if (sha.code !== 0) throw new ConfigError(`cannot resolve ${options.head ?? 'HEAD'} to a commit: ${sha.stderr.trim()}`);
  return sha.stdout.trim();
}

async function postToGitHub(repoPath: string, options: CheckOptions, result: CheckResult, isBlocking: (f: Finding) => boolean, io: CliIO): Promise<void> {
  const { findings, changes, blocking } = result;
  const sha = await headSha(repoPath, options, io);
  const prefix = (await exec('git', ['-C', resolve(io.cwd, repoPath), 'rev-parse', '--show-prefix'])).stdout.trim();
  const forge = githubForgeFromEnv(io.env, { need: '--github-pr', logger: { info: () => undefined, warn: (_m, msg) => io.stderr(`${msg}\n`) }, ...(options.github!.writeIntervalMs !== undefined ? { tuning: { writeIntervalMs: options.github!.writeIntervalMs } } : {}) })!;
  const body = markdown(result, options);
  const level = { error: 'failure', warning: 'warning', info: 'notice' } as const;
  const annotations = findings.filter((f) => f.file).map((f) => ({ path: `${prefix}${f.file}`, line: f.line ?? 1, ...(f.col ? { column: f.col } : {}), level: isBlocking(f) ? ('failure' as const) : f.existing ? ('notice' as const) : level[f.severity], title: `${f.rule} ${f.name}${f.existing ? ' (existing)' : ''}`, message: f.message }));
  try {
    await forge.createCheckRun(sha, {
      name: 'meshdrill check',
      conclusion: blocking > 0 ? 'failure' : 'success',
      title: `${findings.filter((f) => f.severity === 'error' && !f.existing).length} errors, ${changes.filter((c) => c.broken && !c.downstreamOf).length} broken calls`,
      summary: body,
      annotations,
    });
    const action = await forge.upsertComment(options.github!.pr, 'meshdrill:check', body);
    io.stderr(`GitHub: check run posted on ${sha.slice(0, 12)}; comment ${action}\n`);
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status !== 403 && status !== 404) throw error;
    // A read-only token (a pull request from a fork): annotations as workflow commands, which the
    // runner turns into the same annotations, and the comment's text as the step summary.
    for (const a of annotations) io.stdout(`::${a.level === 'failure' ? 'error' : a.level}${workflowProperties({ file: a.path, line: String(a.line), ...(a.column ? { col: String(a.column) } : {}), title: a.title })}::${workflowData(a.message)}\n`);
    const summary = io.env['GITHUB_STEP_SUMMARY'];
    if (summary) await appendFile(summary, body);
    io.stderr(`GitHub: ${(error as Error).message}\nGitHub: wrote ${annotations.length} annotation${annotations.length === 1 ? '' : 's'} as workflow commands${summary ? ' and the results to the step summary' : ''} instead\n`);
  }
}

/** Workflow-command escaping (actions/toolkit command.ts): data escapes % CR LF; properties also : and ,. */
function workflowData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function workflowProperties(props: Record<string, string>): string {
  const pairs = Object.entries(props).map(([k, v]) => `${k}=${workflowData(v).replace(/:/g, '%3A').replace(/,/g, '%2C')}`);
  return pairs.length ? ` ${pairs.join(',')}` : '';
}

/** JUnit for CI test results: a testsuite for the rules (a testcase per finding) and one for the calls and SLOs that changed. */
function junit({ findings, changes, slos }: CheckResult, isBlocking: (f: Finding) => boolean): string {
  const rules = findings.map((f) => ({ name: `${f.rule} ${f.name}${f.file ? ` ${f.file}:${f.line}` : ''}`, failure: isBlocking(f) ? f.message : undefined }));
  const calls = [...changes.map((c) => ({ name: `${c.from} → ${c.to}`, failure: c.broken ? `${c.before} → ${c.after}` : undefined })), ...slos.map((c) => ({ name: `SLO ${c.name}`, failure: c.broken ? `${c.before} → ${c.after}` : undefined }))];
  const suite = (name: string, cases: Array<{ name: string; failure: string | undefined }>) => [
    `  <testsuite name="${escapeXml(name)}" tests="${cases.length}" failures="${cases.filter((c) => c.failure).length}" errors="0" time="0.000">`,
    ...cases.map((c) => (c.failure ? `    <testcase name="${escapeXml(c.name)}" classname="meshdrill.check" time="0.000">\n      <failure message="${escapeXml(c.failure)}" type="check">${escapeXml(c.failure)}</failure>\n    </testcase>` : `    <testcase name="${escapeXml(c.name)}" classname="meshdrill.check" time="0.000"/>`)),
    '  </testsuite>',
  ];
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="meshdrill check" tests="${rules.length + calls.length}" failures="${[...rules, ...calls].filter((c) => c.failure).length}">`, ...suite('static rules', rules), ...suite('behaviour: base vs head', calls), '</testsuites>', ''].join('\n');
}
