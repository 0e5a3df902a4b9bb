import type { Database } from '../../platform/db/database.js';
import { NotFoundError } from '../../platform/errors/domain-errors.js';
import { offsetOf, type PageRequest } from '../../platform/http/pagination.js';
import { countFeedRunChanges, feedRunExists, listFeedRunChanges, type FeedRunChangeRow } from '../feed/feed-run-changes.repository.js';

/**
 * What one feed run changed: the pornstars it created, updated (its content hash differed from
 * the stored one) and removed, recorded in the run's own transaction. Kept as long as tombstones
 * (CATALOG_TOMBSTONE_RETENTION_DAYS).
 */
export class FeedRunChangesService {
  constructor(private readonly database: Database) {}

  async list(runId: number, page: PageRequest): Promise<{ items: FeedRunChangeRow[]; total: number }> {
    return this.database.readStale(async (db) => {
      if (!(await feedRunExists(db, runId))) throw new NotFoundError();
      const [items, total] = await Promise.all([listFeedRunChanges(db, runId, page.perPage, offsetOf(page)), countFeedRunChanges(db, runId)]);
      return { items, total };
    });
  }
}
