import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, didYouMean } from '../../core/index.js';
import { isKindName, jsonSchemaFor, KIND_NAMES, type KindName } from '../config/index.js';
import type { CliIO } from './io.js';

/**
 * `meshdrill schema [kind]`: the JSON Schema of one kind, or of all kinds keyed by name.
 * With `out`, one file per kind (`<out>/<Kind>.json`) for editors' `$schema` headers.
 */
export async function schemaCommand(kind: string | undefined, options: { out?: string }, io: CliIO): Promise<number> {
  if (options.out !== undefined) {
    const dir = resolve(io.cwd, options.out);
    await mkdir(dir, { recursive: true });
    for (const name of kind === undefined ? KIND_NAMES : [checkedKind(kind)]) {
      await writeFile(join(dir, `${name}.json`), `${JSON.stringify(jsonSchemaFor(name), null, 2)}\n`);
      io.stdout(`wrote ${join(options.out, `${name}.json`)}\n`);
    }
    return 0;
  }
  if (kind === undefined) {
    const all = Object.fromEntries(KIND_NAMES.map((name) => [name, jsonSchemaFor(name)]));
    io.stdout(`${JSON.stringify(all, null, 2)}\n`);
    return 0;
  }
  io.stdout(`${JSON.stringify(jsonSchemaFor(checkedKind(kind)), null, 2)}\n`);
  return 0;
}

function checkedKind(kind: string): KindName {
  if (!isKindName(kind)) throw new ConfigError(`Unknown kind "${kind}"${didYouMean(kind, KIND_NAMES)} One of: ${KIND_NAMES.join(', ')}`);
  return kind;
}
