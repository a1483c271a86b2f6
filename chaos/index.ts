export * from './schema.js';
export { ChangeExecutor, RUN_ID_LABEL, describeChange, describeRef, type Change, type NodeControl, type ObjectRef, type Undo } from './changes.js';
export { planFault, type FaultContext, type FaultPlan, type Probe } from './faults.js';
export { injectFault, replayJournal, type InjectedFault, type RevertResult } from './inject.js';
export { Journal, journalPath, listJournals, pendingUndos, readJournal, type JournalEntry, type PendingUndo } from './journal.js';
