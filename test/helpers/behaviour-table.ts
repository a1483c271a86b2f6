import { describe, expect, it } from 'vitest';
import type { Topology } from '../../model/topology.js';
import { Lab } from './twin-lab.js';

/** One documented behaviour of a mesh, run through the embedded cluster, its traffic and its metrics. */
export interface BehaviourCase {
  name: string;
  mesh: 'istio' | 'linkerd';
  mode?: 'sidecar' | 'ambient';
  certLifetimeMs?: number;
  tickMs?: number;
  serverErrorRate?: string;
  topology?: Topology;
  /** Where the behaviour is documented: a docs page or a source file (with line where there is one). */
  source: string;
  run: (lab: Lab) => Promise<void>;
}

/** Runs a table of behaviour cases, each on a fresh lab. */
export function behaviourTable(title: string, cases: BehaviourCase[]): void {
  describe(title, () => {
    it('cites a source for every case', () => {
      expect(cases.filter((c) => c.source.length <= 10).map((c) => c.name)).toEqual([]);
    });
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const lab = await Lab.start(c.mesh, {
        ...(c.mode ? { mode: c.mode } : {}),
        ...(c.certLifetimeMs ? { certLifetimeMs: c.certLifetimeMs } : {}),
        ...(c.tickMs ? { tickMs: c.tickMs } : {}),
        ...(c.serverErrorRate ? { serverErrorRate: c.serverErrorRate } : {}),
        ...(c.topology ? { topology: c.topology } : {}),
      });
      try {
        await c.run(lab);
      } finally {
        await lab.close();
      }
    });
  });
}
