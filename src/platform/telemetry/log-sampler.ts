import { systemRandom, type Random } from '../clock.js';

/**
 * Keeps about `rate` (0..1) of the routine lines it is asked about: 1 keeps every one, 0 none.
 * The lines that matter (failures, slow responses) are never asked about: callers log them always.
 */
export class LogSampler {
  constructor(
    readonly rate: number,
    private readonly random: Random = systemRandom,
  ) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`a log sampling rate is between 0 and 1, got ${rate}`);
  }

  keep(): boolean {
    if (this.rate >= 1) return true;
    if (this.rate <= 0) return false;
    return this.random() < this.rate;
  }
}

export const KEEP_EVERY_LINE = new LogSampler(1);
