/**
 * A same-work anchor of the catalog benchmark: a bare Fastify app whose `GET /list` answers the
 * JSON body read from BODY_FILE at start, from memory. No logger, schema, database or cache
 * lookup: what serving a body of that size costs on this machine, with nothing else. Listens on
 * 127.0.0.1:$PORT; exits on SIGTERM.
 */
import fs from 'node:fs';
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 0);
const body = fs.readFileSync(process.env.BODY_FILE ?? '', 'utf8');
const app = Fastify({ logger: false });

app.get('/list', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
app.get('/health', async () => ({ status: 'ok' }));

await app.listen({ port, host: '127.0.0.1' });
const shutdown = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
