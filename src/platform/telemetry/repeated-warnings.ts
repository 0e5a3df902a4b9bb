import type { Logger } from 'pino';

export interface RepeatedWarningsOptions {
  logger: Logger;
  /** The line written for each reason: the first occurrence, then the summary. */
  message: string;
  /** How often the counts so far are summarised; 0: only on `flush()`. Default 10 s. */
  flushEveryMs?: number;
  /** Examples kept per reason for its summary. Default 3. */
  examples?: number;
}

interface Tally {
  /** Occurrences since the last summary, not logged one by one. */
  repeats: number;
  examples: string[];
}

/**
 * Warnings that repeat with one reason for many subjects (the same refusal for every image URL of
 * a host) are written once per reason; the repeats are counted, and one summary line per reason
 * (count and a few examples) is written every `flushEveryMs` and on `flush()`. A reason seen again
 * after its summary is written again, then counted again: a long run shows it once per period.
 */
export class RepeatedWarnings {
  private readonly tallies = new Map<string, Tally>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly maxExamples: number;

  constructor(private readonly o: RepeatedWarningsOptions) {
    this.maxExamples = o.examples ?? 3;
    const every = o.flushEveryMs ?? 10_000;
    if (every > 0) {
      this.timer = setInterval(() => this.flush(), every);
      this.timer.unref();
    }
  }

  /** `subject` names what the warning is about (a URL); `fields` go on the first line only. */
  warn(reason: string, subject: string, fields: Record<string, unknown> = {}): void {
    const tally = this.tallies.get(reason);
    if (!tally) {
      this.tallies.set(reason, { repeats: 0, examples: [] });
      this.o.logger.warn({ ...fields, reason, subject }, `${this.o.message} (repeats of this reason are counted and summarised)`);
      return;
    }
    tally.repeats += 1;
    if (tally.examples.length < this.maxExamples) tally.examples.push(subject);
  }

  /** One line per reason that repeated since the last summary; reasons seen once need none. */
  flush(): void {
    for (const [reason, tally] of this.tallies) {
      if (tally.repeats > 0) this.o.logger.warn({ reason, repeats: tally.repeats, examples: tally.examples }, `${this.o.message}: ${tally.repeats} more with this reason`);
    }
    this.tallies.clear();
  }

  /** Writes the last summaries and stops the periodic flush. */
  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
