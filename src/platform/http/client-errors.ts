import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';

interface ClientError extends Error {
  code?: string;
}

/**
 * Answers a request that Node's HTTP parser refused (a bad header, headers too large, a client too
 * slow to send its headers) as Fastify would, but logs only the error's code and message: the
 * parser's error carries the raw bytes received (`rawPacket`), bearer tokens and passwords included.
 */
export function clientErrorHandler(this: { log: FastifyBaseLogger }, error: ClientError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  this.log.debug({ clientError: { code: error.code, message: error.message }, statusCode: status }, 'client error');
  // As Node does: no answer of our own in the middle of a response already under way.
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !response?.headersSent) {
    const body = JSON.stringify({ message: status === 408 ? 'Request timeout.' : status === 431 ? 'The request headers are too large.' : 'Bad request.' });
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
