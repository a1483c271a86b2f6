import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimCluster, type SimCluster } from '../index.js';

// Bad input at the HTTP edge: the status code and metav1.Status a real API server sends, and
// nothing stored.

let cluster: SimCluster;

beforeAll(async () => {
  cluster = await startSimCluster({ watchLogCapacity: 100 });
});
afterAll(async () => {
  await cluster.close();
});

async function call(method: string, path: string, body?: string, contentType = 'application/json') {
  const response = await fetch(`${cluster.url}${path}`, { method, ...(body !== undefined ? { body, headers: { 'Content-Type': contentType } } : {}) });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
}

const CM = '/api/v1/namespaces/default/configmaps';

describe('API server bad input', () => {
  it.each([
    ['malformed JSON', 'POST', CM, '{"metadata": {', 400, 'BadRequest'],
    ['an object without a name', 'POST', CM, '{"metadata": {}}', 422, 'Invalid'],
    ['a name that is not DNS-1123', 'POST', CM, '{"metadata": {"name": "Not_Valid"}}', 422, 'Invalid'],
    ['the wrong kind for the path', 'POST', CM, '{"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "x"}}', 400, 'BadRequest'],
    ['the wrong apiVersion for the path', 'POST', CM, '{"kind": "ConfigMap", "apiVersion": "apps/v1", "metadata": {"name": "x"}}', 400, 'BadRequest'],
    ['a body that is a list', 'POST', CM, '[1, 2]', 400, 'BadRequest'],
    ['malformed YAML', 'POST', CM, 'metadata: {name: x\n  bad', 400, 'BadRequest', 'application/yaml'],
    ['a malformed server-side apply body', 'PATCH', '/api/v1/namespaces/default', 'metadata:\n\t- x', 400, 'BadRequest', 'application/apply-patch+yaml'],
    ['an unknown resource', 'GET', '/api/v1/widgets', undefined, 404, 'NotFound'],
    ['an unknown group', 'GET', '/apis/nope.example.com/v1/things', undefined, 404, 'NotFound'],
    ['a missing namespace', 'POST', '/api/v1/namespaces/nowhere/configmaps', '{"metadata": {"name": "x"}}', 404, 'NotFound'],
    ['a bad label selector', 'GET', `${CM}?labelSelector=${encodeURIComponent('a in b')}`, undefined, 400, 'BadRequest'],
    ['an unsupported field selector', 'GET', `${CM}?fieldSelector=spec.foo%3Dbar`, undefined, 400, 'BadRequest'],
    ['a merge patch of a missing object', 'PATCH', `${CM}/missing`, '{}', 404, 'NotFound', 'application/merge-patch+json'],
    ['a patch in an unknown content type', 'PATCH', '/api/v1/namespaces/default', '{}', 415, 'UnsupportedMediaType', 'text/plain'],
    ['a JSON patch whose test fails', 'PATCH', '/api/v1/namespaces/default', '[{"op":"test","path":"/metadata/name","value":"other"}]', 422, 'Invalid', 'application/json-patch+json'],
    ['a deployment whose selector does not match its template', 'POST', '/apis/apps/v1/namespaces/default/deployments', JSON.stringify({ metadata: { name: 'd' }, spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }), 422, 'Invalid'],
  ] as Array<[string, string, string, string | undefined, number, string, string?]>)('rejects %s', async (_label, method, path, body, status, reason, contentType) => {
    const before = await call('GET', CM);

    const response = await call(method, path, body, contentType);

    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code: status });
    expect((await call('GET', CM)).body['items']).toEqual(before.body['items']);
  });

  it('rejects bodies over 3 MiB with 413 and stores nothing', async () => {
    const big = JSON.stringify({ metadata: { name: 'big' }, data: { blob: 'x'.repeat(3 * 1024 * 1024) } });

    const response = await call('POST', CM, big);

    expect(response.status).toBe(413);
    expect(response.body['reason']).toBe('RequestEntityTooLarge');
    expect((await call('GET', `${CM}/big`)).status).toBe(404);
  });

  it('omits empty labels and annotations, as the Go types do', async () => {
    const created = await call('POST', CM, '{"metadata": {"name": "bare", "labels": {}, "annotations": {}, "finalizers": []}}');
    const patched = await call('PATCH', `${CM}/bare`, '{"metadata": {"labels": {"a": "b"}}}', 'application/merge-patch+json');
    const emptied = await call('PATCH', `${CM}/bare`, '{"metadata": {"labels": {"a": null}}}', 'application/merge-patch+json');
    await call('DELETE', `${CM}/bare`);

    expect(created.body['metadata']).not.toHaveProperty('labels');
    expect(created.body['metadata']).not.toHaveProperty('annotations');
    expect(created.body['metadata']).not.toHaveProperty('finalizers');
    expect(patched.body['metadata']).toHaveProperty('labels', { a: 'b' });
    expect(emptied.body['metadata']).not.toHaveProperty('labels');
  });

  it('names the invalid field in the causes', async () => {
    const response = await call('POST', '/api/v1/namespaces/default/pods', '{"metadata": {"name": "p"}, "spec": {"containers": []}}');

    expect(response.status).toBe(422);
    expect(response.body['details']).toMatchObject({ name: 'p', kind: 'Pod', causes: [{ reason: 'FieldValueRequired', field: 'spec.containers' }] });
  });

  it('detects a stale resourceVersion as a 409 Conflict', async () => {
    const created = await call('POST', CM, '{"metadata": {"name": "cas"}}');
    const rv = (created.body['metadata'] as { resourceVersion: string }).resourceVersion;
    await call('PUT', `${CM}/cas`, JSON.stringify({ metadata: { name: 'cas', resourceVersion: rv }, data: { a: '1' } }));

    const stale = await call('PUT', `${CM}/cas`, JSON.stringify({ metadata: { name: 'cas', resourceVersion: rv }, data: { a: '2' } }));

    expect(stale.status).toBe(409);
    expect(stale.body['reason']).toBe('Conflict');
    expect(((await call('GET', `${CM}/cas`)).body['data'] as Record<string, string>)['a']).toBe('1');
  });

  it('ends a watch from a too-old resourceVersion with 410 Gone', async () => {
    for (let i = 0; i < 150; i++) await call('POST', CM, JSON.stringify({ metadata: { name: `churn-${i}` } }));

    const response = await fetch(`${cluster.url}${CM}?watch=true&resourceVersion=1`);
    const event = JSON.parse((await response.text()).trim()) as { type: string; object: Record<string, unknown> };

    expect(event.type).toBe('ERROR');
    expect(event.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('pages long lists with limit and continue', async () => {
    const first = await call('GET', `${CM}?limit=100`);
    const token = (first.body['metadata'] as { continue?: string }).continue;
    const second = await call('GET', `${CM}?limit=100&continue=${token ?? ''}`);

    const names = [...(first.body['items'] as Array<{ metadata: { name: string } }>), ...(second.body['items'] as Array<{ metadata: { name: string } }>)].map((i) => i.metadata.name);
    expect(token).toBeTypeOf('string');
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(151);
  });
});
