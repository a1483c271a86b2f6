import { describe, expect, it } from 'vitest';
import { notModelledLines } from './not-modelled-lines.js';

describe('not-modelled lines in run summaries', () => {
  it('counts them, names the first few and sends the reader to the record for the rest', () => {
    expect(notModelledLines(['a', 'b', 'c', 'd'])).toEqual(['  not modelled (4, the verdict does not account for them):', '    a', '    b', '    c', '    … 1 more in the record']);
    expect(notModelledLines(['only'])).toEqual(['  not modelled (1, the verdict does not account for it):', '    only']);
    expect(notModelledLines([])).toEqual([]);
  });
});
