import { escapeXml as x } from './escape.js';
import { DRY_RUN_BANNER } from './html.js';
import type { RunRecord } from './run-record.js';

interface TestCase {
  name: string;
  classname: string;
  seconds: number;
  failure?: { message: string; text: string };
  error?: string;
  skipped?: string;
}

interface TestSuite {
  name: string;
  timestamp: string;
  cases: TestCase[];
}

/**
 * JUnit XML as CI systems read it (the Ant/Jenkins schema): a testsuite per stage, per fault and
 * for the hypotheses; a testcase per gate, hypothesis and assertion; failures say measured vs
 * objective.
 */
export function renderJunit(record: RunRecord): string {
  const suites: TestSuite[] = [];
  const cls = `meshdrill.${record.kind}`;
  // A dry run proves nothing: CI shows it as skipped, never as passed.
  if (record.outcome?.verdict === 'dry-run') suites.push({ name: 'dry run', timestamp: record.startedAt, cases: [{ name: 'faults injected', classname: `${cls}.dry-run`, seconds: 0, skipped: DRY_RUN_BANNER }] });
  if (record.outcome?.verdict === 'steady-state-not-met') suites.push({ name: 'steady state', timestamp: record.startedAt, cases: [{ name: 'the hypotheses hold before the first fault', classname: `${cls}.steady-state`, seconds: 0, failure: { message: record.outcome.reasons[0] ?? 'the steady state did not hold', text: record.outcome.reasons.join('\n') } }] });
  if (record.gates.length || record.requirements.length) {
    const stage = record.decision?.fromStage ?? record.inputs.stage ?? 0;
    suites.push({
      name: `stage ${stage}`,
      timestamp: record.startedAt,
      cases: [
        ...record.gates.map((g): TestCase => {
          const last = g.measurements.at(-1);
          const seconds = last ? (Date.parse(last.window.to) - Date.parse(g.measurements[0]!.window.from)) / 1000 : 0;
          const message = `${g.name}: ${last?.reason ?? 'not measured'} (objective ${g.objective}; ${g.reason})`;
          return { name: g.name, classname: `${cls}.gates`, seconds, ...(g.state === 'failed' ? { failure: { message, text: g.measurements.map((m) => `${m.at} ${m.verdict}: ${m.reason}`).join('\n') } } : g.state === 'passed' ? {} : { error: message }) };
        }),
        ...record.requirements.map((r): TestCase => ({ name: `requires ${r.requirement}`, classname: `${cls}.requirements`, seconds: 0, ...(r.holds ? {} : { failure: { message: r.reason, text: r.reason } }) })),
      ],
    });
  }
  if (record.hypotheses?.length) {
    suites.push({
      name: 'hypotheses',
      timestamp: record.startedAt,
      cases: record.hypotheses.map((h): TestCase => {
        const failed = h.evaluations.filter((e) => e.verdict === 'Failed' || e.verdict === 'Error');
        if (h.outcome === 'inconclusive') return { name: h.name, classname: `${cls}.hypotheses`, seconds: 0, error: h.reason ?? 'inconclusive' };
        return { name: h.name, classname: `${cls}.hypotheses`, seconds: 0, ...(h.holds ? {} : { failure: { message: failed[0] ? `${failed[0].gate}: ${failed[0].reason} (${failed[0].phase} the faults)` : 'no successful evaluation', text: failed.map((e) => `${e.at} ${e.phase} ${e.gate}: ${e.reason}`).join('\n') } }) };
      }),
    });
  }
  for (const f of record.faults ?? []) {
    const seconds = f.revertedAt ? (Date.parse(f.revertedAt) - Date.parse(f.injectedAt)) / 1000 : 0;
    suites.push({
      name: `fault ${f.name}`,
      timestamp: f.injectedAt,
      cases: [
        { name: 'reverted cleanly', classname: `${cls}.faults`, seconds, ...(f.revertedAt === undefined ? { error: 'the fault was not reverted' } : f.leftovers.length ? { failure: { message: `leftovers: ${f.leftovers.join(', ')}`, text: f.changes.join('\n') } } : {}) },
      ],
    });
  }
  if (record.assertions?.length) {
    suites.push({
      name: 'assertions',
      timestamp: record.startedAt,
      cases: record.assertions.map((a): TestCase => ({ name: `step ${a.step + 1}: ${a.evaluation.gate}`, classname: `${cls}.assertions`, seconds: 0, ...(a.evaluation.verdict === 'Successful' ? {} : { failure: { message: a.evaluation.reason, text: a.evaluation.reason } }) })),
    });
  }
  const count = (s: TestSuite) => ({ tests: s.cases.length, failures: s.cases.filter((c) => c.failure).length, errors: s.cases.filter((c) => c.error).length, skipped: s.cases.filter((c) => c.skipped).length, time: s.cases.reduce((t, c) => t + c.seconds, 0) });
  const totals = suites.map(count).reduce((a, b) => ({ tests: a.tests + b.tests, failures: a.failures + b.failures, errors: a.errors + b.errors, time: a.time + b.time }), { tests: 0, failures: 0, errors: 0, time: 0 });
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="meshdrill ${x(record.kind)} ${x(record.runId)}" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" time="${totals.time.toFixed(3)}">`];
  for (const [i, s] of suites.entries()) {
    const c = count(s);
    lines.push(`  <testsuite name="${x(s.name)}" id="${i}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${c.time.toFixed(3)}" timestamp="${x(s.timestamp.replace(/\.\d+Z$/, '').replace(/Z$/, ''))}" hostname="${x(record.cluster.provider)}">`);
    for (const t of s.cases) {
      const open = `    <testcase name="${x(t.name)}" classname="${x(t.classname)}" time="${t.seconds.toFixed(3)}"`;
      if (t.failure) lines.push(`${open}>`, `      <failure message="${x(t.failure.message)}" type="objective">${x(t.failure.text)}</failure>`, '    </testcase>');
      else if (t.error) lines.push(`${open}>`, `      <error message="${x(t.error)}" type="inconclusive">${x(t.error)}</error>`, '    </testcase>');
      else if (t.skipped) lines.push(`${open}>`, `      <skipped message="${x(t.skipped)}"/>`, '    </testcase>');
      else lines.push(`${open}/>`);
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
