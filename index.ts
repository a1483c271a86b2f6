// meshdrill as a library: what a program may build on. The CLI (`meshdrill …`) is the same code.
// Everything else is internal and may change between minor versions.

/** Config repos: load, validate and read meshdrill's documents, with file:line diagnostics. */
export { assertNoConfigErrors, documentsOfKind, hasErrors, loadConfig, loadConfigText, renderDiagnostic, jsonSchemaFor, KIND_NAMES, type ConfigRepo, type Diagnostic, type KindName, type LoadedDocument } from './harness/config/index.js';
/** The document schemas (zod) and their types. */
export { API_VERSION, Topology, type TopologyService, type TopologyNamespace } from './model/index.js';
/** The embedded cluster: a Kubernetes API server with controllers and virtual time, for real clients. */
export { startSimCluster, attachMeshTwin, TrafficModel, createKubeClient, type SimCluster, type KubeClient, type KubeObject } from './clusters/index.js';
/** Run records: the JSON a game day or a gate writes, parsed and checked. */
export { RUN_RECORD_VERSION, parseRunRecord, type RunRecord, type StageRecord } from './reports/index.js';
/** meshdrill's errors, each with its exit code. */
export { ConfigError, ClusterError } from './core/index.js';
/** The command line, in process: `runCli(['check', '.'])`. */
export { runCli } from './harness/cli/main.js';
