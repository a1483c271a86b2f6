import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';

describe('VirtualClock', () => {
  it('fires timers in due order, ties in the order they were set, each followed by afterEach', async () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    clock.afterEach = () => fired.push('|');
    clock.setTimer(30, () => fired.push('c'));
    clock.setTimer(10, () => fired.push('a1'));
    clock.setTimer(10, () => fired.push('a2'));
    clock.setTimer(20, () => fired.push('b'));
    await clock.advance(25);
    expect(fired).toEqual(['a1', '|', 'a2', '|', 'b', '|']);
    expect(clock.now()).toBe(25);
    expect(clock.pending()).toBe(1);
  });

  it('fires timers set by a firing timer when they fall within the advance, and skips cancelled ones', async () => {
    const clock = new VirtualClock(0);
    const fired: number[] = [];
    const cancelled = clock.setTimer(5, () => fired.push(-1));
    clock.setTimer(10, () => {
      fired.push(clock.now());
      clock.setTimer(0, () => fired.push(clock.now() + 0.5));
      clock.setTimer(100, () => fired.push(clock.now()));
    });
    cancelled.cancel();
    cancelled.cancel();
    await clock.advance(50);
    expect(fired).toEqual([10, 10.5]);
    expect(clock.pending()).toBe(1);
    await clock.advance(100);
    expect(fired).toEqual([10, 10.5, 110]);
    expect(clock.pending()).toBe(0);
  });

  it('keeps its order across thousands of timers set and cancelled again (renewals rescheduled)', async () => {
    const clock = new VirtualClock(0);
    const fired: number[] = [];
    const handles = Array.from({ length: 5_000 }, (_, i) => clock.setTimer((i * 7919) % 5_000, () => fired.push(i)));
    for (const [i, handle] of handles.entries()) if (i % 3 !== 0) handle.cancel();
    expect(clock.pending()).toBe(Math.ceil(5_000 / 3));
    await clock.advance(5_000);
    const expected = handles.map((_, i) => i).filter((i) => i % 3 === 0).sort((a, b) => (a * 7919) % 5_000 - (b * 7919) % 5_000 || a - b);
    expect(fired).toEqual(expected);
  });
});
