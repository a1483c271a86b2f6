import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeClient } from '../clusters/index.js';
import type { ObservedCallGraph } from '../slo/index.js';
import { jsonSchemaFor } from './config/json-schema.js';
import { ConfigError } from '../core/index.js';

/** When the scaffolded game day runs (Mondays at 06:00 UTC); its workflow is scheduled from the same value. */
const SCHEDULE = '0 6 * * 1';
/** The meshdrill action the scaffolded workflows use, pinned to a release; `init --action` names another (a fork, a commit SHA). */
export const DEFAULT_ACTION = 'meshdrill/meshdrill@v1';

export interface DiscoveredNamespace {
  name: string;
  services: Array<{ name: string; replicas: number }>;
  /** Workloads (Deployments, StatefulSets) by name, to the topology service they serve. */
  workloads?: Record<string, string>;
}

const SYSTEM = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'istio-system', 'linkerd', 'local-path-storage']);

type Selector = Record<string, string>;
const matches = (selector: Selector, labels: Record<string, string>) => Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * A cluster's namespaces as topology services: each Service is one, with the replicas of the
 * workloads its selector picks; a workload no Service selects (a job, a poller) is one by its
 * own name. The call graph is for telemetry (--prometheus) or the user to add.
 */
export async function discoverTopology(kube: KubeClient): Promise<DiscoveredNamespace[]> {
  const out: DiscoveredNamespace[] = [];
  for (const ns of await kube.list('v1', 'Namespace')) {
    const name = ns.metadata.name;
    if (SYSTEM.has(name) || name === 'default') continue;
    const workloads = [...(await kube.list('apps/v1', 'Deployment', { namespace: name })), ...(await kube.list('apps/v1', 'StatefulSet', { namespace: name }))].map((w) => {
      const spec = (w['spec'] ?? {}) as { replicas?: number; template?: { metadata?: { labels?: Record<string, string> } } };
      return { name: w.metadata.name, replicas: spec.replicas ?? 1, labels: spec.template?.metadata?.labels ?? {} };
    });
    if (workloads.length === 0) continue;
    const services: DiscoveredNamespace['services'] = [];
    const served: Record<string, string> = {};
    for (const svc of await kube.list('v1', 'Service', { namespace: name })) {
      const selector = ((svc['spec'] ?? {}) as { selector?: Selector }).selector ?? {};
      const behind = workloads.filter((w) => matches(selector, w.labels));
      if (behind.length === 0) continue;
      services.push({ name: svc.metadata.name, replicas: behind.reduce((n, w) => n + w.replicas, 0) });
      for (const w of behind) served[w.name] ??= svc.metadata.name;
    }
    for (const w of workloads) if (!served[w.name]) services.push({ name: w.name, replicas: w.replicas });
    out.push({ name, services, workloads: Object.fromEntries(workloads.map((w) => [w.name, served[w.name] ?? w.name])) });
  }
  return out;
}

/** A discovered service's calls, as the topology writes them. */
interface ScaffoldService {
  name: string;
  replicas: number;
  calls?: Array<{ to: string; share?: string }>;
}

