import { connect, type Channel, type ChannelModel, type ConfirmChannel, type RecoveringChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import { withTimeout } from './amqp-timing.js';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface AmqpConnectionOptions {
  url: string;
  logger: Logger;
  /** Shown by the broker (`rabbitmqctl list_connections client_properties`, management UI). */
  name: string;
  /** Reconnect delays grow from `initialDelayMs` to at most `maxDelayMs`. Defaults 100 ms and 5 s. */
  reconnect?: { initialDelayMs: number; maxDelayMs: number };
  /** Unless the URL sets `heartbeat`; a dead peer is noticed after about two of these. Default 15. */
  heartbeatSeconds?: number;
  /** Bound on the topology declarations run on each (re)connect. Default 10 s. */
  setupTimeoutMs?: number;
}

/** Runs on every (re)connect, before any channel is handed out: re-declares topology. */
export type ConnectSetup = (model: ChannelModel) => Promise<void>;

/**
 * The process's one connection to the broker, shared by the publisher and every consumer. It
 * reconnects with capped backoff (amqplib's recovery), runs the setup hooks on each new
 * connection, and logs every change of state. Channels do not survive a reconnect: their owners
 * open new ones, and `createChannel` waits for the connection to come back.
 */
export class AmqpConnection {
  private opening: Promise<RecoveringChannelModel> | undefined;
  private current: ConnectionState = 'idle';
  private blockedReason: string | undefined;
  private readonly setups = new Set<ConnectSetup>();
  private rpcChannel: Promise<Channel> | undefined;

  constructor(private readonly o: AmqpConnectionOptions) {}

  get state(): ConnectionState {
    return this.current;
  }

  addSetup(setup: ConnectSetup): void {
    this.setups.add(setup);
  }

  async createChannel(): Promise<Channel> {
    return this.watch(await (await this.open()).createChannel(), 'channel');
  }

  async createConfirmChannel(): Promise<ConfirmChannel> {
    return this.watch(await (await this.open()).createConfirmChannel(), 'confirm channel');
  }

  /**
   * Runs `fn` on a shared plain channel, for declarations, counts and purges. A channel error
   * (e.g. a queue that does not exist) closes that channel; the next call opens another.
   */
  async withChannel<T>(what: string, fn: (channel: Channel) => Promise<T>, timeoutMs: number): Promise<T> {
    this.rpcChannel ??= this.createChannel().then(
      (channel) => {
        const opened = this.rpcChannel;
        channel.on('close', () => {
          if (this.rpcChannel === opened) this.rpcChannel = undefined;
        });
        return channel;
      },
      (error: unknown) => {
        this.rpcChannel = undefined;
        throw error;
      },
    );
    return withTimeout(this.rpcChannel.then(fn), timeoutMs, what);
  }

  /** Resolves when connected and not blocked by the broker; rejects at once otherwise. */
  async ping(): Promise<void> {
    if (this.current === 'idle') void this.open().catch(() => undefined);
    if (this.current !== 'connected') throw new Error(`AMQP connection is ${this.current === 'idle' ? 'connecting' : this.current}`);
    if (this.blockedReason !== undefined) throw new Error(`AMQP broker blocks publishing: ${this.blockedReason}`);
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.current = 'closed';
    if (!opening) return;
    const model = await opening.catch(() => undefined);
    await model?.close();
    this.o.logger.info('AMQP connection closed');
  }

  private open(): Promise<RecoveringChannelModel> {
    if (this.current === 'closed') return Promise.reject(new Error('AMQP connection is closed'));
    this.opening ??= this.connect();
    return this.opening;
  }

  private async connect(): Promise<RecoveringChannelModel> {
    this.current = 'connecting';
    const { logger } = this.o;
    const model = await connect(withHeartbeat(this.o.url, this.o.heartbeatSeconds ?? 15), {
      clientProperties: { connection_name: this.o.name },
      timeout: 10_000,
      recovery: {
        waitForConnect: false,
        initialDelay: this.o.reconnect?.initialDelayMs ?? 100,
        maxDelay: this.o.reconnect?.maxDelayMs ?? 5_000,
        maxRetries: Infinity,
        setup: (raw: ChannelModel) => withTimeout(this.runSetups(raw), this.o.setupTimeoutMs ?? 10_000, 'AMQP topology setup'),
      },
    });
    model.on('connect', () => {
      logger.info({ state: this.current }, this.current === 'connecting' ? 'AMQP connected' : 'AMQP reconnected');
      this.current = 'connected';
      this.blockedReason = undefined;
    });
    model.on('disconnect', (err: Error) => {
      this.current = 'reconnecting';
      logger.warn({ err }, 'AMQP connection lost; reconnecting');
    });
    model.on('connect-failed', (err: Error) => logger.warn({ err }, 'AMQP connection attempt failed'));
    model.on('reconnect-scheduled', ({ attempt, delay }: { attempt: number; delay: number }) => logger.info({ attempt, delayMs: delay }, 'AMQP reconnect scheduled'));
    model.on('reconnect-failed', (err: Error) => {
      this.current = 'closed';
      logger.error({ err }, 'AMQP reconnection abandoned');
    });
    model.on('blocked', (reason: string) => {
      this.blockedReason = reason;
      logger.warn({ reason }, 'AMQP broker blocked publishing');
    });
    model.on('unblocked', () => {
      this.blockedReason = undefined;
      logger.info('AMQP broker unblocked publishing');
    });
    model.on('error', (err: Error) => logger.warn({ err }, 'AMQP connection error'));
    model.on('handler-error', (err: Error, event: string) => logger.error({ err, event }, 'AMQP connection listener threw'));
    return model;
  }

  private async runSetups(raw: ChannelModel): Promise<void> {
    for (const setup of this.setups) await setup(raw);
  }

  /** An unhandled 'error' event would crash the process; a channel error closes only the channel. */
  private watch<C extends Channel>(channel: C, kind: string): C {
    channel.on('error', (err: Error) => this.o.logger.warn({ err }, `AMQP ${kind} closed by an error`));
    channel.on('handler-error', (err: Error, event: string) => this.o.logger.error({ err, event }, `AMQP ${kind} listener threw`));
    return channel;
  }
}

function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}
