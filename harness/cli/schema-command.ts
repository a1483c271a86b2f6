import { ConfigError } from '../errors.js';
import { isKindName, jsonSchemaFor, KIND_NAMES } from '../config/index.js';
import { didYouMean } from '../config/suggest.js';
import type { CliIO } from './io.js';

/** `meshdrill schema [kind]`: the JSON Schema of one kind, or of all kinds keyed by name. */
export function schemaCommand(kind: string | undefined, io: CliIO): number {
  if (kind === undefined) {
    const all = Object.fromEntries(KIND_NAMES.map((name) => [name, jsonSchemaFor(name)]));
    io.stdout(`${JSON.stringify(all, null, 2)}\n`);
    return 0;
  }
  if (!isKindName(kind)) throw new ConfigError(`Unknown kind "${kind}"${didYouMean(kind, KIND_NAMES)} One of: ${KIND_NAMES.join(', ')}`);
  io.stdout(`${JSON.stringify(jsonSchemaFor(kind), null, 2)}\n`);
  return 0;
}
