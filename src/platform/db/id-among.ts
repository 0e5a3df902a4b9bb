import { sql, type Expression, type SqlBool } from 'kysely';

/**
 * PostgreSQL: `id = any(array(<candidates>))`, for an UPDATE that claims the rows a locking
 * subquery picked. Written as `id in (<candidates>)`, the planner hash-joins a sequential scan of
 * the whole table, dead rows included (4.7–5.8 ms per claim on an outbox of 200 live rows and 60k
 * deleted ones, autovacuum off); with the array it fetches them by primary key (1.3–1.5 ms).
 */
export function idAmong(candidates: Expression<unknown>): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref('id')} = any(array(${candidates}))`;
}
