/**
 * The database anchor of the orders benchmark (DESIGN.md §7, issue 11): a bare Fastify app whose
 * POST /api/orders parses the same JSON body and stores it with ONE better-sqlite3 INSERT (one
 * autocommit transaction per request), then answers 201 with the new id. Same pragmas as
 * intake's SQLite (WAL, synchronous=FULL unless $SQLITE_SYNCHRONOUS says otherwise), so every 201
 * is as durable as intake's. No auth, validation, idempotency, items, jobs, logger or schema.
 * Listens on 127.0.0.1:$PORT with its database in $DATA_DIR; exits on SIGTERM.
 */
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 0);
const dataDir = process.env.DATA_DIR;
if (!dataDir) throw new Error('DATA_DIR is required');
const synchronous = process.env.SQLITE_SYNCHRONOUS ?? 'FULL';

const db = new Sqlite(path.join(dataDir, 'anchor.db'));
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous}`);
db.pragma('busy_timeout = 5000');
db.exec(`create table if not exists orders (
  id integer primary key autoincrement,
  client_identity text not null,
  client_contact_point text not null,
  body text not null,
  created_at integer not null
)`);
const insert = db.prepare('insert into orders (client_identity, client_contact_point, body, created_at) values (?, ?, ?, ?)');

interface OrderBody {
  client?: { identity?: string; contact_point?: string };
  contents?: unknown[];
}

const app = Fastify({ logger: false });

app.post('/api/orders', async (request, reply) => {
  const body = (request.body ?? {}) as OrderBody;
  const { lastInsertRowid } = insert.run(body.client?.identity ?? '', body.client?.contact_point ?? '', JSON.stringify(body.contents ?? []), Date.now());
  return reply.code(201).send({ id: Number(lastInsertRowid) });
});
app.get('/health', async () => ({ status: 'ok' }));

await app.listen({ port, host: '127.0.0.1' });
const shutdown = () =>
  void app.close().then(() => {
    db.close();
    process.exit(0);
  });
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
