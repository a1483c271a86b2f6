import { describe, expect, it } from 'vitest';
import { closest, didYouMean } from './suggest.js';

describe('harness/config/suggest', () => {
  it.each([
    ['bakee', 'bake'],
    ['bkae', 'bake'],
    ['ca-los', 'ca-loss'],
    ['STRICt', 'STRICT'],
    ['namespace', 'namespaces'],
  ])('suggests the closest name for %s', (input, expected) => {
    expect(closest(input, ['bake', 'ca-loss', 'STRICT', 'namespaces', 'gates'])).toBe(expected);
  });

  it('suggests nothing for a name far from every candidate', () => {
    expect(didYouMean('banana', ['bake', 'gates'])).toBe('');
  });
});
