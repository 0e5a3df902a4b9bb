import type { ConfirmChannel, Message, Options } from 'amqplib';
import type { Logger } from 'pino';
import type { Random } from '../../clock.js';
import type { AmqpConnection } from './amqp-connection.js';
import { backoffMs, delay, withTimeout } from './amqp-timing.js';

export interface AmqpPublisherOptions {
  connection: AmqpConnection;
  logger: Logger;
  /** Tries per message before `publish` rejects. */
  attempts: number;
  /** Bound on one try: waiting for a channel (e.g. during a reconnect) plus the broker's confirm. */
  attemptTimeoutMs: number;
  random: Random;
  /** Called before retrying a message the broker returned because no queue had its routing key. */
  onUnroutable: (routingKey: string) => Promise<void>;
}

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2_000;

/**
 * Publishes through one confirm channel on the shared connection. A publish resolves only once
 * the broker confirmed it; a nack, a return (no such queue), a closed channel or connection, or a
 * try that outlives its timeout is retried with backoff on a fresh channel, and after the last try
 * the publish rejects. A retried message may reach the queue twice, never zero times.
 */
export class AmqpPublisher {
  private channel: Promise<ConfirmChannel> | undefined;
  /** Messages the broker returned as unroutable; their confirm follows the return. */
  private readonly returned = new Set<string>();

  constructor(private readonly o: AmqpPublisherOptions) {}

  async publish(routingKey: string, body: Buffer, options: Options.Publish): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await withTimeout(this.publishOnce(routingKey, body, options), this.o.attemptTimeoutMs, `publish to ${routingKey}`);
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (attempt >= this.o.attempts) {
          throw new Error(`AMQP publish to "${routingKey}" failed after ${attempt} attempts: ${message}`, { cause: error });
        }
        this.o.logger.warn({ err: error, routingKey, attempt }, 'AMQP publish not confirmed; retrying');
        if (error instanceof UnroutableError) await this.o.onUnroutable(routingKey).catch(() => undefined);
        await delay(backoffMs(attempt, RETRY_BASE_MS, RETRY_MAX_MS, this.o.random));
      }
    }
  }

  async close(): Promise<void> {
    const channel = await this.channel?.catch(() => undefined);
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private async publishOnce(routingKey: string, body: Buffer, options: Options.Publish): Promise<void> {
    const channel = await this.confirmChannel();
    const key = returnKey(routingKey, options.messageId);
    await new Promise<void>((resolve, reject) => {
      try {
        channel.publish('', routingKey, body, { ...options, mandatory: true }, (err: unknown) => {
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else if (this.returned.delete(key)) reject(new UnroutableError(routingKey));
          else resolve();
        });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  private confirmChannel(): Promise<ConfirmChannel> {
    this.channel ??= this.openChannel().catch((error: unknown) => {
      this.channel = undefined;
      throw error;
    });
    return this.channel;
  }

  private async openChannel(): Promise<ConfirmChannel> {
    const channel = await this.o.connection.createConfirmChannel();
    const opened = this.channel;
    channel.on('return', (message: Message) => this.returned.add(returnKey(message.fields.routingKey, message.properties.messageId as string | undefined)));
    channel.on('close', () => {
      if (this.channel === opened) this.channel = undefined;
      this.returned.clear();
    });
    return channel;
  }
}

class UnroutableError extends Error {
  constructor(routingKey: string) {
    super(`the broker has no queue "${routingKey}"`);
  }
}

function returnKey(routingKey: string, messageId: string | undefined): string {
  return `${routingKey}\n${messageId ?? ''}`;
}
