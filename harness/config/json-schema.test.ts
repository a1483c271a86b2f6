import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { jsonSchemaFor, KIND_NAMES } from './index.js';

const SHOP = join(import.meta.dirname, '..', '..', 'examples', 'shop');

async function examples(): Promise<Array<{ kind: string; value: unknown }>> {
  const out: Array<{ kind: string; value: unknown }> = [];
  for (const file of ['topology.yaml', 'rollout-plan.yaml', 'slos.yaml', 'gameday.yaml', 'cluster.yaml']) {
    const docs = parseAllDocuments(await readFile(join(SHOP, file), 'utf8'));
    for (const doc of Array.isArray(docs) ? docs : []) {
      const value = doc.toJS() as { kind: string };
      out.push({ kind: value.kind, value });
    }
  }
  return out;
}

describe('harness/config/json-schema', () => {
  it('exports a schema per kind that a standard validator accepts the example documents with', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });

    const validators = new Map(KIND_NAMES.map((kind) => [kind as string, ajv.compile(jsonSchemaFor(kind))]));

    for (const { kind, value } of await examples()) {
      const validate = validators.get(kind)!;
      expect(validate(value), `${kind}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('rejects unknown fields and bad enums, as the loader does', async () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(jsonSchemaFor('RolloutPlan'));
    const plan = (await examples()).find((e) => e.kind === 'RolloutPlan')!.value as { spec: Record<string, unknown> };

    expect(validate({ ...plan, spec: { ...plan.spec, bogus: 1 } })).toBe(false);
    expect(validate({ ...plan, spec: { ...plan.spec, mesh: { name: 'istoi' } } })).toBe(false);
  });

  it('describes every field for editors', () => {
    const schema = JSON.stringify(jsonSchemaFor('RolloutPlan'));

    expect(schema).toContain('Stages applied so far');
    expect(schema).toContain('"pattern"');
  });
});
