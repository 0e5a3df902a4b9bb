import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { declarationsOf, DEFAULT_RETRY_TIERS_MS } from '../../src/platform/queue/amqp/amqp-topology.js';
import { ensurePostgresDatabase } from './postgres.js';

export const SCALE_OUT_URLS = {
  postgres: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/intake_bench',
  amqp: process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  redis: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

export interface ScaleOut {
  /** The environment of an intake process on PostgreSQL + RabbitMQ (via the outbox) + Redis. */
  env: Record<string, string>;
  /** Runs a query that returns one row with a numeric `n`. */
  count(sql: string): Promise<number>;
  /** Drops the database, deletes the broker queues and the Redis keys of this run. */
  cleanup(queues: readonly string[]): Promise<void>;
}

/** A fresh PostgreSQL database, broker queue prefix and Redis key prefix for one benchmark row. */
export async function prepareScaleOut(): Promise<ScaleOut> {
  const id = `bench_${process.pid}_${randomUUID().slice(0, 8)}`;
  const url = new URL(SCALE_OUT_URLS.postgres);
  url.pathname = `/${id}`;
  await ensurePostgresDatabase(url.toString());
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  const prefix = `${id}.`;
  return {
    env: {
      DATABASE_URL: url.toString(),
      DATABASE_POOL_MAX: '20',
      QUEUE_DRIVER: 'amqp',
      AMQP_URL: SCALE_OUT_URLS.amqp,
      AMQP_QUEUE_PREFIX: prefix,
      STORE_DRIVER: 'redis',
      REDIS_URL: SCALE_OUT_URLS.redis,
      REDIS_KEY_PREFIX: prefix,
    },
    count: async (sql) => Number((await pool.query<{ n: string }>(sql)).rows[0]?.n ?? 0),
    async cleanup(queues) {
      await pool.end();
      const admin = new URL(url);
      admin.pathname = '/postgres';
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      await client.query(`drop database if exists ${id} with (force)`).finally(() => client.end());
      const connection = await connect(SCALE_OUT_URLS.amqp);
      const channel = await connection.createChannel();
      for (const queue of queues) for (const { name } of declarationsOf(`${prefix}${queue}`, DEFAULT_RETRY_TIERS_MS)) await channel.deleteQueue(name);
      await connection.close();
      const redis = new Redis(SCALE_OUT_URLS.redis);
      for (let cursor = '0'; ; ) {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        if ((cursor = next) === '0') break;
      }
      await redis.quit();
    },
  };
}
