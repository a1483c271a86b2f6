import { describe, expect, it } from 'vitest';
import { Duration, formatDuration, parseDuration, parsePercent, Percent } from './quantity.js';

describe('model/quantity', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['2d', 172_800_000],
    ['0s', 0],
  ])('parses the duration %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 'banana', '-5m', '5 m', 'm5', '1h 30m'])('rejects %j as a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
    expect(Duration.safeParse(text).success).toBe(false);
  });

  it.each([
    [0, '0s'],
    [250, '250ms'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [86_400_000 + 1_500, '1d1.5s'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it('accepts percentages from 0% to 100% only', () => {
    expect(parsePercent('99.9%')).toBe(99.9);
    expect(Percent.safeParse('100%').success).toBe(true);
    expect(Percent.safeParse('100.1%').success).toBe(false);
    expect(Percent.safeParse('50').success).toBe(false);
    expect(Percent.safeParse(50).success).toBe(false);
  });
});
