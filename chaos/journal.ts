import { mkdir, open, readFile, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Undo } from './changes.js';

/** One line of the journal: an undo recorded before its change, or the mark that it was undone. */
export type JournalEntry = { seq: number; at: string; fault: string; description: string; undo: Undo } | { done: number; at: string };

export interface PendingUndo {
  seq: number;
  fault: string;
  description: string;
  undo: Undo;
}

/**
 * The run's undo journal: every undo is appended and fsynced before its change is made, so a
 * crash at any point leaves a journal that `meshdrill cleanup` can replay. One file per run id.
 */
export class Journal {
  private seq = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly now: () => number,
  ) {}

  static async open(dir: string, runId: string, now: () => number = Date.now): Promise<Journal> {
    await mkdir(dir, { recursive: true });
    const path = journalPath(dir, runId);
    const handle = await open(path, 'a');
    const journal = new Journal(path, handle, now);
    const existing = await readJournal(path);
    journal.seq = Math.max(0, ...existing.map((e) => ('seq' in e ? e.seq : e.done)));
    return journal;
  }

  async record(fault: string, description: string, undo: Undo): Promise<number> {
    const seq = ++this.seq;
    await this.append({ seq, at: new Date(this.now()).toISOString(), fault, description, undo });
    return seq;
  }

  async done(seq: number): Promise<void> {
    await this.append({ done: seq, at: new Date(this.now()).toISOString() });
  }

  async pending(): Promise<PendingUndo[]> {
    return pendingUndos(await readJournal(this.path));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async append(entry: JournalEntry): Promise<void> {
    await this.handle.write(`${JSON.stringify(entry)}\n`);
    await this.handle.sync();
  }
}

export function journalPath(dir: string, runId: string): string {
  if (!/^[\w.-]+$/.test(runId)) throw new Error(`run id "${runId}" may hold only letters, digits, ".", "_" and "-"`);
  return join(dir, `${runId}.jsonl`);
}

/** Reads a journal; a torn last line (a crash mid-write) is ignored: its change was never made. */
export async function readJournal(path: string): Promise<JournalEntry[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const entries: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      // a torn write
    }
  }
  return entries;
}

/** Undos not yet marked done, newest first: the order to replay them in. */
export function pendingUndos(entries: JournalEntry[]): PendingUndo[] {
  const done = new Set(entries.flatMap((e) => ('done' in e ? [e.done] : [])));
  return entries
    .flatMap((e) => ('seq' in e && !done.has(e.seq) ? [{ seq: e.seq, fault: e.fault, description: e.description, undo: e.undo }] : []))
    .sort((a, b) => b.seq - a.seq);
}

/** Run ids with journals in a directory, and how many undos each still has pending. */
export async function listJournals(dir: string): Promise<Array<{ runId: string; pending: number }>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: Array<{ runId: string; pending: number }> = [];
  for (const name of names.filter((n) => n.endsWith('.jsonl')).sort()) {
    out.push({ runId: name.slice(0, -'.jsonl'.length), pending: pendingUndos(await readJournal(join(dir, name))).length });
  }
  return out;
}
