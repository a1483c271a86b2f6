/**
 * A run's output folder (run.json, report.html, diagnostics) holds this file. Config scans skip a
 * folder that has it: its YAML is what the cluster looked like, evidence, not config.
 */
export const RUN_OUTPUT_MARKER = '.meshdrill-run';
