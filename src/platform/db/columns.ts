import { sql, type ColumnDataType, type Kysely, type ColumnDefinitionBuilder, type CreateTableBuilder, type Expression } from 'kysely';

type DataTypeExpression = ColumnDataType | Expression<unknown>;
import type { Dialect } from './database.js';

type Modifier = (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;

/**
 * Column types that mean the same on SQLite, PostgreSQL and MySQL, so that one migration set
 * serves every engine. Timestamps are epoch milliseconds, money is integer cents, JSON is text.
 */
export function columnTypes(dialect: Dialect) {
  const bigint: DataTypeExpression = dialect === 'sqlite' ? 'integer' : 'bigint';
  const string = (length = 255) => (dialect === 'sqlite' ? 'text' : (`varchar(${length})` as DataTypeExpression));
  return {
    dialect,
    /** Auto-increment primary key. */
    id<T extends string>(table: CreateTableBuilder<T, never>, name = 'id') {
      if (dialect === 'postgres') return table.addColumn(name, 'bigserial', (c) => c.primaryKey());
      if (dialect === 'mysql') return table.addColumn(name, sql`bigint unsigned`, (c) => c.primaryKey().autoIncrement());
      return table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
    },
    /** A column that references an `id` column. */
    foreignId: (dialect === 'mysql' ? sql`bigint unsigned` : bigint) as DataTypeExpression,
    bigint,
    /** Epoch milliseconds. */
    timestamp: bigint,
    /** Integer cents. */
    money: bigint,
    integer: 'integer' as DataTypeExpression,
    boolean: (dialect === 'postgres' ? 'boolean' : dialect === 'mysql' ? sql`tinyint(1)` : 'integer') as DataTypeExpression,
    /** JSON kept as text, up to 16 MB on MySQL. */
    json: (dialect === 'mysql' ? sql`mediumtext` : 'text') as DataTypeExpression,
    text: (dialect === 'mysql' ? sql`mediumtext` : 'text') as DataTypeExpression,
    string,
    /**
     * A string compared character for character on every engine, for keys the application folds
     * itself (case, accents): MySQL's usual collations (utf8mb4_unicode_ci, …_0900_ai_ci) would
     * fold them again, and differently. SQLite and PostgreSQL compare as given.
     */
    exactString: (length = 255) => (dialect === 'mysql' ? (sql`varchar(${sql.raw(String(length))}) character set utf8mb4 collate utf8mb4_bin` as DataTypeExpression) : string(length)),
    notNull: ((c) => c.notNull()) as Modifier,
    /**
     * A column computed from others by `expression`: stored on PostgreSQL (its only kind) and
     * MySQL, virtual on SQLite (ALTER TABLE cannot add a stored one there). Either can be indexed.
     */
    generated: (expression: Expression<unknown>): Modifier =>
      dialect === 'sqlite' ? (c) => c.generatedAlwaysAs(expression) : (c) => c.generatedAlwaysAs(expression).stored(),
    /** MySQL has no partial (filtered) indexes. */
    partialIndexes: dialect !== 'mysql',
    /** Drops an index of `table`: MySQL names the table of the index it drops; the others refuse the clause. */
    dropIndex: (db: Kysely<any>, name: string, table: string): Promise<unknown> => {
      const drop = db.schema.dropIndex(name);
      return (dialect === 'mysql' ? drop.on(table) : drop).execute();
    },
  };
}

export type ColumnTypes = ReturnType<typeof columnTypes>;
