import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigText } from './index.js';

// Whatever the input, the loader returns diagnostics; it never throws and never hangs.
function loadsWithoutThrowing(text: string): boolean {
  const repo = loadConfigText('fuzz.yaml', text);
  return Array.isArray(repo.diagnostics) && repo.diagnostics.every((d) => d.line >= 1 && d.col >= 1 && d.message.length > 0);
}

const KINDS = ['Topology', 'RolloutPlan', 'SLO', 'Fault', 'GameDay', 'Suite', 'Cluster', 'Nope'];

describe('harness/config/load (property)', () => {
  it('survives arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), loadsWithoutThrowing), { numRuns: 300 });
  });

  it('survives arbitrary YAML values under a meshdrill envelope', () => {
    const envelope = fc.record({
      apiVersion: fc.constantFrom('meshdrill.dev/v1alpha1', 'meshdrill.dev/v9', 'v1', 42),
      kind: fc.constantFrom(...KINDS),
      metadata: fc.oneof(fc.record({ name: fc.string() }), fc.anything()),
      spec: fc.anything({ maxDepth: 4 }),
      status: fc.anything({ maxDepth: 2 }),
    });
    fc.assert(fc.property(envelope, (doc) => loadsWithoutThrowing(stringify(doc))), { numRuns: 300 });
  });

  it('survives structured documents with random leaves', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }));
    const plan = fc.record({
      apiVersion: fc.constant('meshdrill.dev/v1alpha1'),
      kind: fc.constant('RolloutPlan'),
      metadata: fc.record({ name: fc.oneof(fc.constant('plan'), fc.string()) }),
      spec: fc.record({
        mesh: fc.record({ name: fc.oneof(fc.constant('istio'), leaf), mode: leaf }, { requiredKeys: ['name'] }),
        stages: fc.array(
          fc.record(
            { name: fc.oneof(fc.constant('s'), leaf), namespaces: leaf, bake: leaf, mtls: leaf, gates: fc.array(fc.dictionary(fc.string(), leaf), { maxLength: 2 }) },
            { requiredKeys: [] },
          ),
          { maxLength: 4 },
        ),
      }),
      status: fc.record({ stage: leaf }),
    });
    fc.assert(fc.property(fc.array(plan, { minLength: 1, maxLength: 3 }), (docs) => loadsWithoutThrowing(docs.map((d) => stringify(d)).join('---\n'))), {
      numRuns: 300,
    });
  });
});
