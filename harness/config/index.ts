export { formatPath, renderDiagnostic, type Diagnostic } from './diagnostics.js';
export { KIND_NAMES, KINDS, isKindName, type KindName, type DocumentOfKind } from './kinds.js';
export { assertNoConfigErrors, documentsOfKind, hasErrors, listYamlFiles, loadConfig, loadConfigText, MAX_CONFIG_BYTES, type ConfigRepo, type ForeignDocument } from './load.js';
export { jsonSchemaFor } from './json-schema.js';
export type { LoadedDocument } from './validate.js';
