import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureIO, runCli } from './helpers/cli.js';
import { exampleCheckout, git } from './helpers/git-repo.js';

const README = join(import.meta.dirname, '..', 'README.md');

/** The README's gate output for the example repo, one block per stage; "…" ends a line's told part. */
async function toldGateOutput(): Promise<Map<number, string[]>> {
  const text = await readFile(README, 'utf8');
  const start = text.indexOf('```text\nrollout gate shop-migration: stage 4 is live');
  expect(start, 'the README shows the example gate at stage 4 and 5').toBeGreaterThan(0);
  const block = text.slice(start + '```text\n'.length, text.indexOf('```', start + 8));
  const byStage = new Map<number, string[]>();
  for (const chunk of block.trim().split('\n\n')) {
    const lines = chunk.split('\n');
    byStage.set(Number(/stage (\d+) is live/.exec(lines[0]!)![1]), lines);
  }
  return byStage;
}

/** The example checkout with `stage` live, committed as a person would. */
async function exampleAtStage(stage: number): Promise<string> {
  const { work } = await exampleCheckout({ remote: false });
  const io = captureIO(work);
  expect(await runCli(['rollout', 'render', '.', '--stage', String(stage)], io), io.err.join('')).toBe(0);
  await git(work, 'add', '-A');
  await git(work, 'commit', '-q', '-m', `stage ${stage}`);
  return work;
}

describe("the README's rollout story is what the gate prints", () => {
  it.each([4, 5])('stage %i', async (stage) => {
    const told = (await toldGateOutput()).get(stage)!;
    const work = await exampleAtStage(stage);
    const io = captureIO(work);

    const code = await runCli(['rollout', 'gate', '.', '--seed', '7'], io);

    const printed = io.out.join('').split('\n');
    expect(code).toBe(stage === 5 ? 1 : 0);
    for (const line of told) {
      const part = line.endsWith('…') ? line.slice(0, -1) : line;
      expect(printed.some((p) => (line.endsWith('…') ? p.startsWith(part) : p === part)), `README line not printed:\n${line}\nprinted:\n${printed.join('\n')}`).toBe(true);
    }
    // Every gate and requirement the gate printed is in the README's telling, none left out.
    const marks = (lines: string[]) => lines.filter((l) => /^ {2}(PASS|FAIL|HOLD|WAIT) /.test(l)).map((l) => l.split(':')[0]);
    expect(marks(told)).toEqual(marks(printed));
  });
});
