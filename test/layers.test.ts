import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCircles, importGraph, layerViolations, packagesLoadedBy, type ImportEdge } from './helpers/import-graph.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const edge = (from: string, to: string, extra: Partial<ImportEdge> = {}): ImportEdge => ({ from, to, typeOnly: false, line: 1, justified: false, ...extra });

describe('layers', () => {
  it('every import points down the layers, through the folder\'s index.ts, with no circles', () => {
    expect(layerViolations(importGraph(root))).toEqual([]);
  });

  it('finds an upward import, a sideways one, a reach past index.ts and a circle', () => {
    const problems = layerViolations([
      edge('meshes/registry.ts', 'harness/config/suggest.ts'),
      edge('reports/run-record.ts', 'rollout/stage.ts', { typeOnly: true }),
      edge('chaos/faults.ts', 'rollout/index.ts'),
      edge('suites/gameday.ts', 'slo/evaluate.ts'),
      edge('suites/gameday.ts', 'slo/evaluate.ts', { typeOnly: true, justified: true }),
      edge('clusters/sim/admin.ts', 'clusters/sim/cluster.ts', { typeOnly: true }),
      edge('clusters/sim/cluster.ts', 'clusters/sim/admin.ts'),
      edge('clusters/kind/kind.test.ts', 'test/helpers/cli.ts'),
    ]);

    expect(problems).toEqual([
      'meshes/registry.ts:1 imports harness/config/suggest.ts: meshes may not import harness, which is on a higher layer',
      'reports/run-record.ts:1 imports rollout/stage.ts: reports may not import rollout, which is on a higher layer',
      'chaos/faults.ts:1 imports rollout/index.ts: chaos and rollout are on one layer and may not import each other',
      'suites/gameday.ts:1 imports slo/evaluate.ts: import slo/index.ts, the folder\'s public surface, or slo/schema.ts, its documents (a type-only deep import needs a "deep import" comment saying why)',
      'import circle: clusters/sim/admin.ts → clusters/sim/cluster.ts → clusters/sim/admin.ts',
    ]);
  });

  it('walks a 10,000-file chain without recursion', () => {
    const chain = Array.from({ length: 10_000 }, (_, i) => edge(`core/f${i}.ts`, `core/f${(i + 1) % 10_000}.ts`));

    expect(importCircles(chain)[0]).toHaveLength(10_001);
  });
});

describe('commands load only what they need', () => {
  const HEAVY = ['@kubernetes/client-node', '@octokit/rest', '@octokit/auth-app', 'simple-git', '@peculiar/x509', 'reflect-metadata', '@testcontainers/k3s', 'kubernetes-models', '@kubernetes-models/istio'];

  it.each([
    ['the CLI itself (--help, --version)', 'harness/cli/main.ts', ['commander']],
    ['validate', 'harness/cli/validate-command.ts', ['yaml', 'zod']],
  ])('%s loads no client, forge or cluster library until a command needs it', (_what, entry, expected) => {
    const loaded = packagesLoadedBy(root, entry);

    expect([...loaded].filter((p) => HEAVY.includes(p))).toEqual([]);
    expect([...loaded].sort()).toEqual(expected);
  });

  it('sees a package loaded two files away', () => {
    expect(packagesLoadedBy(root, 'clusters/sim/index.ts')).toContain('yaml');
  });
});
