import { describe, expect, it } from 'vitest';
import { parseObjective } from './objective.js';

describe('slo/objective', () => {
  it.each([
    ['>= 99.9%', { comparator: '>=', baseline: false, value: 99.9, unit: 'percent' }],
    ['<= 250ms', { comparator: '<=', baseline: false, value: 250, unit: 'duration' }],
    ['< 1.5s', { comparator: '<', baseline: false, value: 1500, unit: 'duration' }],
    ['<= baseline + 5ms', { comparator: '<=', baseline: true, value: 5, unit: 'duration' }],
    ['>= baseline - 0.1%', { comparator: '>=', baseline: true, value: -0.1, unit: 'percent' }],
    ['<= baseline + 10%', { comparator: '<=', baseline: true, value: 10, unit: 'percent' }],
    ['<= baseline', { comparator: '<=', baseline: true, value: 0, unit: 'number' }],
    ['<= 0.2', { comparator: '<=', baseline: false, value: 0.2, unit: 'number' }],
    ['<= 128MiB', { comparator: '<=', baseline: false, value: 128 * 1024 * 1024, unit: 'bytes' }],
    ['>=99%', { comparator: '>=', baseline: false, value: 99, unit: 'percent' }],
  ])('parses %j', (text, expected) => {
    const result = parseObjective(text);

    expect(result).toEqual({ ok: true, objective: { text, ...expected } });
  });

  it.each([
    ['>= 120%', 'expected a percentage from 0% to 100%'],
    ['<= -5ms', 'expected a threshold of zero or more'],
    ['<= baseline + -5ms', 'write the sign before the delta, e.g. "baseline - 5ms"'],
    ['99.9%', 'expected an objective like ">= 99.9%", "<= 250ms" or "<= baseline + 5ms"'],
    ['== 5ms', 'expected an objective like ">= 99.9%", "<= 250ms" or "<= baseline + 5ms"'],
    ['<= fast', 'expected an objective like ">= 99.9%", "<= 250ms" or "<= baseline + 5ms"'],
  ])('rejects %j', (text, message) => {
    expect(parseObjective(text)).toEqual({ ok: false, message });
  });
});
