export { checkoutReady, commitStageChange, gitAt, lastRevertTime, stageBranch, stageLiveSince, MESHDRILL_AUTHOR, type BranchResult, type StageChange } from './git.js';
export { escapeMarkdown, readStateMarker, stageChangeBody } from './body.js';
export { writeLocalPullRequest } from './local-forge.js';
