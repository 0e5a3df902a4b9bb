/**
 * The third party of the pipeline benchmark: answers every `POST /orders` with 201 as soon as it
 * has read the body, and counts the requests and their distinct Idempotency-Keys. `POST
 * /limited-orders` is the same third party with a capacity: a token bucket of $CAPACITY_PER_S
 * requests per second holding a quarter second of them; a request over it gets 429 with
 * `Retry-After: 1`, counted as `throttled`. It is also the webhook receiver: `POST /webhooks` gets
 * 204, counted with its distinct `webhook-id`s and the time of the last one (`GET /stats`, zeroed
 * by `POST /reset`). Listens on 127.0.0.1:$PORT; exits on SIGTERM.
 */
import http from 'node:http';

const port = Number(process.env.PORT ?? 0);
let requests = 0;
const keys = new Set<string>();
let webhooks = 0;
const webhookIds = new Set<string>();
let lastWebhookAt: number | null = null;
let throttled = 0;

const capacityPerS = Number(process.env.CAPACITY_PER_S ?? 1000);
const bucketSize = capacityPerS / 4;
let tokens = bucketSize;
let filledAt = performance.now();

/** Takes a token from the bucket, refilled at the capacity; false when it is empty. */
function takeToken(): boolean {
  const now = performance.now();
  tokens = Math.min(bucketSize, tokens + ((now - filledAt) / 1000) * capacityPerS);
  filledAt = now;
  if (tokens < 1) return false;
  tokens -= 1;
  return true;
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    if (req.method === 'POST' && (req.url === '/orders' || req.url === '/limited-orders')) {
      if (req.url === '/limited-orders' && !takeToken()) {
        throttled += 1;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"message":"Too Many Requests"}');
        return;
      }
      requests += 1;
      const key = req.headers['idempotency-key'];
      if (typeof key === 'string') keys.add(key);
      return reply(res, 201, { status: 'accepted' });
    }
    if (req.method === 'POST' && req.url === '/webhooks') {
      webhooks += 1;
      const id = req.headers['webhook-id'];
      if (typeof id === 'string') webhookIds.add(id);
      lastWebhookAt = Date.now();
      return res.writeHead(204).end();
    }
    if (req.method === 'GET' && req.url === '/stats') return reply(res, 200, { requests, distinctKeys: keys.size, webhooks, distinctWebhookIds: webhookIds.size, lastWebhookAt, throttled });
    if (req.method === 'POST' && req.url === '/reset') {
      requests = 0;
      keys.clear();
      webhooks = 0;
      webhookIds.clear();
      lastWebhookAt = null;
      throttled = 0;
      tokens = bucketSize;
      filledAt = performance.now();
      return reply(res, 200, { requests });
    }
    if (req.method === 'GET' && req.url === '/health') return reply(res, 200, { status: 'ok' });
    reply(res, 404, { message: 'not found' });
  });
});
// Longer than the worker's keep-alive, so that the server never closes a socket the client is about to reuse.
server.keepAliveTimeout = 60_000;

server.listen(port, '127.0.0.1');
const shutdown = () => server.close(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
