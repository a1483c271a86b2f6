import type { SliKey } from '../../model/index.js';
import type { Measurement, SliSource, Window } from '../types.js';

/** Where no metrics can be read: every measurement is an error that says why, so gates are inconclusive, never passed. */
export class NoSource implements SliSource {
  readonly name = 'none';

  constructor(private readonly why: (sli: SliKey) => string) {}

  async measure(sli: SliKey, _scope: unknown, window: Window): Promise<Measurement> {
    return { value: Number.NaN, samples: 0, window, source: 'none', error: this.why(sli) };
  }
}
