import { describe, expect, it } from 'vitest';
import { copyJson, deepFreeze } from './store.js';

describe('copyJson', () => {
  it('copies JSON data deeply, as structuredClone does, and the copy is free to change', () => {
    const stored = deepFreeze({ metadata: { name: 'a', labels: { app: 'a' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }], nodeName: null, hole: undefined } });
    const copy = copyJson(stored);
    expect(copy).toEqual(structuredClone(stored));
    expect(Object.keys(copy.spec)).toEqual(['containers', 'nodeName', 'hole']);
    copy.spec.containers[0]!.ports[0]!.containerPort = 81;
    copy.metadata.labels.app = 'b';
    expect(stored.spec.containers[0]!.ports[0]!.containerPort).toBe(80);
    expect(stored.metadata.labels.app).toBe('a');
  });

  it('keeps a "__proto__" key from JSON as data and never as the prototype', () => {
    const hostile = JSON.parse('{"metadata":{"__proto__":{"polluted":true},"name":"x"}}') as { metadata: Record<string, unknown> };
    const copy = copyJson(hostile);
    expect(Object.getPrototypeOf(copy.metadata)).toBe(Object.prototype);
    expect((copy.metadata as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(copy.metadata)).toEqual(['__proto__', 'name']);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(hostile));
  });

  it('hands what is not JSON data (a Date) to structuredClone', () => {
    const when = new Date(0);
    const copy = copyJson({ at: when });
    expect(copy.at).toBeInstanceOf(Date);
    expect(copy.at).not.toBe(when);
    expect(copy.at.getTime()).toBe(0);
  });
});
