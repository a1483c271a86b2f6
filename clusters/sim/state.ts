import { open, readFile, rename } from 'node:fs/promises';
import type { KubeObject } from './api/types.js';

export interface StateFile {
  version: 1;
  store: { rv: number; objects: Array<{ key: string; object: KubeObject }> };
}

/** Reads a snapshot; a missing file means a fresh cluster. */
export async function loadState(path: string): Promise<StateFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as StateFile;
  if (parsed.version !== 1) throw new Error(`${path}: unsupported state version ${String(parsed.version)}`);
  return parsed;
}

/** Writes a snapshot atomically: a temporary file, fsync, rename. A crash leaves the old or the new file, never half of one. */
export async function saveState(path: string, state: StateFile): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(JSON.stringify(state));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}
