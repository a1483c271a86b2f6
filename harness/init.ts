import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeClient } from '../clusters/kube/types.js';
import { jsonSchemaFor } from './config/json-schema.js';
import { ConfigError } from './errors.js';

export interface DiscoveredNamespace {
  name: string;
  services: Array<{ name: string; replicas: number }>;
}

const SYSTEM = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'istio-system', 'linkerd', 'local-path-storage']);

/** Namespaces and their Deployments/StatefulSets as topology services (the call graph is for the user to add). */
export async function discoverTopology(kube: KubeClient): Promise<DiscoveredNamespace[]> {
  const out: DiscoveredNamespace[] = [];
  for (const ns of await kube.list('v1', 'Namespace')) {
    const name = ns.metadata.name;
    if (SYSTEM.has(name) || name === 'default') continue;
    const workloads = [...(await kube.list('apps/v1', 'Deployment', { namespace: name })), ...(await kube.list('apps/v1', 'StatefulSet', { namespace: name }))];
    if (workloads.length === 0) continue;
    out.push({ name, services: workloads.map((w) => ({ name: w.metadata.name, replicas: (w['spec'] as { replicas?: number } | undefined)?.replicas ?? 1 })) });
  }
  return out;
}

// Editors find the schemas meshdrill writes beside the files (schemas/<Kind>.json).
const header = (kind: string) => `# yaml-language-server: $schema=./schemas/${kind}.json\n`;

/** The files of a new mesh config repo: topology, rollout plan, SLOs, a game day and two workflows. */
export function scaffold(options: { name: string; mesh: 'istio' | 'linkerd'; namespaces?: DiscoveredNamespace[] }): Map<string, string> {
  const namespaces = options.namespaces?.length
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
      entrypoints: [{ service: `${first.name}/${first.services[0]!.name}`, rps: 100 }],
      namespaces: namespaces.map((ns, i) => ({
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
      schedule: '0 6 * * 1',
      plan: plan.metadata.name,
      hypotheses: [{ name: 'stays-available', gates: namespaces.map((ns) => ({ slo: `${ns.name}-availability` })) }],
      steps: [{ provision: {} }, { install: { certLifetime: '1h' } }, { deploy: {} }, { stage: { to: 1 } }, { load: { duration: '10m' } }, { fault: { type: 'ca-loss', duration: '20m' } }, { wait: '5m' }],
    },
  };
  const files = new Map<string, string>();
  for (const kind of ['Topology', 'RolloutPlan', 'SLO', 'GameDay'] as const) files.set(`schemas/${kind}.json`, `${JSON.stringify(jsonSchemaFor(kind), null, 2)}\n`);
  files.set('topology.yaml', header('Topology') + stringify(topology));
  files.set('rollout-plan.yaml', header('RolloutPlan') + stringify(plan));
  files.set('slos.yaml', header('SLO') + slos.join('---\n'));
  files.set('gameday.yaml', header('GameDay') + stringify(gameday));
  files.set(
    '.github/workflows/meshdrill-check.yml',
    [
      '# On every pull request: what the change would break, as a comment.',
      'name: meshdrill check',
      'on: pull_request',
      'permissions: {contents: read, pull-requests: write}',
      'jobs:',
      '  check:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '        with: {fetch-depth: 0}',
      '      - uses: actions/setup-node@v4',
      '        with: {node-version: 20}',
      '      - run: npx --yes meshdrill check . --base origin/${{ github.base_ref }} --head HEAD --format md > meshdrill-check.md',
      '      - if: always()',
      '        run: gh pr comment ${{ github.event.pull_request.number }} --edit-last --body-file meshdrill-check.md || gh pr comment ${{ github.event.pull_request.number }} --body-file meshdrill-check.md',
      '        env: {GH_TOKEN: "${{ github.token }}"}',
      '',
    ].join('\n'),
  );
  files.set(
    '.github/workflows/meshdrill-gameday.yml',
    [
      '# Every Monday: the game day on the embedded cluster, its report kept as an artifact.',
      'name: meshdrill game day',
      'on:',
      '  schedule: [{cron: "0 6 * * 1"}]',
      '  workflow_dispatch: {}',
      'jobs:',
      '  gameday:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - uses: actions/setup-node@v4',
      '        with: {node-version: 20}',
      '      - run: npx --yes meshdrill gameday run gameday.yaml --out meshdrill-run',
      '      - if: always()',
      '        uses: actions/upload-artifact@v4',
      '        with: {name: meshdrill-gameday, path: meshdrill-run}',
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
