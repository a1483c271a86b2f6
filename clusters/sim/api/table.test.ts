import { describe, expect, it } from 'vitest';
import { deepFreeze } from './store.js';
import { objectJson, tableJson, toTable } from './table.js';
import type { KubeObject } from './types.js';

const now = Date.UTC(2026, 0, 1, 1);
const pod = deepFreeze({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'cart-1', namespace: 'shop', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z', labels: { app: 'cart' }, managedFields: [{ manager: 'meshdrill' }] },
  spec: { nodeName: 'sim-worker', containers: [{ name: 'app', image: 'cart:1' }, { name: 'istio-proxy', image: 'proxyv2' }] },
  status: { phase: 'Running', podIP: '10.244.1.3', containerStatuses: [{ name: 'app', ready: true, restartCount: 1 }, { name: 'istio-proxy', ready: false, restartCount: 0, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
}) as KubeObject;
const widget = deepFreeze({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'shop', creationTimestamp: '2026-01-01T00:59:30Z' }, spec: { size: 3 } }) as KubeObject;

describe('tableJson', () => {
  it('is the text of the Table toTable builds, for every includeObject and a continue token', () => {
    for (const [kind, objects] of [['Pod', [pod, pod]], ['Widget', [widget]], ['Pod', []]] as const) {
      for (const include of ['None', 'Metadata', 'Object']) {
        for (const extra of [{}, { continue: 'abc' }]) {
          expect(tableJson(kind, [...objects], now, '42', include, extra)).toBe(JSON.stringify(toTable(kind, [...objects], now, '42', include, extra)));
        }
      }
    }
  });

  it('prints the cells again on every request (ages move) while it keeps each stored object once', () => {
    const early = JSON.parse(tableJson('Pod', [pod], now, '1', 'Metadata')) as { rows: Array<{ cells: unknown[] }> };
    const late = JSON.parse(tableJson('Pod', [pod], now + 3 * 3_600_000, '1', 'Metadata')) as { rows: Array<{ cells: unknown[] }> };
    expect(early.rows[0]!.cells[4]).toBe('60m');
    expect(late.rows[0]!.cells[4]).toBe('4h');
    expect(objectJson(pod)).toBe(JSON.stringify(pod));
    expect(objectJson(pod)).toBe(objectJson(pod));
  });
});
