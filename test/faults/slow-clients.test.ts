import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, orderBody, type TestApp, type TestUser } from '../support/app.js';
import { listenOnLoopback, send } from '../support/raw-http.js';

/**
 * Clients that send their request a byte at a time (slowloris): the server must close them once
 * the headers (or the whole request) take longer than the configured timeouts, and answer everyone
 * else meanwhile. Short timeouts keep the file lean; production's are in config.ts.
 */

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
/** Beyond a timeout: Node checks them at a quarter of the headers timeout; a loaded machine adds its delay. */
const SLACK_MS = 1500;

let t: TestApp;
let u: TestUser;
let origin: string;
let port: number;

beforeAll(async () => {
  t = await createTestApp({ env: { HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), DUPLICATE_WINDOW_SECONDS: '0' } });
  u = await t.user('slow');
  ({ origin, port } = await listenOnLoopback(t.app));
});
afterAll(() => t.close());

interface Trickler {
  socket: net.Socket;
  openedAt: number;
  closedAt?: number;
  received: string;
}

/** `count` connections that send `prefix` at once, then `text` one byte per `intervalMs`. */
function trickle(count: number, prefix: string, text: string, intervalMs: number): { clients: Trickler[]; stop: () => void } {
  const clients = Array.from({ length: count }, () => {
    const client: Trickler = { socket: net.connect(port, '127.0.0.1'), openedAt: performance.now(), received: '' };
    client.socket.on('data', (chunk: Buffer) => (client.received += chunk.toString('latin1')));
    client.socket.on('error', () => undefined);
    client.socket.on('close', () => (client.closedAt = performance.now()));
    if (prefix) client.socket.write(prefix);
    return client;
  });
  let sent = 0;
  const next = () => {
    const byte = text[sent++ % text.length]!;
    for (const client of clients) if (client.closedAt === undefined) client.socket.write(byte);
  };
  next();
  const timer = setInterval(next, intervalMs);
  return {
    clients,
    stop: () => {
      clearInterval(timer);
      for (const client of clients) client.socket.destroy();
    },
  };
}

async function untilClosed(clients: Trickler[], deadlineMs: number): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (clients.some((c) => c.closedAt === undefined) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('slow clients', () => {
  it('200 connections sending a header byte per second do not starve the API, and are closed after the headers timeout', async () => {
    const slow = trickle(200, '', 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: yes\r\n\r\n', 1000);
    try {
      const latencies: number[] = [];
      for (let i = 0; i < 10; i++) {
        const order = await send(`${origin}/api/orders`, { method: 'POST', headers: { ...u.auth, 'content-type': 'application/json' }, body: JSON.stringify(orderBody()) });
        expect(order.status).toBe(201);
        latencies.push(order.ms);
      }
      expect(latencies.sort((a, b) => a - b)[5]).toBeLessThan(100);

      await untilClosed(slow.clients, HEADERS_TIMEOUT_MS + SLACK_MS + 1000);
      const open = slow.clients.filter((c) => c.closedAt === undefined).length;
      expect(open, 'connections still open').toBe(0);
      const slowest = Math.max(...slow.clients.map((c) => c.closedAt! - c.openedAt));
      expect(slowest).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
      expect(slow.clients.filter((c) => c.received.startsWith('HTTP/1.1 408 ')).length).toBeGreaterThan(0);
    } finally {
      slow.stop();
    }
  });

  it('closes a connection whose body arrives slower than the request timeout allows', async () => {
    const body = JSON.stringify(orderBody({ padding: 'x'.repeat(200) }));
    const headers = `POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${u.auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const slow = trickle(5, headers, body, 100);
    try {
      await untilClosed(slow.clients, REQUEST_TIMEOUT_MS + SLACK_MS + 1000);
      expect(slow.clients.filter((c) => c.closedAt === undefined).length, 'connections still open').toBe(0);
      const fastest = Math.min(...slow.clients.map((c) => c.closedAt! - c.openedAt));
      expect(fastest).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect((await send(`${origin}/health`)).status).toBe(200);
    } finally {
      slow.stop();
    }
  });
});
