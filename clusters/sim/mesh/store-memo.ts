/**
 * Something worked out from the cluster's objects, kept while the store's resourceVersion stays
 * where it was (every write moves it), and worked out again on first use after.
 */
export class StoreMemo<T> {
  private revision = -1;
  private value: T | undefined;

  constructor(private readonly make: () => T) {}

  /** The value for the store at `revision`. */
  at(revision: number): T {
    if (revision !== this.revision || this.value === undefined) {
      this.value = this.make();
      this.revision = revision;
    }
    return this.value;
  }
}
