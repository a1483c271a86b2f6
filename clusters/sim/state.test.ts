import { mkdtemp, readdir, readFile, stat, watch } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli } from '../../test/helpers/spawn-cli.js';
import { loadState, StateWriter, type StateFile } from './state.js';

const state = (n: number): StateFile => ({ version: 1, store: { rv: n, objects: Array.from({ length: 200 }, (_, i) => ({ key: `configmaps/default/c${i}`, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` }, data: { n: String(n) } } })) } });

describe('clusters/sim/state', () => {
  it('one writer: saves asked for at once run one after another, each with its own temporary file, and the last state wins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-state-'));
    let n = 0;
    const errors: Error[] = [];
    const writer = new StateWriter(join(dir, 'sim.json'), () => state(++n), (e) => errors.push(e));

    await Promise.all(Array.from({ length: 50 }, () => writer.save()));
    for (let i = 0; i < 20; i++) writer.changed();
    await writer.close();

    expect(errors).toEqual([]);
    expect((await loadState(join(dir, 'sim.json')))!.store.rv).toBe(n);
    expect(await readdir(dir)).toEqual(['sim.json']);
  });

  it('a served cluster killed while it saves leaves the old state or the new one, never half of one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-state-'));
    const path = join(dir, 'sim.json');
    const serve = spawnCli(['sim', 'serve', '--time', 'virtual', '--state', path, '--kubeconfig', join(dir, 'kubeconfig')]);
    const url = (await serve.waitForStdout(/serving at (http:\/\/\S+)/))[1]!;
    // Writes as fast as the server takes them, each one asking for a save.
    let stop = false;
    const writes = (async () => {
      for (let i = 0; !stop; i++) {
        await fetch(`${url}/api/v1/namespaces/default/configmaps`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ metadata: { name: `c${i}` }, data: { blob: 'x'.repeat(2_000) } }) }).catch(() => undefined);
      }
    })();
    // Once the state file has grown (several saves made), kill the server in the middle of the next ones.
    const changes = watch(dir)[Symbol.asyncIterator]();
    while ((await stat(path).then((s) => s.size, () => 0)) < 200_000) await changes.next();
    void changes.return?.();

    serve.child.kill('SIGKILL');
    await serve.exited;
    stop = true;
    await writes;

    const restored = await loadState(path);
    expect(restored?.version).toBe(1);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ version: 1 });
  });
});
