export * from './schema.js';
export { planStage, stageDiff, type NamespaceState, type StagePlan } from './stage.js';
export { decideStage, gateOutcome, type GateHistory, type GateLimits, type GateOutcome, type RolloutDecision, type RolloutVerdict } from './decide.js';
export { planUpdates, type FileUpdate, type RenderInput } from './render.js';
export { applyUpdates } from './apply.js';
export { enactStage, type EnactedChange } from './enact.js';
export { checkRequirements, type RequirementCheck } from './requirements.js';
export { runGate, type GateEnvironment, type GateEvent, type GateInput, type GateRun } from './gate.js';
