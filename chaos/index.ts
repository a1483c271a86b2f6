export * from './schema.js';
export { ChangeExecutor, RUN_ID_LABEL, describeChange, describeRef, type Change, type NodeControl, type ObjectRef, type Undo, type UndoOutcome } from './changes.js';
export { planFault, type FaultContext, type FaultPlan, type Probe } from './faults.js';
export { injectFault, replayJournal, type InjectedFault, type ReplayResult, type RevertResult } from './inject.js';
export { Journal, journalPath, journalState, listJournals, pendingUndos, readJournal, type JournalEntry, type JournalHeader, type JournalState, type PendingUndo } from './journal.js';
