/**
 * A same-work anchor of the catalog benchmark: a bare Fastify app whose `GET /list` answers the
 * body read from BODY_FILE at start (JSON, or of BODY_TYPE when set), from memory, with the validators intake sends (ETag,
 * Last-Modified, Cache-Control), and a 304 to an If-None-Match naming its ETag. No logger, schema,
 * database or cache lookup: what serving that body, or its 304, costs on this machine with nothing
 * else. Listens on 127.0.0.1:$PORT; exits on SIGTERM.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 0);
const bodyType = process.env.BODY_TYPE;
const bytes = fs.readFileSync(process.env.BODY_FILE ?? '');
// JSON as a string, as intake sends its answers; any other type (an image) as the bytes.
const body = bodyType === undefined ? bytes.toString('utf8') : bytes;
const app = Fastify({ logger: false });

const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
const lastModified = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toUTCString();

app.get('/list', async (request, reply) => {
  void reply.header('etag', etag).header('last-modified', lastModified).header('cache-control', 'public, max-age=5, stale-while-revalidate=30');
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.type(bodyType ?? 'application/json; charset=utf-8').send(body);
});
app.get('/health', async () => ({ status: 'ok' }));

await app.listen({ port, host: '127.0.0.1' });
const shutdown = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
