import http from 'node:http';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface RawResponse {
  /** The status, or the socket error when the server closed the connection before answering. */
  status: number | string;
  body: string;
  ms: number;
}

/** Listens on an ephemeral loopback port and gives the origin. */
export async function listenOnLoopback(app: FastifyInstance): Promise<{ origin: string; port: number }> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { origin: `http://127.0.0.1:${port}`, port };
}

/**
 * One request on a fresh connection, with headers as given (an array value sends the header once
 * per value, which `fetch` and `inject` cannot). It never rejects: a server that answers early
 * and closes while the body is still being written is a result too.
 */
export function send(url: string, options: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; agent?: http.Agent } = {}): Promise<RawResponse> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (status: number | string, body = '') => {
      if (settled) return;
      settled = true;
      resolve({ status, body, ms: performance.now() - started });
    };
    // Node's types allow one Authorization value; at run time an array sends the header once per value.
    const headers = options.headers as http.OutgoingHttpHeaders | undefined;
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => settle(res.statusCode ?? 0, Buffer.concat(chunks).toString()));
      res.on('error', (error: NodeJS.ErrnoException) => settle(res.statusCode ?? error.code ?? 'error'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? 'error'));
    req.end(options.body);
  });
}

/** Writes `text` on a raw TCP connection and gives everything the server sent back until it closed. */
export function exchange(port: number, text: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.end(text);
  });
}
