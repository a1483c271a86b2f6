import { randomUUID } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
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

/**
 * Writes a snapshot atomically: a temporary file of its own (never shared with another save),
 * fsync, rename, fsync of the directory. A crash leaves the old or the new file, never half of one.
 */
export async function saveState(path: string, state: StateFile): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  // The rename is durable only once the directory entry is on disk too.
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * The one writer of a state file: changes ask for a save (debounced), saves run one after another
 * (each takes the state as it is when it starts), and close waits for the last. A failed save is
 * reported, never an unhandled rejection, and the next change tries again.
 */
export class StateWriter {
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => StateFile,
    private readonly onError: (error: Error) => void,
    private readonly debounceMs = 100,
  ) {}

  /** A change happened: save soon. */
  changed(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.save();
    }, this.debounceMs);
  }

  /** Saves now, after any save already running; resolves when this one is on disk. */
  save(): Promise<void> {
    this.chain = this.chain.then(() => saveState(this.path, this.snapshot())).catch((error: Error) => this.onError(error));
    return this.chain;
  }

  /** No more debounced saves; the final state is written. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.save();
  }
}
