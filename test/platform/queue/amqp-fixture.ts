import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { pino, type Logger } from 'pino';
import { AmqpQueue, type AmqpQueueOptions } from '../../../src/platform/queue/amqp/amqp-queue.js';
import { declarationsOf } from '../../../src/platform/queue/amqp/amqp-topology.js';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import { serviceUrls } from '../../support/services.js';
import { createTempSqlite, type TempSqlite } from '../../support/driver-sqlite.js';

const run = promisify(execFile);

/** Small tiers, so that retries in tests take milliseconds. */
export const TEST_TIERS_MS = [20, 100, 500, 2_000, 10_000, 60_000];

export interface AmqpFixture {
  queue: AmqpQueue;
  sqlite: TempSqlite;
  /** Every broker queue of this fixture starts with it. */
  prefix: string;
  /** The name the broker shows for the queue's connection. */
  connectionName: string;
  cleanup(): Promise<void>;
}

/** An AMQP queue whose broker queues carry a unique prefix, with a SQLite store for dedupe keys. */
export async function createAmqpFixture(options: Partial<AmqpQueueOptions> = {}): Promise<AmqpFixture> {
  const sqlite = await createTempSqlite('intake-amqp');
  const prefix = `test-${randomUUID().slice(0, 8)}.`;
  const connectionName = `intake-test-${prefix}`;
  const queue = new AmqpQueue({
    url: serviceUrls.rabbitmq,
    logger: pino({ level: 'silent' }),
    defaultMaxAttempts: 5,
    defaultBackoff: { baseMs: 20, maxMs: 1_000 },
    retryTiersMs: TEST_TIERS_MS,
    queuePrefix: prefix,
    connectionName,
    store: new DatabaseStore(sqlite.database),
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    random: () => 0.5,
    ...options,
  });
  let cleaned = false;
  return {
    queue,
    sqlite,
    prefix,
    connectionName,
    cleanup: async () => {
      if (cleaned) return;
      cleaned = true;
      const names = queue.brokerQueues();
      await queue.close();
      await withBroker((channel) => Promise.all(names.map((name) => channel.deleteQueue(name))));
      await sqlite.cleanup();
    },
  };
}

/** Runs `fn` on a channel of a short-lived connection of its own. */
export async function withBroker<T>(fn: (channel: Channel, connection: ChannelModel) => Promise<T>): Promise<T> {
  const connection = await connect(serviceUrls.rabbitmq);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return await fn(channel, connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Deletes every broker queue declared for these job queues under `prefix`: main, retry tiers and parked. */
export async function deleteJobQueues(prefix: string, queues: readonly string[], tiersMs: readonly number[] = TEST_TIERS_MS): Promise<void> {
  const names = queues.flatMap((queue) => declarationsOf(`${prefix}${queue}`, tiersMs).map((d) => d.name));
  await withBroker((channel) => Promise.all(names.map((name) => channel.deleteQueue(name))));
}

/** Closes the named connection from the broker's side, as an operator or a failing node would. */
export async function closeConnectionOnBroker(connectionName: string): Promise<void> {
  const { stdout } = await run('rabbitmqctl', ['list_connections', '-q', '--no-table-headers', 'pid', 'client_properties']);
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${connectionName}"}`))
    .map((line) => line.split('\t')[0]!);
  if (pids.length === 0) throw new Error(`no broker connection named ${connectionName}`);
  for (const pid of pids) await run('rabbitmqctl', ['close_connection', pid, 'closed by a test']);
}

export async function setPolicy(name: string, pattern: string, definition: Record<string, unknown>): Promise<void> {
  await run('rabbitmqctl', ['set_policy', '--apply-to', 'queues', '--priority', '100', name, pattern, JSON.stringify(definition)]);
}

export async function clearPolicy(name: string): Promise<void> {
  await run('rabbitmqctl', ['clear_policy', name]);
}

/** A logger whose messages a test can read. */
export function recordingLogger(level: 'info' | 'warn' = 'warn'): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void messages.push((JSON.parse(line) as { msg: string }).msg) });
  return { logger, messages };
}
