import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import { findDestination, findUnsettledDestinations } from './destinations.repository.js';
import type { DestinationRow } from './outbound.tables.js';

/**
 * This process's copy of the destinations that are not plainly healthy (open, forced, paused,
 * failing), read again at most every `refreshMs` when asked: one small query however many jobs
 * run. A change made by another process is seen within `refreshMs`; this process's own changes
 * are seen at once (`reload`).
 */
export class UnsettledDestinations {
  private rows = new Map<string, DestinationRow>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly refreshMs: number,
    private readonly recoveryMs: number,
  ) {}

  async get(destination: string): Promise<DestinationRow | undefined> {
    if (this.clock.now() - this.loadedAt >= this.refreshMs) await this.refresh();
    return this.rows.get(destination);
  }

  /** Reads one destination's row again after this process changed it. */
  async reload(destination: string): Promise<DestinationRow | undefined> {
    const row = await findDestination(this.database.db, destination);
    if (row) this.rows.set(destination, row);
    else this.rows.delete(destination);
    return row;
  }

  private refresh(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const now = this.clock.now();
        const rows = await findUnsettledDestinations(this.database.db, now, this.recoveryMs);
        this.rows = new Map(rows.map((row) => [row.destination, row]));
        this.loadedAt = now;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}
