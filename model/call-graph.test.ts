import { describe, expect, it } from 'vitest';
import { callOrder } from './call-graph.js';

describe('model/call-graph', () => {
  it('orders callers before callees', () => {
    const { order, cycle } = callOrder(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]));

    expect(order).toEqual(['a', 'b', 'c']);
    expect(cycle).toBeUndefined();
  });

  it('finds a cycle and says where it closes', () => {
    expect(callOrder(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])).cycle).toEqual(['a', 'b', 'c', 'a']);
  });

  it('walks a chain of 100,000 services without recursion', () => {
    const chain = new Map(Array.from({ length: 100_000 }, (_, i) => [`s${i}`, i < 99_999 ? [`s${i + 1}`] : []] as [string, string[]]));

    const { order } = callOrder(chain);

    expect(order[0]).toBe('s0');
    expect(order.at(-1)).toBe('s99999');
  });
});
