import { Agent, errors as undiciErrors, request } from 'undici';
import { Deadline } from '../platform/net/deadline.js';
import { parseRetryAfter } from '../platform/net/retry-after.js';
import { assertFetchableUrl, BlockedTargetError, guardedConnector, type LookupFunction } from '../platform/net/ssrf.js';

export interface WebhookSenderOptions {
  /** `config.webhooks.timeoutMs`: for the connection, the headers and the body. */
  timeoutMs: number;
  allowHttp: boolean;
  allowPrivateHosts: boolean;
  /** Connections kept per endpoint origin. */
  connectionsPerOrigin: number;
  /** `intake-webhooks/<version>`. */
  userAgent: string;
  /** DNS resolution; replaceable so that tests can answer with any address. */
  resolve?: LookupFunction;
}

export type SendResult =
  /** `location` is set on a 3xx, which is never followed. */
  | { kind: 'answered'; statusCode: number; durationMs: number; retryAfterMs?: number; location?: string }
  /** No answer: a timeout, a refused or reset connection, a DNS failure. Another attempt may pass. */
  | { kind: 'unreachable'; durationMs: number; error: string }
  /** The URL or the address it resolves to is not allowed; no retry can change that until the endpoint does. */
  | { kind: 'refused'; durationMs: number; error: string };

/** What is read of a response body, then dropped: receivers answer with anything. */
const MAX_BODY_BYTES = 64 * 1024;

const ignore = () => undefined;

/**
 * POSTs signed events. Every connection goes through the SSRF guard (the address actually dialled,
 * so DNS that changes after the endpoint was created cannot slip past), redirects are not followed,
 * and one deadline covers connecting, the headers and the body.
 */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(private readonly o: WebhookSenderOptions) {
    this.agent = new Agent({
      connections: o.connectionsPerOrigin,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      keepAliveTimeout: 10_000,
      connect: guardedConnector({ allowPrivateHosts: o.allowPrivateHosts, allowedHosts: [], connectTimeoutMs: o.timeoutMs, resolve: o.resolve }),
    });
  }

  async send(url: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      this.assertDeliverable(url);
    } catch (error) {
      return { kind: 'refused', durationMs: 0, error: `refused: ${(error as Error).message}` };
    }
    const deadline = new Deadline(this.o.timeoutMs, signal);
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        body,
        headers: { 'content-type': 'application/json', 'user-agent': this.o.userAgent, ...headers },
        signal: deadline.signal,
      });
      response.body.on('error', ignore);
      await discard(response.body);
      const { statusCode } = response;
      const location = statusCode >= 300 && statusCode < 400 ? String(response.headers.location ?? '') : undefined;
      return { kind: 'answered', statusCode, durationMs: elapsed(), retryAfterMs: parseRetryAfter(response.headers['retry-after'], Date.now()), ...(location !== undefined && { location }) };
    } catch (error) {
      const blocked = findBlocked(error);
      if (blocked) return { kind: 'refused', durationMs: elapsed(), error: `refused: ${blocked.message}` };
      const timedOut = deadline.expired || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.ConnectTimeoutError;
      return { kind: 'unreachable', durationMs: elapsed(), error: timedOut ? `timed out after ${this.o.timeoutMs} ms` : `network error: ${describe(error)}` };
    } finally {
      deadline.clear();
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private assertDeliverable(url: string): void {
    const parsed = assertFetchableUrl(url, { allowPrivateHosts: this.o.allowPrivateHosts, allowedHosts: [] });
    if (parsed.protocol === 'http:' && !this.o.allowHttp) throw new BlockedTargetError('http:// endpoints are not allowed (WEBHOOK_ALLOW_HTTP is off)');
  }
}

/** Reads and drops up to MAX_BODY_BYTES. The status is the answer: a body that breaks off or trickles past the deadline does not change it. */
async function discard(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<void> {
  let read = 0;
  try {
    for await (const chunk of body) {
      read += chunk.length;
      if (read >= MAX_BODY_BYTES) break;
    }
  } catch {
    // See above.
  } finally {
    body.destroy();
  }
}

/** undici may wrap the connector's error; the guard's refusal is found wherever it sits. */
function findBlocked(error: unknown): BlockedTargetError | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof BlockedTargetError || (e as { code?: string }).code === 'ERR_TARGET_BLOCKED') return e as BlockedTargetError;
  }
  return undefined;
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message;
  return [code, message, detail && detail !== message ? `(${detail})` : undefined].filter(Boolean).join(' ');
}
