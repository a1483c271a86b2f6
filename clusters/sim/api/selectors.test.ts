import { describe, expect, it } from 'vitest';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';

const labels = { app: 'web', tier: 'front', 'istio.io/rev': 'canary' };

describe('clusters/sim/api/selectors', () => {
  it.each([
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['tier in (front, back)', true],
    ['tier notin (front)', false],
    ['istio.io/rev', true],
    ['!istio.io/rev', false],
    ['!legacy', true],
    ['app=web,tier in (back)', false],
    ['missing!=x', true],
    ['', true],
  ])('label selector %j matches: %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('rejects selectors it cannot parse, as the API server does', () => {
    expect(() => parseLabelSelector('a in b')).toThrow(/unable to parse requirement/);
  });

  it('supports the field selectors each resource has, and refuses others', () => {
    const pod = { metadata: { name: 'p', namespace: 'shop' }, status: { phase: 'Running' } };

    expect(matchesFields(parseFieldSelector('status.phase=Running,metadata.namespace=shop', 'pods'), pod)).toBe(true);
    expect(matchesFields(parseFieldSelector('status.phase!=Running', 'pods'), pod)).toBe(false);
    expect(() => parseFieldSelector('status.phase=Running', 'configmaps')).toThrow('field label not supported: status.phase');
  });
});
