import { describe, expect, it } from 'vitest';
import { globMatcher } from './glob.js';

describe('globMatcher', () => {
  it.each([
    ['charts/**', 'charts/web/templates/deploy.yaml', true],
    ['charts/**', 'apps/charts/x.yaml', false],
    ['**/values.yaml', 'values.yaml', true],
    ['**/values.yaml', 'apps/web/values.yaml', true],
    ['*.yaml', 'a.yaml', true],
    ['*.yaml', 'dir/a.yaml', false],
    ['ci/', 'ci/lint.yaml', true],
    ['overlays/{prod,staging}/*.yaml', 'overlays/staging/pa.yaml', true],
    ['overlays/{prod,staging}/*.yaml', 'overlays/dev/pa.yaml', false],
    ['base', 'base/deploy.yaml', true],
    ['file?.yml', 'file1.yml', true],
    ['a.b', 'axb', false],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(globMatcher(pattern)(path)).toBe(expected);
  });
});
