/**
 * How long a stopping worker still waits for its running handlers. A second `stop()` (a second
 * Ctrl-C) may bring the deadline closer, never push it back; the timer never keeps the process alive.
 */
export class StopDeadline {
  readonly reached: Promise<true>;
  private nearest: number;
  private timer: NodeJS.Timeout | undefined;
  private resolve!: (value: true) => void;

  constructor(ms: number) {
    this.nearest = Date.now() + Math.max(0, ms);
    this.reached = new Promise((resolve) => {
      this.resolve = resolve;
    });
    this.arm();
  }

  /** From now, wait at most `ms` more. */
  shorten(ms: number): void {
    const candidate = Date.now() + Math.max(0, ms);
    if (candidate >= this.nearest) return;
    this.nearest = candidate;
    this.arm();
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.resolve(true), Math.max(0, this.nearest - Date.now()));
    this.timer.unref();
  }
}
