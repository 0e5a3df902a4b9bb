import type { CompiledQuery, DialectAdapter, Kysely } from 'kysely';
import type { Executor } from './database.js';
import { supportsReturning } from './returning.js';

const MARK = '\u0000kysely-bulk\u0000';

/**
 * Multi-row INSERTs into one table with a fixed column list, built and compiled once per dialect
 * and row count. Up to 32 rows go in one statement; more are sent in chunks whose sizes are
 * powers of two (at most `maxRows`), so a few dozen statements serve any number of rows: building
 * one with Kysely per call costs more than running it, and SQLite keeps one prepared statement
 * per distinct text.
 */
export class BulkInsert<Row extends Record<string, unknown>, Returned extends Record<string, unknown> = Record<string, never>> {
  private readonly templates = new WeakMap<DialectAdapter, Map<number, CompiledQuery>>();

  constructor(
    private readonly table: string,
    private readonly columns: ReadonlyArray<keyof Row & string>,
    private readonly options: {
      returning?: ReadonlyArray<keyof Returned & string>;
      /** Skips rows that conflict on these columns (ON CONFLICT DO NOTHING; not on MySQL, where it throws). `returning` then lists only the rows inserted. */
      skipConflictsOn?: ReadonlyArray<keyof Row & string>;
      /** Skips rows that violate any unique index (ON CONFLICT DO NOTHING; MySQL: INSERT IGNORE). Not with `returning`. */
      ignoreConflicts?: boolean;
      /**
       * Where the engine has no RETURNING (MySQL): the unique columns by which the inserted rows
       * are selected again to return them. Required with `returning` on such an engine.
       */
      reselectBy?: ReadonlyArray<keyof Row & string>;
      maxRows?: number;
    } = {},
  ) {
    const maxRows = options.maxRows ?? 256;
    if (options.ignoreConflicts && options.returning) throw new Error('BulkInsert: ignoreConflicts cannot be combined with returning');
    if (!Number.isInteger(Math.log2(maxRows))) throw new Error(`BulkInsert maxRows must be a power of two, not ${maxRows}`);
  }

  /** Inserts `rows`; with `returning`, resolves to the returned columns of every inserted row (in no promised order). */
  async insert(db: Executor, rows: readonly Row[]): Promise<Returned[]> {
    const returned: Returned[] = [];
    for (let start = 0; start < rows.length; ) {
      const size = chunkSize(rows.length - start, this.options.maxRows ?? 256);
      const compiled = this.template(db, size);
      const parameters: unknown[] = new Array(size * this.columns.length);
      let p = 0;
      for (let r = start; r < start + size; r++) {
        const row = rows[r]!;
        for (const column of this.columns) parameters[p++] = row[column] ?? null;
      }
      const result = await db.executeQuery<Returned>({ ...compiled, parameters } as CompiledQuery<Returned>);
      const rowsBack = this.options.returning && !supportsReturning(db) ? await this.reselect(db, rows.slice(start, start + size)) : result.rows;
      for (const row of rowsBack) returned.push(row);
      start += size;
    }
    return returned;
  }

  private async reselect(db: Executor, rows: readonly Row[]): Promise<Returned[]> {
    const keys = this.options.reselectBy;
    if (!keys || keys.length === 0) throw new Error(`BulkInsert into ${this.table}: this engine has no RETURNING; give reselectBy`);
    return (await (db as Kysely<any>)
      .selectFrom(this.table)
      .select(this.options.returning as string[])
      .where((eb) => eb.or(rows.map((row) => eb.and(keys.map((key) => eb(key, '=', row[key] as never))))))
      .execute()) as Returned[];
  }

  private template(db: Executor, rows: number): CompiledQuery {
    const adapter = db.getExecutor().adapter;
    let bySize = this.templates.get(adapter);
    if (!bySize) this.templates.set(adapter, (bySize = new Map()));
    let compiled = bySize.get(rows);
    if (!compiled) {
      compiled = this.compile(db, rows);
      bySize.set(rows, compiled);
    }
    return compiled;
  }

  private compile(db: Kysely<any>, rows: number): CompiledQuery {
    const values = Array.from({ length: rows }, (_, r) => Object.fromEntries(this.columns.map((column, c) => [column, `${MARK}${r * this.columns.length + c}`])));
    let insert = db.insertInto(this.table).values(values);
    const conflictColumns = this.options.skipConflictsOn;
    if (conflictColumns && !supportsReturning(db)) throw new Error(`BulkInsert into ${this.table}: skipConflictsOn needs ON CONFLICT, which this engine (MySQL) lacks`);
    if (conflictColumns) insert = insert.onConflict((oc) => oc.columns(conflictColumns as string[]).doNothing());
    if (this.options.ignoreConflicts) insert = supportsReturning(db) ? insert.onConflict((oc) => oc.doNothing()) : insert.ignore();
    const compiled = (this.options.returning && supportsReturning(db) ? insert.returning(this.options.returning as string[]) : insert).compile();
    const inOrder = compiled.parameters.length === values.length * this.columns.length && compiled.parameters.every((value, i) => value === `${MARK}${i}`);
    if (!inOrder) throw new Error(`BulkInsert into ${this.table}: the compiled parameters are not in row and column order`);
    return compiled;
  }
}

/** Up to this many rows go in one statement of their exact size: the batches of group commit are mostly this small. */
const EXACT_ROWS = 32;

/** `remaining` itself when small, else the largest power of two that is at most `remaining` and `maxRows`. */
function chunkSize(remaining: number, maxRows: number): number {
  if (remaining >= maxRows) return maxRows;
  if (remaining <= EXACT_ROWS) return remaining;
  return 2 ** Math.floor(Math.log2(remaining));
}
