import { styleText } from 'node:util';
import { Redactor } from '../../core/index.js';

/** Where the CLI writes, and whether it may colour: injected so tests drive the real CLI in-process. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  cwd: string;
  /**
   * What is secret in this run: the environment's tokens, and credentials met on the way (a
   * kubeconfig's token). Everything printed passes through it; commands use it for what they write.
   */
  secrets?: Redactor;
}

/** The IO every command gets: stdout and stderr redacted through the run's one Redactor. */
export function redactingIO(io: CliIO): CliIO & { secrets: Redactor } {
  const secrets = io.secrets ?? Redactor.fromEnv(io.env);
  return { ...io, secrets, stdout: (text) => io.stdout(secrets.redact(text)), stderr: (text) => io.stderr(secrets.redact(text)) };
}

export function processIO(): CliIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    cwd: process.cwd(),
  };
}

export type Paint = (style: 'red' | 'yellow' | 'green' | 'dim' | 'bold', text: string) => string;

/** Colour only on a terminal, never with NO_COLOR set (https://no-color.org) or --no-color. */
export function painter(io: CliIO, wanted: boolean): Paint {
  const enabled = wanted && io.isTTY && (io.env['NO_COLOR'] ?? '') === '';
  return enabled ? (style, text) => styleText(style, text, { validateStream: false }) : (_style, text) => text;
}
