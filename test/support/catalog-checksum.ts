import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../../src/platform/db/database.js';

/**
 * The catalog as readers see it, table by table: the pornstars no unfinished feed run holds
 * (`pending_run_id` is null), and the aliases, thumbnails and URLs of those.
 */
const VISIBLE: Array<[string, RawBuilder<unknown>]> = [
  ['pornstars', sql`select * from pornstars where pending_run_id is null order by id`],
  ['pornstar_aliases', sql`select a.* from pornstar_aliases a join pornstars p on p.id = a.pornstar_id where p.pending_run_id is null order by a.id`],
  ['pornstar_thumbnails', sql`select t.* from pornstar_thumbnails t join pornstars p on p.id = t.pornstar_id where p.pending_run_id is null order by t.id`],
  [
    'pornstar_thumbnail_urls',
    sql`select u.* from pornstar_thumbnail_urls u join pornstar_thumbnails t on t.id = u.thumbnail_id join pornstars p on p.id = t.pornstar_id
      where p.pending_run_id is null order by u.id`,
  ],
];

/** sha256 of every row readers can see, in id order: any write that changes what they see changes it. */
export async function catalogChecksum(db: Executor): Promise<string> {
  const hash = createHash('sha256');
  for (const [table, query] of VISIBLE) {
    const rows = await query.execute(db);
    hash.update(`${table}:${rows.rows.length}\n`);
    for (const row of rows.rows) hash.update(`${JSON.stringify(row)}\n`);
  }
  return hash.digest('hex');
}
