/**
 * Relays move rows from the outbox to the inner queue (publish, then delete); a row is in both
 * places for a moment. Transfers run side by side; an inspection waits for those in progress and
 * holds new ones back, so that it sees each row of this process's relays in exactly one place.
 */
export class TransferGate {
  private transfers = 0;
  private drained: (() => void) | undefined;
  private inspection: Promise<void> | undefined;

  async transfer<T>(work: () => Promise<T>): Promise<T> {
    while (this.inspection) await this.inspection;
    this.transfers += 1;
    try {
      return await work();
    } finally {
      this.transfers -= 1;
      if (this.transfers === 0) this.drained?.();
    }
  }

  async inspect<T>(work: () => Promise<T>): Promise<T> {
    while (this.inspection) await this.inspection;
    let done!: () => void;
    this.inspection = new Promise((resolve) => (done = resolve));
    try {
      if (this.transfers > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      return await work();
    } finally {
      this.drained = undefined;
      this.inspection = undefined;
      done();
    }
  }
}
