/** What a run reports as it goes. The terminal's live step list implements it in harness/. */
export interface Progress {
  stepStarted(label: string): void;
  stepFinished(label: string, status: string, detail: string): void;
  /** Something to show under the current step (a fault's plan, an abort). */
  note(message: string): void;
  close(): void;
}
