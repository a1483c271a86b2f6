#!/usr/bin/env node
// The installed entry point runs the compiled CLI (built by `npm run build`, run by `npm ci` through `prepare`).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/harness/cli/main.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('meshdrill: the compiled CLI is missing; run `npm run build` (npm ci does it through `prepare`)\n');
  process.exit(3);
}
const { runCli } = await import(compiled.href);
process.exitCode = await runCli(process.argv.slice(2));
