// grafana/k6 errext/exitcodes/codes.go (../shared/reference/mesh-facts.md §4.1).
export const K6_THRESHOLDS_FAILED = 99;

const MEANINGS: Record<number, string> = {
  97: 'cloud test run failed',
  99: 'thresholds have failed',
  100: 'setup timed out',
  101: 'teardown timed out',
  102: 'generic timeout',
  103: 'script stopped from the REST API',
  104: 'invalid config',
  105: 'external abort',
  106: 'cannot start the REST API',
  107: 'script exception',
  108: 'script aborted',
  109: 'Go panic',
  110: 'marked as failed',
};

export function k6ExitMeaning(code: number | null): string {
  if (code === null) return 'killed by a signal';
  return MEANINGS[code] ?? `exit code ${code}`;
}
