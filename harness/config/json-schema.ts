import { z } from 'zod';
import { KINDS, type KindName } from './kinds.js';

/** JSON Schema (draft 2020-12) of a kind, for editors (`# yaml-language-server: $schema=…`). */
export function jsonSchemaFor(kind: KindName): Record<string, unknown> {
  const schema = z.toJSONSchema(KINDS[kind], { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  return { $id: `https://meshdrill.dev/schemas/v1alpha1/${kind}.json`, title: kind, ...schema };
}
