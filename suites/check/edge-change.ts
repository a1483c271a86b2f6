/** What check says of one call the change touched: how it was and is, and why (causes.ts). */
export interface EdgeChange {
  from: string;
  to: string;
  before: string;
  after: string;
  broken: boolean;
  /** The changed objects that govern this call, at their first differing field (causes.ts). */
  causes?: Cause[];
  /** The broken call upstream whose failure took this call's traffic ("from → to"). */
  downstreamOf?: string;
}

/** A changed object that governs a call, at the field that differs. */
export interface Cause {
  file: string;
  line: number;
  col: number;
  /** "PeerAuthentication payments/default". */
  object: string;
  /** The first field that differs, as a path ("spec.mtls.mode"); "" for a whole object added or deleted. */
  field: string;
  change: 'added' | 'changed' | 'deleted';
}
