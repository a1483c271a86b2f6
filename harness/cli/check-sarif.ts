import { RULES, type EdgeChange, type Finding } from '../../suites/index.js';
import { VERSION } from './version.js';

// SARIF 2.1.0 (OASIS) for GitHub code scanning and other SARIF readers: one run, meshdrill's rules
// as the driver's rules, a result per finding at its file, line and column. With --base, a
// finding the base has too is baselineState "unchanged" and the rest "new". Calls the change
// breaks are results of rule MD201 at the object that decided them, when known.

export interface SarifInput {
  findings: Finding[];
  changes: EdgeChange[];
  judgedChange: boolean;
}

const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const;
const CALL_BROKEN = { id: 'MD201', name: 'call-broken-by-change', doc: 'A call that worked on the base fails on the head, as the embedded cluster played both.' };

export function sarif({ findings, changes, judgedChange }: SarifInput, isBlocking: (f: Finding) => boolean): Record<string, unknown> {
  const rules = [...RULES.map((r) => ({ id: r.id, name: r.name, doc: r.doc, level: LEVEL[r.severity] })), { ...CALL_BROKEN, level: 'error' as const }];
  const results: Array<Record<string, unknown>> = findings.map((f) => ({
    ruleId: f.rule,
    ruleIndex: rules.findIndex((r) => r.id === f.rule),
    level: isBlocking(f) ? 'error' : f.existing ? 'note' : LEVEL[f.severity],
    message: { text: f.message },
    ...(f.file ? { locations: [location(f.file, f.line ?? 1, f.col)] } : {}),
    ...(judgedChange ? { baselineState: f.existing ? 'unchanged' : 'new' } : {}),
  }));
  for (const c of changes.filter((c) => c.broken && !c.downstreamOf)) {
    results.push({
      ruleId: CALL_BROKEN.id,
      ruleIndex: rules.length - 1,
      level: 'error',
      message: { text: `${c.from} → ${c.to}: ${c.before} → ${c.after}` },
      ...(c.causes?.length ? { locations: c.causes.map((k) => location(k.file, k.line, k.col)) } : {}),
      baselineState: 'new',
    });
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'meshdrill',
            version: VERSION,
            rules: rules.map((r) => ({ id: r.id, name: r.name, shortDescription: { text: r.doc }, defaultConfiguration: { level: r.level } })),
          },
        },
        columnKind: 'unicodeCodePoints',
        results,
      },
    ],
  };
}

function location(file: string, line: number, col: number | undefined): Record<string, unknown> {
  return { physicalLocation: { artifactLocation: { uri: file.split(' (')[0] }, region: { startLine: line, ...(col ? { startColumn: col } : {}) } } };
}