export interface TelemetryTopology {
  namespaces: Array<{ name: string; services: ScaffoldService[] }>;
  entrypoints: Array<{ service: string; rps: number }>;
  /** What telemetry could not settle, for the author of topology.yaml. */
  notes: string[];
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The topology's call graph from what the mesh measured. A call's share is its rate over the rate
 * of requests into the caller. Services nobody calls, or called only by callers without a mesh
 * identity, are where traffic enters; a service called both ways gets a note, because telemetry
 * cannot tell an unmeshed workload from the outside world.
 */
export function topologyFromTelemetry(discovered: DiscoveredNamespace[], observed: ObservedCallGraph): TelemetryTopology {
  // Telemetry names callers by workload (Istio's source_workload, Linkerd's deployment) and, for
  // Linkerd, callees by deployment too: both become the topology service the workload serves.
  const alias = new Map(discovered.flatMap((ns) => Object.entries(ns.workloads ?? {}).map(([w, svc]): [string, string] => [`${ns.name}/${w}`, `${ns.name}/${svc}`])));
  const as = (ref: string) => alias.get(ref) ?? ref;
  const merged = new Map<string, ObservedCallGraph['calls'][number]>();
  for (const c of observed.calls) {
    const call = { from: as(c.from), to: as(c.to), rps: c.rps };
    if (call.from === call.to) continue;
    const key = `${call.from} ${call.to}`;
    merged.set(key, { ...call, rps: (merged.get(key)?.rps ?? 0) + call.rps });
  }
  const unattributed = new Map<string, number>();
  for (const u of observed.unattributed) unattributed.set(as(u.to), (unattributed.get(as(u.to)) ?? 0) + u.rps);
  const graph: ObservedCallGraph = { calls: [...merged.values()], unattributed: [...unattributed].map(([to, rps]) => ({ to, rps })) };
  const services = new Map<string, ScaffoldService>();
  const namespaces = new Map<string, ScaffoldService[]>();
  const ensure = (ref: string, replicas = 1) => {
    if (services.has(ref)) return services.get(ref)!;
    const [ns, name] = ref.split('/') as [string, string];
    const svc: ScaffoldService = { name, replicas };
    services.set(ref, svc);
    if (!namespaces.has(ns)) namespaces.set(ns, []);
    namespaces.get(ns)!.push(svc);
    return svc;
  };
  for (const ns of discovered) for (const s of ns.services) ensure(`${ns.name}/${s.name}`, s.replicas);
  for (const c of graph.calls) (ensure(c.from), ensure(c.to));
  for (const u of graph.unattributed) ensure(u.to);
  const namedIn = new Map<string, number>();
  for (const c of graph.calls) namedIn.set(c.to, (namedIn.get(c.to) ?? 0) + c.rps);
  const unattributedIn = new Map(graph.unattributed.map((u) => [u.to, u.rps]));
  const entrypoints: TelemetryTopology['entrypoints'] = [];
  const notes: string[] = [];
  for (const [ref, svc] of services) {
    const outgoing = graph.calls.filter((c) => c.from === ref);
    const incoming = (namedIn.get(ref) ?? 0) + (unattributedIn.get(ref) ?? 0);
    // A caller nobody calls is a source of traffic itself (a job, a poller): it enters at its busiest call's rate.
    const base = incoming > 0 ? incoming : Math.max(0, ...outgoing.map((c) => c.rps));
    if (outgoing.length) svc.calls = outgoing.map((c) => ({ to: c.to, ...(c.rps < base * 0.9995 ? { share: `${Math.max(0.1, round1(Math.min(100, (c.rps / base) * 100)))}%` } : {}) }));
    const fromUnknown = unattributedIn.get(ref) ?? 0;
    if (!namedIn.has(ref) && (fromUnknown > 0 || outgoing.length)) entrypoints.push({ service: ref, rps: Math.max(0.1, round1(fromUnknown > 0 ? fromUnknown : base)) });
    else if (fromUnknown > 0) notes.push(`${ref} receives ${round1(fromUnknown)} rps from callers without a mesh identity (unmeshed workloads or outside the cluster); name them in topology.yaml`);
  }
  return { namespaces: [...namespaces].map(([name, svcs]) => ({ name, services: svcs })), entrypoints, notes };
}

// Editors find the schemas meshdrill writes beside the files (schemas/<Kind>.json).
const header = (kind: string) => `# yaml-language-server: $schema=./schemas/${kind}.json\n`;

/** The files of a new mesh config repo: topology, rollout plan, SLOs, a game day and two workflows. */
export function scaffold(options: { name: string; mesh: 'istio' | 'linkerd'; namespaces?: DiscoveredNamespace[]; observed?: TelemetryTopology; action?: string }): Map<string, string> {
  const namespaces: Array<{ name: string; services: ScaffoldService[] }> = options.observed?.namespaces.length
    ? options.observed.namespaces
    : options.namespaces?.length
    ? options.namespaces
    : [
        { name: 'frontend', services: [{ name: 'web', replicas: 2 }] },
        { name: 'backend', services: [{ name: 'api', replicas: 2 }] },
      ];
  const first = namespaces[0]!;
  const topology = {
    apiVersion: 'meshdrill.dev/v1alpha1',
    kind: 'Topology',
    metadata: { name: options.name },
    spec: {
      entrypoints: options.observed?.entrypoints.length ? options.observed.entrypoints : [{ service: `${first.name}/${first.services[0]!.name}`, rps: 100 }],
      namespaces: options.observed
        ? namespaces
        : namespaces.map((ns, i) => ({
            name: ns.name,
            services: ns.services.map((s, j) => ({ name: s.name, replicas: s.replicas, ...(i === 0 && j === 0 && namespaces[1] ? { calls: [{ to: `${namespaces[1].name}/${namespaces[1].services[0]!.name}` }] } : {}) })),
          })),
    },
  };
  const plan = {
    apiVersion: 'meshdrill.dev/v1alpha1',
    kind: 'RolloutPlan',
    metadata: { name: `${options.name}-migration` },
    spec: {
      mesh: { name: options.mesh, mode: 'sidecar' },
      topology: options.name,
      baseline: { window: '10m' },
      coolDown: '2h',
      stages: namespaces.map((ns, i) => ({ name: `mesh-${ns.name}`, namespaces: [ns.name], ...(i === 0 ? { mtls: 'PERMISSIVE' } : {}), bake: '30m', gates: [{ slo: `${ns.name}-availability`, key: true }] })),
    },
    status: { stage: 0 },
  };
  const slos = namespaces.map((ns) => stringify({ apiVersion: 'meshdrill.dev/v1alpha1', kind: 'SLO', metadata: { name: `${ns.name}-availability` }, spec: { sli: 'success-rate', scope: { namespace: ns.name }, objective: '>= 99.9%', window: '10m', source: 'client' } }));
  const gameday = {
    apiVersion: 'meshdrill.dev/v1alpha1',
    kind: 'GameDay',
    metadata: { name: 'weekly' },
    spec: {
      schedule: SCHEDULE,
      plan: plan.metadata.name,
      hypotheses: [{ name: 'stays-available', gates: namespaces.map((ns) => ({ slo: `${ns.name}-availability` })) }],
      steps: [{ provision: {} }, { install: { certLifetime: '1h' } }, { deploy: {} }, { stage: { to: 1 } }, { load: { duration: '10m' } }, { fault: { type: 'ca-loss', duration: '20m' } }, { wait: '5m' }],
    },
  };
  const checkConfig = {
    apiVersion: 'meshdrill.dev/v1alpha1',
    kind: 'CheckConfig',
    metadata: { name: options.name },
    spec: { failOn: 'error', rules: {} },
  };
  const files = new Map<string, string>();
  for (const kind of ['Topology', 'RolloutPlan', 'SLO', 'GameDay', 'CheckConfig'] as const) files.set(`schemas/${kind}.json`, `${JSON.stringify(jsonSchemaFor(kind), null, 2)}\n`);
  const notes = (options.observed?.notes ?? []).map((n) => `# NOTE: ${n}\n`).join('');
  const provenance = options.observed ? '# Calls and rates measured from the mesh\'s telemetry by `meshdrill init --prometheus`.\n' : '';
  files.set('topology.yaml', header('Topology') + provenance + notes + stringify(topology));
  files.set('rollout-plan.yaml', header('RolloutPlan') + stringify(plan));
  files.set('slos.yaml', header('SLO') + slos.join('---\n'));
  files.set('gameday.yaml', header('GameDay') + stringify(gameday));
  // Run output (records, journals, a made cluster's kubeconfig) never belongs in the config repo.
  files.set('.gitignore', '# meshdrill\'s run output: records, undo journals, and kubeconfigs of clusters it made\n.meshdrill/\nmeshdrill-run/\n');
  files.set('check.yaml', `${header('CheckConfig')}# Rule severities for \`meshdrill check\` (see \`meshdrill check --help\`), e.g. rules: {MD103: off}\n${stringify(checkConfig)}`);
  const action = options.action ?? DEFAULT_ACTION;
  files.set(
    '.github/workflows/meshdrill-check.yml',
    [
      '# On every pull request: what the change would break, as a check run and one comment.',
      `# The action is pinned (${action}): it runs the meshdrill of that ref, built from its own checkout.`,
      'name: meshdrill check',
      'on: pull_request',
      '# checks and pull-requests: write post the check run and the comment. A pull request from a',
      '# fork gets a read-only token: meshdrill then writes annotations and the step summary instead.',
      'permissions: {contents: read, checks: write, pull-requests: write}',
      'jobs:',
      '  check:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v5',
      '        with: {fetch-depth: 0}',
      `      - uses: ${action}`,
      '        with: {command: check}',
      '',
    ].join('\n'),
  );
  files.set(
    '.github/workflows/meshdrill-gameday.yml',
    [
      '# Every Monday: the game day on the embedded cluster, its report kept as an artifact.',
      '# While it fails, one issue says so; the first passing run closes it.',
      'name: meshdrill game day',
      'on:',
      // The workflow runs when the game day says it runs: one schedule, read from its document.
      `  schedule: [{cron: "${SCHEDULE}"}]`,
      '  workflow_dispatch: {}',
      'permissions: {contents: read, issues: write}',
      'jobs:',
      '  gameday:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v5',
      '      - id: gameday',
      `        uses: ${action}`,
      '        with: {command: gameday, path: gameday.yaml, args: --out meshdrill-run}',
      '      - if: always()',
      '        uses: actions/upload-artifact@v4',
      '        # The reports only: a run folder may hold a made cluster\'s kubeconfig, which is not for sharing.',
      '        with:',
      '          name: meshdrill-gameday',
      '          path: |',
      '            meshdrill-run/run.json',
      '            meshdrill-run/report.html',
      "      - if: always() && hashFiles('meshdrill-run/run.json') != ''",
      `        uses: ${action}`,
      '        with: {command: report, path: meshdrill-run/run.json, args: --github-issue}',
      '',
    ].join('\n'),
  );
  files.set(
    '.github/workflows/meshdrill-rollout-gate.yml',
    [
      '# Every weekday morning (or by hand): measure the live rollout stage and open the pull request',
      '# that advances or reverts it.',
      '#',
      '# It opens pull requests with a GitHub App\'s token, not GITHUB_TOKEN: GitHub runs no workflows',
      '# for events a GITHUB_TOKEN caused, so a pull request opened with it would never get its',
      '# meshdrill check (or any other required check). Create an App with contents and',
      '# pull-requests write on this repository, install it here, and store its id and private key',
      '# as MESHDRILL_APP_ID and MESHDRILL_APP_PRIVATE_KEY.',
      'name: meshdrill rollout gate',
      'on:',
      '  schedule: [{cron: "0 7 * * 1-5"}]',
      '  workflow_dispatch: {}',
      'permissions: {contents: read}',
      'concurrency: {group: meshdrill-rollout-gate, cancel-in-progress: false}',
      'jobs:',
      '  gate:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - id: app',
      '        uses: actions/create-github-app-token@v2',
      '        with:',
      '          app-id: ${{ secrets.MESHDRILL_APP_ID }}',
      '          private-key: ${{ secrets.MESHDRILL_APP_PRIVATE_KEY }}',
      '      - uses: actions/checkout@v5',
      '        with: {fetch-depth: 0, token: "${{ steps.app.outputs.token }}"}',
      `      - uses: ${action}`,
      '        with:',
      '          command: gate',
      '          token: ${{ steps.app.outputs.token }}',
      '',
    ].join('\n'),
  );
  return files;
}

/** Writes a scaffold into `dir`; refuses a directory that already has files unless forced. */
export async function writeScaffold(dir: string, files: Map<string, string>, force: boolean): Promise<string[]> {
  const existing = await readdir(dir).catch(() => [] as string[]);
  const clashes = [...files.keys()].filter((f) => existing.includes(f.split('/')[0]!));
  if (clashes.length && !force) throw new ConfigError(`${dir} already has ${clashes.join(', ')}; choose an empty directory or pass --force to overwrite`);
  for (const [path, text] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return [...files.keys()];
}
