import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Arrival {
  headers: IncomingHttpHeaders;
  /** The raw body, as the signature covers it. */
  body: string;
  /** Date.now() when the request ended. */
  at: number;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface Receiver {
  url: string;
  port: number;
  arrivals: Arrival[];
  /** Requests being answered (or held) now, and the most there ever were at once. */
  open(): number;
  maxOpen(): number;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1:0 that records every request and answers as `reply` says (`index` from 0). */
export async function startReceiver(reply: (arrival: Arrival, index: number) => Reply = () => ({ status: 204 })): Promise<Receiver> {
  const arrivals: Arrival[] = [];
  let open = 0;
  let maxOpen = 0;
  const server = http.createServer((req, res) => {
    open += 1;
    maxOpen = Math.max(maxOpen, open);
    res.once('close', () => (open -= 1));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const arrival = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      arrivals.push(arrival);
      const answer = reply(arrival, arrivals.length - 1);
      if (answer === 'hang') return;
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    arrivals,
    open: () => open,
    maxOpen: () => maxOpen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
