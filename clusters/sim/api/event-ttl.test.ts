import { afterEach, describe, expect, it } from 'vitest';
import { startSimCluster, type SimCluster } from '../cluster.js';
import { EVENT_TTL_MS } from './event-ttl.js';

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const MIN = 60_000;

async function events(c: SimCluster, namespace: string): Promise<Array<{ metadata: { name: string; resourceVersion: string }; reason?: string }>> {
  const response = await fetch(`${c.url}/api/v1/namespaces/${namespace}/events`);
  return ((await response.json()) as { items: Array<{ metadata: { name: string; resourceVersion: string }; reason?: string }> }).items;
}

/** Reads a watch until `text` has come (what happened since the resourceVersion comes at once), then stops. */
async function watchUntil(url: string, text: string): Promise<string> {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal });
  const decoder = new TextDecoder();
  let seen = '';
  for await (const chunk of response.body!) {
    seen += decoder.decode(chunk as Uint8Array, { stream: true });
    if (seen.includes(text)) break;
  }
  abort.abort();
  return seen;
}

function event(name: string, reason: string) {
  return { metadata: { name, namespace: 'default' }, involvedObject: { kind: 'Pod', namespace: 'default', name: 'p' }, reason, message: reason, type: 'Normal' };
}

describe('events', () => {
  it('live for the API server\'s --event-ttl (1 h) after their last write, then are deleted where a watch sees it', async () => {
    cluster = await startSimCluster({ nodes: 1 });
    const post = (body: unknown) => fetch(`${cluster!.url}/api/v1/namespaces/default/events`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    expect((await post(event('first', 'Early'))).status).toBe(201);
    await cluster.advance(30 * MIN);
    expect((await post(event('second', 'Later'))).status).toBe(201);
    const before = await events(cluster, 'default');
    const since = Math.max(...before.map((e) => Number(e.metadata.resourceVersion)));
    await cluster.advance(29 * MIN);
    const stillThere = (await events(cluster, 'default')).map((e) => e.reason);

    await cluster.advance(2 * MIN);
    const afterFirst = (await events(cluster, 'default')).map((e) => e.reason);
    const watched = await watchUntil(`${cluster.url}/api/v1/namespaces/default/events?watch=true&resourceVersion=${since}`, '"DELETED"');
    await cluster.advance(30 * MIN);
    const afterBoth = (await events(cluster, 'default')).map((e) => e.reason);

    expect(EVENT_TTL_MS).toBe(60 * MIN);
    expect(stillThere).toEqual(expect.arrayContaining(['Early', 'Later']));
    expect(afterFirst).toContain('Later');
    expect(afterFirst).not.toContain('Early');
    expect(watched).toMatch(/"type":"DELETED".*"reason":"Early"/);
    expect(afterBoth).not.toContain('Later');
  });

  it('a written-again event lives an hour from that write', async () => {
    cluster = await startSimCluster({ nodes: 1 });
    const base = `${cluster.url}/api/v1/namespaces/default/events`;
    await fetch(base, { method: 'POST', body: JSON.stringify(event('again', 'Repeated')), headers: { 'Content-Type': 'application/json' } });
    await cluster.advance(40 * MIN);
    const patched = await fetch(`${base}/again`, { method: 'PATCH', body: JSON.stringify({ count: 2 }), headers: { 'Content-Type': 'application/merge-patch+json' } });
    expect(patched.status).toBe(200);

    await cluster.advance(50 * MIN);
    const at90 = (await events(cluster, 'default')).map((e) => e.reason);
    await cluster.advance(11 * MIN);
    const at101 = (await events(cluster, 'default')).map((e) => e.reason);

    expect(at90).toContain('Repeated');
    expect(at101).not.toContain('Repeated');
  });
});
