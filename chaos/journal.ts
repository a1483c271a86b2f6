import { mkdir, open, readFile, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterIdentity } from '../clusters/index.js';
import type { Undo } from './changes.js';

/** Who wrote a journal and on which cluster: written once, before the first change. */
export interface JournalHeader {
  runId: string;
  cluster: ClusterIdentity;
  /** The kubeconfig the run read (a path, never a copy), for `cleanup` to reach the cluster again. */
  kubeconfigPath?: string;
  host: string;
  pid: number;
  startedAt: string;
  /** What ran: "game day weekly-mesh-resilience". */
  what: string;
}

/**
 * One line of the journal: its header; an undo recorded before its change; the mark that an undo
 * was made (or left alone, with why); the mark that the run kept what it installed (`--keep`); or
 * that a person retired the journal (`cleanup --discard`).
 */
export type JournalEntry =
  | { header: JournalHeader }
  | { seq: number; at: string; fault: string; description: string; undo: Undo }
  | { done: number; at: string; outcome?: string }
  | { kept: true; at: string }
  | { discarded: true; at: string; why: string };

export interface PendingUndo {
  seq: number;
  fault: string;
  description: string;
  undo: Undo;
}

/** What a journal says as a whole. */
export interface JournalState {
  header?: JournalHeader;
  pending: PendingUndo[];
  /** The run ended with `--keep`: what is pending is the kept mesh and topology. */
  kept: boolean;
  discarded: boolean;
}

/**
 * The run's undo journal: every undo is appended and fsynced before its change is made, so a
 * crash at any point leaves a journal that `meshdrill cleanup` can replay. One file per run id.
 * Nothing is recorded before the header says which cluster the changes go to.
 */
export class Journal {
  private seq = 0;
  private header: JournalHeader | undefined;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly now: () => number,
  ) {}

  static async open(dir: string, runId: string, now: () => number = Date.now): Promise<Journal> {
    await mkdir(dir, { recursive: true });
    const path = journalPath(dir, runId);
    const handle = await open(path, 'a', 0o600);
    const journal = new Journal(path, handle, now);
    const existing = await readJournal(path).catch(async (error: unknown) => {
      await handle.close();
      throw error;
    });
    journal.seq = Math.max(0, ...existing.map((e) => ('seq' in e ? e.seq : 'done' in e ? e.done : 0)));
    journal.header = journalState(existing).header;
    return journal;
  }

  /** Names the cluster the run's changes go to; once, before the first change. */
  async bind(header: JournalHeader): Promise<void> {
    if (this.header) {
      if (this.header.cluster.kubeSystemUid !== header.cluster.kubeSystemUid) throw new Error(`journal ${this.path} belongs to another cluster (${this.header.cluster.server})`);
      return;
    }
    this.header = header;
    await this.append({ header });
  }

  get cluster(): ClusterIdentity | undefined {
    return this.header?.cluster;
  }

  async record(fault: string, description: string, undo: Undo): Promise<number> {
    // A change nobody could trace to its cluster is a change cleanup could not safely undo.
    if (!this.header) throw new Error(`journal ${this.path}: the cluster is not recorded yet; nothing may change before it is`);
    const seq = ++this.seq;
    await this.append({ seq, at: new Date(this.now()).toISOString(), fault, description, undo });
    return seq;
  }

  async done(seq: number, outcome?: string): Promise<void> {
    await this.append({ done: seq, at: new Date(this.now()).toISOString(), ...(outcome ? { outcome } : {}) });
  }

  /** The run ends with what it installed left in place on purpose (`--keep`). */
  async keep(): Promise<void> {
    await this.append({ kept: true, at: new Date(this.now()).toISOString() });
  }

  async discard(why: string): Promise<void> {
    await this.append({ discarded: true, at: new Date(this.now()).toISOString(), why });
  }

  async pending(): Promise<PendingUndo[]> {
    return pendingUndos(await readJournal(this.path));
  }

  private closed = false;

  /** Closes the file; once (a second close is a no-op). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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

export function journalState(entries: JournalEntry[]): JournalState {
  let header: JournalHeader | undefined;
  let kept = false;
  let discarded = false;
  for (const e of entries) {
    if ('header' in e) header ??= e.header;
    else if ('kept' in e) kept = true;
    else if ('discarded' in e) discarded = true;
  }
  return { ...(header ? { header } : {}), pending: pendingUndos(entries), kept, discarded };
}

/** Every journal in a directory and what it says, by run id. */
export async function listJournals(dir: string): Promise<Array<{ runId: string } & JournalState>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: Array<{ runId: string } & JournalState> = [];
  for (const name of names.filter((n) => n.endsWith('.jsonl')).sort()) {
    out.push({ runId: name.slice(0, -'.jsonl'.length), ...journalState(await readJournal(join(dir, name))) });
  }
  return out;
}
