import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  body: unknown;
  headers: IncomingHttpHeaders;
  /** When it arrived (Date.now()). */
  at: number;
}

/** An answer, no answer at all (`hang`), or a dropped connection (`reset`: the client sees a network error). */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang' | 'reset';
export type Responder = (request: Received, index: number) => Reply;

export interface FakeThirdParty {
  url: string;
  /** Every request, in arrival order. */
  received: Received[];
  /** How the next requests are answered; `index` counts every request so far, from 0. */
  respond(responder: Responder): void;
  close(): Promise<void>;
}

/** A tiny third party on 127.0.0.1:0 that records what it receives and answers as scripted. */
export async function startFakeThirdParty(responder: Responder = () => ({ status: 201 })): Promise<FakeThirdParty> {
  const received: Received[] = [];
  let current = responder;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: Received = { body: text ? (JSON.parse(text) as unknown) : undefined, headers: req.headers, at: Date.now() };
      received.push(request);
      const reply = current(request, received.length - 1);
      if (reply === 'hang') return;
      if (reply === 'reset') return void req.socket.destroy();
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? '{"status":"ok"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/orders`,
    received,
    respond(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
