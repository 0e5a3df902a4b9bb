import { Agent, request, errors as undiciErrors } from 'undici';
import { Deadline } from '../platform/net/deadline.js';
import { parseRetryAfter } from '../platform/net/retry-after.js';

export interface ThirdPartyOrder {
  ProductName: string;
  Price: number;
  Timestamp: string;
}

export interface ThirdPartyResponse {
  statusCode: number;
  retryAfterMs?: number;
  durationMs: number;
}

export class ThirdPartyUnreachableError extends Error {
  constructor(
    message: string,
    readonly durationMs: number,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'ThirdPartyUnreachableError';
  }
}

export interface ThirdPartyClientOptions {
  url: string;
  timeoutMs: number;
  connections?: number;
}

/** POSTs orders to the third party over a pooled keep-alive agent. */
export class ThirdPartyClient {
  private readonly agent: Agent;

  constructor(private readonly o: ThirdPartyClientOptions) {
    this.agent = new Agent({ connections: o.connections ?? 64, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs, keepAliveTimeout: 10_000 });
  }

  async send(order: ThirdPartyOrder, headers: { idempotencyKey: string; traceparent?: string }, signal?: AbortSignal): Promise<ThirdPartyResponse> {
    const started = performance.now();
    const deadline = new Deadline(this.o.timeoutMs, signal);
    try {
      const response = await request(this.o.url, {
        method: 'POST',
        dispatcher: this.agent,
        body: JSON.stringify(order),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'idempotency-key': headers.idempotencyKey,
          ...(headers.traceparent ? { traceparent: headers.traceparent } : {}),
        },
        signal: deadline.signal,
      });
      await response.body.dump();
      return {
        statusCode: response.statusCode,
        retryAfterMs: parseRetryAfter(response.headers['retry-after'], Date.now()),
        durationMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      const timedOut = deadline.expired || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError;
      const reason = timedOut ? `timed out after ${this.o.timeoutMs} ms` : error instanceof Error ? error.message : String(error);
      throw new ThirdPartyUnreachableError(`third party unreachable: ${reason}`, durationMs, timedOut);
    } finally {
      deadline.clear();
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
