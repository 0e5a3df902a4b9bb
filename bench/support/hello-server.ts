/**
 * The anchor of the orders benchmark: a bare Fastify app on the same machine, with one POST
 * route that parses the JSON body and answers a small JSON object. No logger, no schema, no
 * database. Listens on 127.0.0.1:$PORT; exits on SIGTERM.
 */
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 0);
const app = Fastify({ logger: false });

app.post('/api/orders', async (request, reply) => {
  const body = request.body as { contents?: unknown[] } | undefined;
  return reply.code(201).send({ message: 'hello', items: Array.isArray(body?.contents) ? body.contents.length : 0 });
});
app.get('/health', async () => ({ status: 'ok' }));

await app.listen({ port, host: '127.0.0.1' });
const shutdown = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
