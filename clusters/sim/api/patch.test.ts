import { describe, expect, it } from 'vitest';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';

describe('clusters/sim/api/patch', () => {
  it('merge patch merges objects, deletes on null and replaces lists (RFC 7386)', () => {
    const result = mergePatch({ a: { b: 1, c: 2 }, list: [1, 2], gone: true }, { a: { c: 3 }, list: [3], gone: null });

    expect(result).toEqual({ a: { b: 1, c: 3 }, list: [3] });
  });

  it('JSON patch applies every operation or none (RFC 6902)', () => {
    const doc = { metadata: { labels: { a: '1' } }, items: [1, 2] };

    const result = jsonPatch(doc, [
      { op: 'add', path: '/metadata/labels/b', value: '2' },
      { op: 'remove', path: '/metadata/labels/a' },
      { op: 'add', path: '/items/-', value: 3 },
      { op: 'move', from: '/items/0', path: '/first' },
    ]);
    const failing = () => jsonPatch(doc, [{ op: 'add', path: '/metadata/labels/c', value: '3' }, { op: 'remove', path: '/nope' }]);

    expect(result).toEqual({ metadata: { labels: { b: '2' } }, items: [2, 3], first: 1 });
    expect(failing).toThrow(/doc is missing path: \/nope/);
    expect(doc).toEqual({ metadata: { labels: { a: '1' } }, items: [1, 2] });
  });

  it('strategic merge patch merges containers by name and env by name', () => {
    const current = { spec: { containers: [{ name: 'app', image: 'a:1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] }, { name: 'istio-proxy', image: 'proxy:1' }] } };

    const result = strategicMergePatch(current, { spec: { containers: [{ name: 'app', image: 'a:2', env: [{ name: 'Y', value: '3' }] }] } });

    expect(result).toEqual({ spec: { containers: [{ name: 'app', image: 'a:2', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '3' }] }, { name: 'istio-proxy', image: 'proxy:1' }] } });
  });

  it('strategic merge patch understands $patch: delete, $setElementOrder and $deleteFromPrimitiveList', () => {
    const current = { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }, metadata: { finalizers: ['x', 'y'] } };

    const result = strategicMergePatch(current, {
      spec: { containers: [{ name: 'b', $patch: 'delete' }], '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }] },
      metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] },
    });

    expect(result).toEqual({ spec: { containers: [{ name: 'c' }, { name: 'a' }] }, metadata: { finalizers: ['y'] } });
  });

  it('strategic merge patch replaces lists that have no merge key', () => {
    expect(strategicMergePatch({ spec: { args: ['a', 'b'] } }, { spec: { args: ['c'] } })).toEqual({ spec: { args: ['c'] } });
  });

  it('merges service ports on port and container ports on containerPort', () => {
    const service = strategicMergePatch({ ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }] }, { ports: [{ port: 80, name: 'web' }] });
    const container = strategicMergePatch({ ports: [{ containerPort: 8080 }] }, { ports: [{ containerPort: 9090 }] });

    expect(service).toEqual({ ports: [{ port: 80, name: 'web' }, { port: 443, name: 'https' }] });
    expect(container).toEqual({ ports: [{ containerPort: 8080 }, { containerPort: 9090 }] });
  });
});
