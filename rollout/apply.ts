import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/index.js';
import type { FileUpdate } from './render.js';

/**
 * Writes planned updates: each file through a temporary file and a rename, so no file is ever
 * half-written. With dryRun, checked right before each write, it only says what it would do.
 */
export async function applyUpdates(root: string, updates: FileUpdate[], options: { dryRun: boolean; logger: Pick<Logger, 'info'> }): Promise<void> {
  for (const update of updates) {
    const target = join(root, update.path);
    const action = update.after === undefined ? 'delete' : update.before === undefined ? 'create' : 'update';
    if (options.dryRun) {
      options.logger.info({ file: update.path }, `DRY-RUN: would ${action}`);
      continue;
    }
    if (update.after === undefined) {
      await rm(target, { force: true });
    } else {
      await mkdir(dirname(target), { recursive: true });
      const temporary = `${target}.${process.pid}.tmp`;
      await writeFile(temporary, update.after);
      await rename(temporary, target);
    }
    options.logger.info({ file: update.path }, `${action}d`);
  }
}
