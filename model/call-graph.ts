/**
 * Order over a call graph without recursion: a topology may chain thousands of services, and a
 * walk that recursed once per hop would overflow the stack on a long chain.
 */
export interface CallOrder {
  /** Every service before the services it calls (callers first). */
  order: string[];
  /** A cycle, when there is one: the first found, ending where it starts. */
  cycle?: string[];
}

/** Depth-first, iteratively: post-order reversed is callers before callees; a back edge is a cycle. */
export function callOrder(calls: ReadonlyMap<string, readonly string[]>): CallOrder {
  const state = new Map<string, 'open' | 'done'>();
  const post: string[] = [];
  let cycle: string[] | undefined;
  const nodes = new Set<string>([...calls.keys(), ...[...calls.values()].flat()]);
  for (const start of nodes) {
    if (state.has(start)) continue;
    // The path from `start` to the node being expanded, each with the next callee to look at.
    const path: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    state.set(start, 'open');
    while (path.length > 0) {
      const top = path[path.length - 1]!;
      const callees = calls.get(top.node) ?? [];
      if (top.next < callees.length) {
        const callee = callees[top.next++]!;
        const seen = state.get(callee);
        if (seen === undefined) {
          state.set(callee, 'open');
          path.push({ node: callee, next: 0 });
        } else if (seen === 'open' && !cycle) {
          const from = path.findIndex((p) => p.node === callee);
          cycle = [...path.slice(from).map((p) => p.node), callee];
        }
        continue;
      }
      state.set(top.node, 'done');
      post.push(top.node);
      path.pop();
    }
  }
  return { order: post.reverse(), ...(cycle ? { cycle } : {}) };
}

/**
 * Depth-first post-order from `roots` in order, following `next` (each node after everything it
 * leads to), iteratively. Nodes met again while still open (a cycle) are skipped.
 */
export function postOrder(roots: Iterable<string>, next: (node: string) => readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const root of roots) {
    if (seen.has(root)) continue;
    seen.add(root);
    const path: Array<{ node: string; edges: readonly string[]; at: number }> = [{ node: root, edges: next(root), at: 0 }];
    while (path.length > 0) {
      const top = path[path.length - 1]!;
      if (top.at < top.edges.length) {
        const node = top.edges[top.at++]!;
        if (!seen.has(node)) {
          seen.add(node);
          path.push({ node, edges: next(node), at: 0 });
        }
        continue;
      }
      out.push(top.node);
      path.pop();
    }
  }
  return out;
}
