import { styleText } from 'node:util';

/** Where the CLI writes, and whether it may colour: injected so tests drive the real CLI in-process. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  cwd: string;
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
