import type { Database } from '../../platform/db/database.js';
import { GoneError, ValidationError } from '../../platform/errors/domain-errors.js';
import { changedKeysAfter, findChangedPornstars, findTombstones, readChangeHead, type ChangePosition } from '../catalog-changes.repository.js';
import { decodeCursor, encodeCursor } from './change-cursor.js';
import type { PornstarGraph } from './pornstars.presenter.js';
import { loadGraphs } from './pornstars.service.js';

/** A pornstar that is gone: removed from the feed, or deleted through the API. */
export interface PornstarTombstone {
  id: number;
  external_id: string;
  removed: true;
  /** Epoch ms. */
  removed_at: number;
}

export type PornstarChange = { kind: 'present'; graph: PornstarGraph } | { kind: 'gone'; tombstone: PornstarTombstone };

export interface ChangesPage {
  changes: PornstarChange[];
  /** Where the next page starts; the same cursor again when nothing changed since. */
  nextCursor: string;
  /** More changes are waiting: ask again with `nextCursor` at once. */
  hasMore: boolean;
}

const malformed = () => new ValidationError({ changed_since: ['The changed_since cursor is malformed: use 0 or a next_cursor this API returned.'] });

/**
 * Delta sync: the pornstars created, updated or removed after a cursor, by (change sequence
 * number, id). A change of a pornstar's aliases, thumbnails, URLs or their image state is a change
 * of the pornstar, which comes whole. Paging by `next_cursor` never skips a change, whatever
 * commits between two pages: writers commit in sequence order (see `takeChangeSeq`).
 */
export class PornstarChangesService {
  constructor(private readonly database: Database) {}

  async after(cursorText: string, limit: number): Promise<ChangesPage> {
    const cursor = decodeCursor(cursorText);
    if (!cursor) throw malformed();
    return this.database.readStale(async (db) => {
      const head = await readChangeHead(db);
      if (cursor.epoch !== null && cursor.epoch !== head.epoch) throw new GoneError('The changed_since cursor belongs to another catalog: sync again from changed_since=0.');
      if (cursor.seq < head.prunedSeq && cursor.epoch !== null) {
        throw new GoneError('The changed_since cursor has expired: deletions it has not seen are no longer kept. Sync again from changed_since=0.');
      }
      const keys = await changedKeysAfter(db, cursor, limit + 1);
      const page = keys.slice(0, limit);
      const liveIds = page.filter((key) => !key.deleted).map((key) => key.id);
      const [rows, tombstones] = await Promise.all([findChangedPornstars(db, liveIds), findTombstones(db, page.filter((key) => key.deleted).map((key) => key.id))]);
      const graphs = new Map((await loadGraphs(db, rows.filter((row) => row.removed_at === null))).map((graph) => [graph.pornstar.id, graph]));
      const removed = new Map(rows.filter((row) => row.removed_at !== null).map((row) => [row.id, row]));
      const deleted = new Map(tombstones.map((tombstone) => [tombstone.pornstar_id, tombstone]));
      const changes: PornstarChange[] = [];
      for (const key of page) {
        const graph = graphs.get(key.id);
        const gone = removed.get(key.id) ?? deleted.get(key.id);
        // A row deleted since the keys were read has a tombstone later in the sequence: it comes then.
        if (graph) changes.push({ kind: 'present', graph });
        else if (gone) changes.push({ kind: 'gone', tombstone: { id: key.id, external_id: gone.external_id, removed: true, removed_at: Number(gone.removed_at) } });
      }
      const last: ChangePosition = page.at(-1) ?? cursor;
      return { changes, nextCursor: encodeCursor(head.epoch, { seq: last.seq, id: last.id }), hasMore: keys.length > limit };
    });
  }
}
