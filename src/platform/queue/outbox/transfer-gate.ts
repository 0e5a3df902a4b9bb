/**
 * Relays move rows from the outbox to the inner queue (publish, then delete); a row is in both
 * places for a moment. Transfers run side by side; an inspection waits for those in progress and
 * holds new ones back, so that it sees each row of this process's relays in exactly one place.
 * A transfer that hangs (a broker that never confirms) holds an inspection up for at most
 * `maxWaitMs`; the inspection then goes ahead and may count that transfer's rows twice.
 */
export class TransferGate {
  private transfers = 0;
  private drained: (() => void) | undefined;
  private inspection: Promise<void> | undefined;

  constructor(private readonly maxWaitMs: number) {}

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
      if (this.transfers > 0) await this.drain();
      return await work();
    } finally {
      this.drained = undefined;
      this.inspection = undefined;
      done();
    }
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.maxWaitMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
