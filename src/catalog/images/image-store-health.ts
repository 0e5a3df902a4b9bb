import { ImageStoreError } from './image-files.js';
import { ImageStoreUnavailableError } from './image-store.js';

/**
 * An image store's writability, for readiness probes: the outcome of the last write answers for
 * `ttlMs`; past that, one probe write runs (shared by the checks that arrive meanwhile).
 */
export class WriteHealth {
  /** The outcome of the last write, when it was known (performance.now()). */
  private last: { at: number; error?: ImageStoreError } | undefined;
  private probing: Promise<void> | undefined;

  constructor(
    private readonly ttlMs: number,
    private readonly probe: () => Promise<void>,
  ) {}

  succeeded(): void {
    this.last = { at: performance.now() };
  }

  failed(error: ImageStoreError): void {
    this.last = { at: performance.now(), error };
  }

  /** Runs a write; its outcome becomes the last one, a failure as `asFailure` makes it (and rejects with that). */
  async track<T>(operation: () => Promise<T>, asFailure: (error: unknown) => ImageStoreError): Promise<T> {
    let result: T;
    try {
      result = await operation();
    } catch (error) {
      const failure = asFailure(error);
      this.failed(failure);
      throw failure;
    }
    this.succeeded();
    return result;
  }

  async check(): Promise<void> {
    const last = this.last;
    if (last && performance.now() - last.at < this.ttlMs) {
      if (last.error) throw last.error;
      return;
    }
    this.probing ??= this.runProbe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async runProbe(): Promise<void> {
    try {
      await this.probe();
    } catch (error) {
      const failure = error instanceof ImageStoreError ? error : new ImageStoreUnavailableError('write probe', error);
      this.failed(failure);
      throw failure;
    }
    this.succeeded();
  }
}
