import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Which run holds a kind cluster. kind has no labels of its own for clusters, so meshdrill keeps
 * one small file per cluster it made: the run, and the process on this host while the run lives.
 */
export interface ClusterLease {
  cluster: string;
  runId: string;
  host: string;
  /** The run's process; null once the run has ended and the cluster was kept (--keep, --reuse). */
  pid: number | null;
  since: string;
}

/** `$XDG_STATE_HOME/meshdrill/kind`, else `~/.local/state/meshdrill/kind`. */
export function defaultLeaseDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state'), 'meshdrill', 'kind');
}

export async function holdLease(dir: string, lease: Omit<ClusterLease, 'host' | 'pid' | 'since'> & { pid?: number | null; now?: Date }): Promise<void> {
  await mkdir(dir, { recursive: true });
  const full: ClusterLease = { cluster: lease.cluster, runId: lease.runId, host: hostname(), pid: lease.pid === undefined ? process.pid : lease.pid, since: (lease.now ?? new Date()).toISOString() };
  await writeFile(join(dir, `${lease.cluster}.json`), `${JSON.stringify(full)}\n`);
}

export async function readLease(dir: string, cluster: string): Promise<ClusterLease | undefined> {
  const text = await readFile(join(dir, `${cluster}.json`), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as ClusterLease;
  } catch {
    return undefined; // a torn write: no proof of a live run
  }
}

export async function dropLease(dir: string, cluster: string): Promise<void> {
  await rm(join(dir, `${cluster}.json`), { force: true });
}

/**
 * Whether a lease proves a live run: its process exists on this host. A lease from another host
 * cannot be checked from here, so it counts as live; signal 0 checks existence without signalling.
 */
export function leaseIsLive(lease: ClusterLease | undefined, isAlive: (pid: number) => boolean = processExists): boolean {
  if (!lease || lease.pid === null) return false;
  if (lease.host !== hostname()) return true;
  return isAlive(lease.pid);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
