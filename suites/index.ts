export * from './schema.js';
export { behaviourOf, diffBehaviour, diffSlos, type EdgeChange, type SloChange } from './check/behaviour.js';
export { CheckConfig, blocks, ruleSettings, type RuleSettings } from './check/config.js';
export { loadManifests } from './check/manifests.js';
export { runRules, type Finding } from './check/rules.js';
export { validateManifest } from './check/schema.js';
export { embeddedCluster, existingCluster, k3sCluster, kindCluster, namespacesGone, servedSimCluster, type ClusterHandle } from './cluster-handle.js';
export { runGameDay, type GameDayRecord } from './gameday.js';
export { runSuite } from './suite.js';
