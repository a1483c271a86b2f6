import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface SpawnedCli {
  child: ChildProcess;
  /** Resolves with the exit code, or the signal's name when a signal ended it. */
  exited: Promise<number | string>;
  /** Everything it printed to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves once stderr holds `text` (or rejects if the process exits first): an event, not a timer. */
  waitForStderr(text: string | RegExp): Promise<void>;
  /** The same for stdout; resolves with the match. */
  waitForStdout(text: RegExp): Promise<RegExpExecArray>;
}

/** The CLI from its sources in a child process, as a user's shell would run it (signals included). */
export function spawnCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnedCli {
  // tsx by its resolved location: the child may run in a directory that has no node_modules.
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'harness', 'bin.ts'), ...args], { cwd: options.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...(options.env ?? {}) } });
  let out = '';
  let err = '';
  const waiters: Array<{ stream: 'out' | 'err'; match: (s: string) => boolean; resolve: () => void; reject: (e: Error) => void }> = [];
  const check = () => {
    for (const w of [...waiters]) if (w.match(w.stream === 'err' ? err : out)) waiters.splice(waiters.indexOf(w), 1), w.resolve();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    check();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    check();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`the CLI exited (${code ?? signal}) before printing what was awaited; stderr:\n${err}`));
      resolve(code ?? signal ?? -1);
    }),
  );
  return {
    child,
    exited,
    stderr: () => err,
    stdout: () => out,
    waitForStderr: (text) =>
      new Promise<void>((resolve, reject) => {
        const match = (s: string) => (typeof text === 'string' ? s.includes(text) : text.test(s));
        if (match(err)) return resolve();
        waiters.push({ stream: 'err', match, resolve, reject });
      }),
    waitForStdout: (text) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const found = () => text.exec(out);
        if (found()) return resolve(found()!);
        waiters.push({ stream: 'out', match: (s) => text.test(s), resolve: () => resolve(found()!), reject });
      }),
  };
}
